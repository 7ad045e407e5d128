"""The language server: open documents in, diagnostics and code actions out (pygls, over stdio).

Documents are analysed when opened, when saved, and after each pause in typing (the unsaved text);
analyses run one at a time on a worker thread, so the server keeps reading messages meanwhile, and an
analysis whose document changed while it ran is dropped (the newer text's is on its way). Nothing a
client sends takes the server down: every handler reports its own failure in the client's log and
the next request is answered as usual.
"""

from __future__ import annotations

import asyncio
import logging
import traceback
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional, TypeVar
from urllib.parse import unquote, urlparse

from lsprotocol import types
from pygls.lsp.server import LanguageServer
from pygls.uris import to_fs_path
from pygls.workspace import TextDocument

from bnlint import __version__
from bnlint.server.actions import ActionBuilder, Snapshot
from bnlint.server.analysis import analyse, analyse_notebook, notebook_cells
from bnlint.server.context import ContextCache
from bnlint.server.convert import Coordinates, to_lsp_diagnostic

#: How long a document must rest after a change before its unsaved text is analysed.
DEBOUNCE_SECONDS = 0.25
PYTHON_SUFFIXES = (".py", ".pyi")

T = TypeVar("T")
logger = logging.getLogger("bnlint.server")


@dataclass(frozen=True)
class Capture:
    """What to analyse, copied from the workspace at one moment: a text document, or a notebook
    with the text of each of its Python cells."""

    uri: str
    version: Optional[int]
    path: Optional[Path]
    texts: dict[str, str]
    versions: dict[str, Optional[int]]
    #: For a notebook: (cell uri, whether it is a Python code cell) in the notebook's order.
    cells: Optional[tuple[tuple[str, bool], ...]] = None


def _path_of(uri: str) -> Optional[Path]:
    """The file behind a ``file:`` URI (None for an unsaved buffer or a notebook cell)."""
    if urlparse(uri).scheme != "file":
        return None
    path = to_fs_path(uri)
    return Path(path) if path else None


def _name_of(uri: str, path: Optional[Path]) -> str:
    return str(path) if path is not None else uri


