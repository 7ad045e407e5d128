"""A real LSP client (pytest-lsp's, on pygls) driving ``bnlint server`` over stdio, for the server's
tests and the latency benchmark: what an editor does, message by message."""

from __future__ import annotations

import asyncio
import contextlib
import copy
import sys
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any, Optional

from lsprotocol import types
from pygls.uris import from_fs_path
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities
from pytest_lsp.client import DEFAULT_CLIENT_FEATURES, register_lsp_features

#: How long any one wait for the server may take before a test fails (a safety net, not a timing).
PATIENCE_SECONDS = 60.0


class EditorClient(LanguageClient):
    """A client that keeps every diagnostics notification and every registration it receives (and
    wakes whoever waits for one)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.published: list[types.PublishDiagnosticsParams] = []
        self.registrations: list[types.Registration] = []
        self.arrived = asyncio.Event()

    async def until(self, condition: Callable[[], Any]) -> Any:
        """Wait until ``condition()`` is true (checked after every notification); return it."""

        async def wait() -> Any:
            while not (result := condition()):
                self.arrived.clear()
                await self.arrived.wait()
            return result

        return await asyncio.wait_for(wait(), PATIENCE_SECONDS)

    async def cleared(self, uri: str) -> None:
        """Wait until the last diagnostics published for ``uri`` are none."""
        await self.until(
            lambda: (latest := self.latest(uri)) is not None and not latest.diagnostics
        )

    def latest(self, uri: str) -> Optional[types.PublishDiagnosticsParams]:
        """The last diagnostics published for ``uri``."""
        return next((p for p in reversed(self.published) if p.uri == uri), None)

    async def diagnostics_for(
        self, uri: str, version: Optional[int] = None, after: int = 0
    ) -> list[types.Diagnostic]:
        """The diagnostics published for ``uri`` (for ``version``, when given) after the first
        ``after`` notifications."""

        def found() -> Optional[types.PublishDiagnosticsParams]:
            for params in reversed(self.published[after:]):
                if params.uri == uri and (version is None or params.version == version):
                    return params
            return None

        return list((await self.until(found)).diagnostics)

    def open(self, path: Path, text: str, version: int = 1, language: str = "python") -> str:
        """Open a document as an editor does; its URI."""
        uri = from_fs_path(str(path))
        assert uri is not None
        self.text_document_did_open(
            types.DidOpenTextDocumentParams(
                types.TextDocumentItem(uri=uri, language_id=language, version=version, text=text)
            )
        )
        return uri

    def change(self, uri: str, text: str, version: int) -> None:
        """Replace a document's whole (unsaved) text."""
        self.text_document_did_change(
            types.DidChangeTextDocumentParams(
                text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=version),
                content_changes=[types.TextDocumentContentChangeWholeDocument(text=text)],
            )
        )


def _record_diagnostics(client: EditorClient, params: types.PublishDiagnosticsParams) -> None:
    client.diagnostics[params.uri] = params.diagnostics
    client.published.append(params)
    client.arrived.set()


def _record_registration(client: EditorClient, params: types.RegistrationParams) -> None:
    client.registrations.extend(params.registrations)
    client.arrived.set()


def _record_message(client: EditorClient, params: types.ShowMessageParams) -> None:
    client.messages.append(params)
    client.arrived.set()


def _make_client() -> EditorClient:
    from pygls.protocol import default_converter

    client = EditorClient(converter_factory=default_converter)
    features = {
        **DEFAULT_CLIENT_FEATURES,
        types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS: _record_diagnostics,
        types.CLIENT_REGISTER_CAPABILITY: _record_registration,
        types.WINDOW_SHOW_MESSAGE: _record_message,
    }
    register_lsp_features(client, features)
    return client


def editor_capabilities(resolve: bool = True) -> types.ClientCapabilities:
    """VS Code's capabilities (UTF-16 positions, versioned edits, watched files); with
    ``resolve=False``, a client that wants every code action's edit at once."""
    capabilities = copy.deepcopy(client_capabilities("visual-studio-code"))
    if not resolve and capabilities.text_document and capabilities.text_document.code_action:
        capabilities.text_document.code_action.resolve_support = None
    return capabilities


@contextlib.asynccontextmanager
async def bnlint_server(
    root: Path, capabilities: Optional[types.ClientCapabilities] = None
) -> AsyncIterator[EditorClient]:
    """``bnlint server`` started as an editor starts it, initialized with ``root`` as its workspace."""
    config = ClientServerConfig(
        server_command=[sys.executable, "-m", "bnlint", "server"], client_factory=_make_client
    )
    client = await config.start()
    assert isinstance(client, EditorClient)
    try:
        root_uri = from_fs_path(str(root))
        await asyncio.wait_for(
            client.initialize_session(
                types.InitializeParams(
                    capabilities=capabilities or editor_capabilities(),
                    root_uri=root_uri,
                    workspace_folders=[types.WorkspaceFolder(uri=root_uri or "", name="root")],
                )
            ),
            PATIENCE_SECONDS,
        )
        yield client
        await asyncio.wait_for(client.shutdown_session(), PATIENCE_SECONDS)
    finally:
        server = client._server  # the server process (pygls waits for it to exit on stop)
        if server is not None and server.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                server.kill()
        await client.stop()


def apply_edits(text: str, edits: list[types.TextEdit]) -> str:
    """What an editor makes of ``text`` after ``edits`` (UTF-16 positions, LF line breaks)."""
    lines = text.split("\n")

    def offset(position: types.Position) -> int:
        before = sum(len(line) + 1 for line in lines[: position.line])
        line = lines[position.line] if position.line < len(lines) else ""
        units = 0
        for index, character in enumerate(line):
            if units >= position.character:
                return before + index
            units += 2 if ord(character) > 0xFFFF else 1
        return before + len(line)

    for edit in sorted(edits, key=lambda e: (e.range.start.line, e.range.start.character))[::-1]:
        text = text[: offset(edit.range.start)] + edit.new_text + text[offset(edit.range.end) :]
    return text


def edits_of(edit: Optional[types.WorkspaceEdit]) -> dict[str, list[types.TextEdit]]:
    """A workspace edit's text edits by document, whichever of its two shapes it has."""
    assert edit is not None
    if edit.document_changes:
        result: dict[str, list[types.TextEdit]] = {}
        for change in edit.document_changes:
            assert isinstance(change, types.TextDocumentEdit)
            result.setdefault(change.text_document.uri, []).extend(change.edits)  # type: ignore[arg-type]
        return result
    return {uri: list(edits) for uri, edits in (edit.changes or {}).items()}
