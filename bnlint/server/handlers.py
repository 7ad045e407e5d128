"""The protocol messages bnlint's language server answers, each a thin call into the server's state."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Optional

from lsprotocol import types

from bnlint.server.actions import KINDS
from bnlint.server.context import WATCHED_GLOBS
from bnlint.server.language_server import DEBOUNCE_SECONDS, BnlintLanguageServer, guarded


def create_server() -> BnlintLanguageServer:
    """A language server with every feature bnlint offers registered."""
    server = BnlintLanguageServer()
    feature = server.feature

    @feature(types.INITIALIZED)
    @guarded
    async def initialized(ls: BnlintLanguageServer, params: types.InitializedParams) -> None:
        root = ls.workspace.root_path
        if root:
            ls.contexts.fallback_folder = Path(root)
        ls.executor.submit(ls.warm_up)
        if ls.watches_files:
            watchers = [types.FileSystemWatcher(glob_pattern=glob) for glob in WATCHED_GLOBS]
            registration = types.Registration(
                id="bnlint-settings-files",
                method=types.WORKSPACE_DID_CHANGE_WATCHED_FILES,
                register_options=types.DidChangeWatchedFilesRegistrationOptions(watchers=watchers),
            )
            await ls.client_register_capability_async(
                types.RegistrationParams(registrations=[registration])
            )

    @feature(types.TEXT_DOCUMENT_DID_OPEN)
    @guarded
    async def did_open(ls: BnlintLanguageServer, params: types.DidOpenTextDocumentParams) -> None:
        ls.schedule(params.text_document.uri)

    @feature(types.TEXT_DOCUMENT_DID_CHANGE)
    @guarded
    async def did_change(
        ls: BnlintLanguageServer, params: types.DidChangeTextDocumentParams
    ) -> None:
        ls.schedule(params.text_document.uri, DEBOUNCE_SECONDS)

    @feature(types.TEXT_DOCUMENT_DID_SAVE, types.SaveOptions(include_text=False))
    @guarded
    async def did_save(ls: BnlintLanguageServer, params: types.DidSaveTextDocumentParams) -> None:
        ls.schedule(params.text_document.uri)

    @feature(types.TEXT_DOCUMENT_DID_CLOSE)
    @guarded
    async def did_close(ls: BnlintLanguageServer, params: types.DidCloseTextDocumentParams) -> None:
        ls.forget(params.text_document.uri)

    @feature(types.NOTEBOOK_DOCUMENT_DID_OPEN)
    @guarded
    async def notebook_did_open(
        ls: BnlintLanguageServer, params: types.DidOpenNotebookDocumentParams
    ) -> None:
        ls.schedule(params.notebook_document.uri)

    @feature(types.NOTEBOOK_DOCUMENT_DID_CHANGE)
    @guarded
    async def notebook_did_change(
        ls: BnlintLanguageServer, params: types.DidChangeNotebookDocumentParams
    ) -> None:
        uri = params.notebook_document.uri
        structure = params.change.cells.structure if params.change.cells else None
        if structure is not None and structure.did_close:
            ls.clear(cell.uri for cell in structure.did_close)
        ls.schedule(uri, DEBOUNCE_SECONDS)

    @feature(types.NOTEBOOK_DOCUMENT_DID_SAVE)
    @guarded
    async def notebook_did_save(
        ls: BnlintLanguageServer, params: types.DidSaveNotebookDocumentParams
    ) -> None:
        ls.schedule(params.notebook_document.uri)

    @feature(types.NOTEBOOK_DOCUMENT_DID_CLOSE)
    @guarded
    async def notebook_did_close(
        ls: BnlintLanguageServer, params: types.DidCloseNotebookDocumentParams
    ) -> None:
        cells = [cell.uri for cell in params.cell_text_documents]
        ls.forget(params.notebook_document.uri, cells)

    @feature(types.WORKSPACE_DID_CHANGE_WATCHED_FILES)
    @guarded
    async def watched_files_changed(
        ls: BnlintLanguageServer, params: types.DidChangeWatchedFilesParams
    ) -> None:
        await ls.settings_changed()

    @feature(types.WORKSPACE_DID_CHANGE_CONFIGURATION)
    @guarded
    async def configuration_changed(
        ls: BnlintLanguageServer, params: types.DidChangeConfigurationParams
    ) -> None:
        await ls.settings_changed()

    @feature(
        types.TEXT_DOCUMENT_CODE_ACTION,
        types.CodeActionOptions(code_action_kinds=list(KINDS), resolve_provider=True),
    )
    @guarded
    async def code_action(
        ls: BnlintLanguageServer, params: types.CodeActionParams
    ) -> Optional[list[types.CodeAction]]:
        uri = params.text_document.uri
        snapshot = await ls.snapshot_for(uri)
        if snapshot is None or uri not in snapshot.texts:
            return None
        builder = ls.action_builder(snapshot)
        only = params.context.only
        return await ls.in_worker(builder.actions, uri, params.range, only, ls.resolves_edits)

    @feature(types.CODE_ACTION_RESOLVE)
    @guarded
    async def resolve_code_action(
        ls: BnlintLanguageServer, action: types.CodeAction
    ) -> types.CodeAction:
        data: Any = action.data
        uri = data.get("uri") if isinstance(data, dict) else None
        snapshot = await ls.snapshot_for(uri) if isinstance(uri, str) else None
        if snapshot is None:
            return action
        return await ls.in_worker(ls.action_builder(snapshot).resolve_fix_all, action)

    return server