class BnlintLanguageServer(LanguageServer):
    """bnlint's language server: the state of the open documents and their latest analyses."""

    def __init__(self) -> None:
        notebooks = types.NotebookDocumentSyncOptions(
            notebook_selector=[
                types.NotebookDocumentFilterWithCells(
                    cells=[types.NotebookCellLanguage(language="python")]
                )
            ],
            save=True,
        )
        # Whole texts on each change: pygls applies incremental changes with str.splitlines, which
        # also breaks lines at form feeds, so a file that holds one would be edited at wrong lines.
        super().__init__(
            "bnlint",
            __version__,
            text_document_sync_kind=types.TextDocumentSyncKind.Full,
            notebook_document_sync=notebooks,
        )
        self.contexts = ContextCache()
        self.snapshots: dict[str, Snapshot] = {}
        self.pending: dict[str, asyncio.Task[Any]] = {}
        self.executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="bnlint-analysis")
        self.published_cells: dict[str, set[str]] = {}
        self.reported_errors: set[str] = set()

    # -- the client --------------------------------------------------------------------------

    def log(self, message: str, kind: types.MessageType = types.MessageType.Info) -> None:
        """A line in the client's log of this server."""
        self.window_log_message(types.LogMessageParams(type=kind, message=message))

    def report_server_error(self, error: Exception, source: Any) -> None:
        """pygls's own errors (a message that cannot be read, a handler that raised) go to the log,
        not to a pop-up: the server carries on."""
        self.log(f"bnlint server: {type(error).__name__}: {error}", types.MessageType.Error)

    def units(self, text: str) -> int:
        """The length of ``text`` in the position encoding agreed with the client."""
        return self.workspace.position_codec.client_num_units(text)

    def _capability(self, *names: str) -> Any:
        value: Any = self.client_capabilities
        for name in names:
            value = getattr(value, name, None)
            if value is None:
                return None
        return value

    def action_builder(self, snapshot: Snapshot) -> ActionBuilder:
        """Code actions of a snapshot, in the shape this client accepts."""
        document_changes = bool(self._capability("workspace", "workspace_edit", "document_changes"))
        return ActionBuilder(snapshot, self.units, document_changes)

    @property
    def resolves_edits(self) -> bool:
        """Whether the client asks ``codeAction/resolve`` for an action's edit."""
        properties = self._capability(
            "text_document", "code_action", "resolve_support", "properties"
        )
        return bool(properties) and "edit" in properties

    @property
    def watches_files(self) -> bool:
        """Whether the client can be asked to report changes of files on disk."""
        return bool(
            self._capability("workspace", "did_change_watched_files", "dynamic_registration")
        )

    # -- the documents -----------------------------------------------------------------------

    def _document(self, uri: str) -> Optional[TextDocument]:
        return self.workspace.text_documents.get(unquote(uri))

    def owner_of(self, uri: str) -> str:
        """The notebook a cell belongs to, or the document itself."""
        notebook = self.workspace.get_notebook_document(cell_uri=uri)
        return notebook.uri if notebook is not None else uri

    def open_uris(self) -> list[str]:
        """Every open document and notebook that is analysed."""
        uris = [nb.uri for nb in self.workspace.notebook_documents.values()]
        for document in list(self.workspace.text_documents.values()):
            if self.workspace.get_notebook_document(cell_uri=document.uri) is None:
                uris.append(document.uri)
        return uris

    def capture(self, uri: str) -> Optional[Capture]:
        """What to analyse for ``uri`` now, or None when it is not an open Python document."""
        notebook = self.workspace.get_notebook_document(notebook_uri=uri)
        if notebook is not None:
            texts: dict[str, str] = {}
            versions: dict[str, Optional[int]] = {}
            cells: list[tuple[str, bool]] = []
            for cell in notebook.cells:
                document = self._document(cell.document)
                if document is None:
                    continue
                is_code = cell.kind == types.NotebookCellKind.Code and "python" in (
                    document.language_id or "python"
                )
                cells.append((cell.document, is_code))
                if is_code:
                    texts[cell.document] = document.source
                    versions[cell.document] = document.version
            path = _path_of(notebook.uri)
            return Capture(uri, notebook.version, path, texts, versions, tuple(cells))
        document = self._document(uri)
        if document is None:
            return None
        path = _path_of(uri)
        is_python = "python" in (document.language_id or "") or (
            path is not None and path.suffix in PYTHON_SUFFIXES
        )
        if not is_python:
            return None
        return Capture(uri, document.version, path, {uri: document.source}, {uri: document.version})

    def current_version(self, uri: str) -> Optional[int]:
        """The version of an open document or notebook now (None once closed)."""
        notebook = self.workspace.get_notebook_document(notebook_uri=uri)
        if notebook is not None:
            return notebook.version
        document = self._document(uri)
        return document.version if document is not None else None

    # -- analysis ----------------------------------------------------------------------------

    def analyse_capture(self, capture: Capture) -> Snapshot:
        """Analyse a capture (on the worker thread): settings, then the one analysis function."""
        context = self.contexts.context_for(capture.path, _name_of(capture.uri, capture.path))
        if capture.cells is None:
            text = capture.texts[capture.uri]
            found = {capture.uri: analyse(text, context)}
            return Snapshot(
                capture.uri, capture.version, context, capture.texts, capture.versions, found
            )
        kinds_and_texts = [(is_code, capture.texts.get(uri, "")) for uri, is_code in capture.cells]
        cells = notebook_cells(kinds_and_texts)
        cell_uris = {number: uri for number, (uri, _) in enumerate(capture.cells, start=1)}
        by_cell = analyse_notebook(cells, context).by_cell
        found = {cell_uris[number]: diagnostics for number, diagnostics in by_cell.items()}
        return Snapshot(
            capture.uri,
            capture.version,
            context,
            capture.texts,
            capture.versions,
            found,
            cells,
            cell_uris,
        )

    async def in_worker(self, function: Callable[..., T], *arguments: Any) -> T:
        """``function(*arguments)`` on the analysis thread (the event loop keeps serving)."""
        return await asyncio.get_running_loop().run_in_executor(self.executor, function, *arguments)

    async def refresh(self, uri: str) -> Optional[Snapshot]:
        """Analyse ``uri`` now and publish its diagnostics, unless it changed meanwhile."""
        capture = self.capture(uri)
        if capture is None:
            return None
        snapshot = await self.in_worker(self.analyse_capture, capture)
        if self.current_version(uri) != capture.version:
            return None
        self.snapshots[uri] = snapshot
        self.publish(snapshot)
        return snapshot

    async def snapshot_for(self, uri: str) -> Optional[Snapshot]:
        """The analysis of the document (or of the notebook of the cell) ``uri`` as it is now."""
        owner = self.owner_of(uri)
        snapshot = self.snapshots.get(owner)
        if snapshot is not None and snapshot.version == self.current_version(owner):
            return snapshot
        capture = self.capture(owner)
        if capture is None:
            return None
        snapshot = await self.in_worker(self.analyse_capture, capture)
        if self.current_version(owner) == capture.version:
            self.snapshots[owner] = snapshot
            self.publish(snapshot)
        return snapshot

    def schedule(self, uri: str, delay: float = 0.0) -> None:
        """Analyse ``uri`` after ``delay`` seconds of rest (a newer change starts the wait again)."""
        previous = self.pending.pop(uri, None)
        if previous is not None:
            previous.cancel()
        self.pending[uri] = asyncio.get_running_loop().create_task(self._after(uri, delay))

    async def _after(self, uri: str, delay: float) -> None:
        try:
            if delay:
                await asyncio.sleep(delay)
            await self.refresh(uri)
        except asyncio.CancelledError:
            raise
        except Exception:
            self.log(
                f"bnlint: analysing {uri} failed:\n{traceback.format_exc()}",
                types.MessageType.Error,
            )

    def publish(self, snapshot: Snapshot) -> None:
        """Send a snapshot's diagnostics, one list per text document (per cell for a notebook)."""
        for uri, text in snapshot.texts.items():
            coordinates = Coordinates(text, self.units)
            found = [to_lsp_diagnostic(d, coordinates) for d in snapshot.diagnostics.get(uri, [])]
            self.text_document_publish_diagnostics(
                types.PublishDiagnosticsParams(
                    uri=uri, diagnostics=found, version=snapshot.versions.get(uri)
                )
            )
        if snapshot.is_notebook:
            gone = self.published_cells.get(snapshot.uri, set()) - set(snapshot.texts)
            self.clear(gone)
            self.published_cells[snapshot.uri] = set(snapshot.texts)
        error = snapshot.context.error
        if error is not None and error not in self.reported_errors:
            self.reported_errors.add(error)
            self.window_show_message(
                types.ShowMessageParams(
                    type=types.MessageType.Error, message=f"bnlint configuration error: {error}"
                )
            )

    def clear(self, uris: Any) -> None:
        """Remove the diagnostics of these text documents from the client."""
        for uri in uris:
            self.text_document_publish_diagnostics(
                types.PublishDiagnosticsParams(uri=uri, diagnostics=[])
            )

    def forget(self, uri: str, cell_uris: Any = ()) -> None:
        """A document or notebook was closed: no more analysis, no diagnostics left behind."""
        pending = self.pending.pop(uri, None)
        if pending is not None:
            pending.cancel()
        snapshot = self.snapshots.pop(uri, None)
        cells = set(cell_uris) | self.published_cells.pop(uri, set())
        if snapshot is not None:
            cells |= set(snapshot.texts)
        self.clear(cells or {uri})

    async def settings_changed(self) -> None:
        """A file the settings come from changed: read them again and re-analyse everything open."""
        await self.in_worker(self.contexts.clear)
        for uri in self.open_uris():
            self.schedule(uri)

    def warm_up(self) -> None:
        """Import LibCST and the rules and analyse a small file once, so that the first document
        opened does not wait for them; then collect garbage as rarely as ``bnlint check`` does."""
        from bnlint.engine import LintOptions, lint_text
        from bnlint.runner import tune_garbage_collector

        sample = "from tensorflow import keras\nkeras.layers.Dropout(0.5, trainable=False)\n"
        lint_text(sample, "warm-up.py", LintOptions(keras_version="3"))
        tune_garbage_collector()


def guarded(
    handler: Callable[..., Awaitable[T]],
) -> Callable[..., Awaitable[Optional[T]]]:
    """A handler whose failure is logged (and answered with nothing) instead of raised."""

    async def run(ls: BnlintLanguageServer, params: Any) -> Optional[T]:
        try:
            return await handler(ls, params)
        except Exception:
            ls.log(
                f"bnlint: {handler.__name__} failed:\n{traceback.format_exc()}",
                types.MessageType.Error,
            )
            return None

    run.__name__ = handler.__name__
    return run
