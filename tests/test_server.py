"""``bnlint server`` end to end: a real LSP client starts it over stdio, as an editor does, and checks
what a user sees: diagnostics as they type, quick fixes, fix-all, ``# noqa``, notebooks, settings."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from lsprotocol import types
from pygls.uris import from_fs_path

from tests.conftest import run_cli
from tests.lsp_client import apply_edits, bnlint_server, editor_capabilities, edits_of
from tests.test_keras_version import TRAIN as UNFREEZE_AFTER_COMPILE

TRAIN = """\
from tensorflow import keras

base = keras.applications.Xception(include_top=False, pooling="avg")
base.trainable = False
inputs = keras.Input((299, 299, 3))
features = keras.layers.Dropout(0.5, trainable=False)(base(inputs))
model = keras.Model(inputs, keras.layers.Dense(1)(features))
model.compile(optimizer="adam", loss="mse")
model.trainable = True
model.compile(optimizer=keras.optimizers.Adam(1e-5), loss="mse")
"""
FINDING_LINE = 5  # 0-based: the Dropout line holds BNL003 (safe fix) and BNL002 (unsafe fix)
CLEAN = "from tensorflow import keras\n\nmodel = keras.Sequential()\n"


def line_range(line: int) -> types.Range:
    return types.Range(types.Position(line, 0), types.Position(line, 0))


async def code_actions(
    client, uri: str, line: int, only: list[str] | None = None
) -> list[types.CodeAction]:
    result = await client.text_document_code_action_async(
        types.CodeActionParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            range=line_range(line),
            context=types.CodeActionContext(diagnostics=[], only=only),
        )
    )
    return list(result or [])


def by_code(diagnostics: list[types.Diagnostic]) -> dict[str, types.Diagnostic]:
    return {str(d.code): d for d in diagnostics}


@pytest.mark.asyncio
async def test_findings_on_open_carry_code_severity_range_rule_name_and_link(
    tmp_path: Path,
) -> None:
    async with bnlint_server(tmp_path) as client:
        uri = client.open(tmp_path / "train.py", TRAIN)
        found = by_code(await client.diagnostics_for(uri, version=1))
    assert set(found) == {"BNL002", "BNL003"}
    dropout = found["BNL003"]
    assert dropout.range == types.Range(
        types.Position(FINDING_LINE, 37), types.Position(FINDING_LINE, 52)
    )
    assert dropout.severity == types.DiagnosticSeverity.Warning
    assert found["BNL002"].severity == types.DiagnosticSeverity.Error
    assert dropout.source == "bnlint"
    assert dropout.data["name"] == "trainable-on-weightless-layer"
    assert dropout.code_description is not None
    assert dropout.code_description.href.endswith("#bnl003-trainable-on-weightless-layer")
    assert "`trainable` on Dropout does nothing" in dropout.message


@pytest.mark.asyncio
async def test_unsaved_changes_are_analysed_after_a_pause_and_closing_clears(
    tmp_path: Path,
) -> None:
    async with bnlint_server(tmp_path) as client:
        uri = client.open(tmp_path / "train.py", CLEAN)
        assert await client.diagnostics_for(uri, version=1) == []
        for version, partial in enumerate(
            ["import tensorflow as tf\n", UNFREEZE_AFTER_COMPILE[:60]], start=2
        ):
            client.change(uri, partial, version)  # typing: these versions are never analysed
        client.change(uri, UNFREEZE_AFTER_COMPILE, 4)
        found = by_code(await client.diagnostics_for(uri, version=4))
        assert set(found) == {"BNL001", "BNL002"}
        assert found["BNL001"].range.start.line == 7  # base.trainable = True, 0-based
        assert {p.version for p in client.published if p.uri == uri} == {1, 4}

        client.text_document_did_close(
            types.DidCloseTextDocumentParams(types.TextDocumentIdentifier(uri=uri))
        )
        await client.cleared(uri)


@pytest.mark.asyncio
async def test_a_file_mid_edit_gives_only_its_parse_error_and_bad_input_never_stops_the_server(
    tmp_path: Path,
) -> None:
    broken = TRAIN.replace('pooling="avg")', 'pooling="avg"')
    async with bnlint_server(tmp_path) as client:
        uri = client.open(tmp_path / "train.py", TRAIN)
        await client.diagnostics_for(uri, version=1)
        client.change(uri, broken, 2)
        [parse_error] = await client.diagnostics_for(uri, version=2)
        assert parse_error.code == "BNL000"
        assert "syntax error" in parse_error.message

        # What no editor should send, and texts that crash naive parsers.
        client.change("file:///nowhere/unknown.py", "x = 1\n", 7)
        assert await code_actions(client, "file:///nowhere/unknown.py", 0) == []
        nested = "import keras\nx = " + "(" * 5000 + ")" * 5000 + "\nx.trainable = False\n"
        for version, text in enumerate([nested, "import keras\0\nx.trainable = 1\n"], start=3):
            client.change(uri, text, version)
            [error] = await client.diagnostics_for(uri, version=version)
            assert error.code == "BNL000"

        client.change(uri, TRAIN, 9)
        assert {d.code for d in await client.diagnostics_for(uri, version=9)} == {
            "BNL002",
            "BNL003",
        }
        assert await code_actions(client, uri, FINDING_LINE)


@pytest.mark.asyncio
async def test_quick_fixes_safe_and_unsafe_and_ignoring_a_finding(tmp_path: Path) -> None:
    async with bnlint_server(tmp_path) as client:
        uri = client.open(tmp_path / "train.py", TRAIN)
        await client.diagnostics_for(uri, version=1)
        actions = {a.title: a for a in await code_actions(client, uri, FINDING_LINE)}
        assert await code_actions(client, uri, 0, only=["quickfix"]) == []
        quick = await code_actions(client, uri, FINDING_LINE, only=["quickfix"])
        assert {a.kind for a in quick} == {"quickfix"} and len(quick) == len(actions) - 1

    safe = actions["Fix BNL003: Remove the `trainable` keyword"]
    assert safe.kind == types.CodeActionKind.QuickFix and safe.is_preferred
    assert [d.code for d in safe.diagnostics or []] == ["BNL003"]
    fixed = apply_edits(TRAIN, edits_of(safe.edit)[uri])
    assert "keras.layers.Dropout(0.5)(base(inputs))" in fixed
    assert fixed.replace("keras.layers.Dropout(0.5)", "") == TRAIN.replace(
        "keras.layers.Dropout(0.5, trainable=False)", ""
    )

    [unsafe] = [a for a in actions.values() if a.title.startswith("Fix BNL002")]
    assert "(unsafe" in unsafe.title and not unsafe.is_preferred
    assert "base(inputs, training=False)" in apply_edits(TRAIN, edits_of(unsafe.edit)[uri])

    ignore = actions["Ignore BNL003 on this line (# noqa: BNL003)"]
    ignored = apply_edits(TRAIN, edits_of(ignore.edit)[uri])
    assert ignored.splitlines()[FINDING_LINE].endswith("(base(inputs))  # noqa: BNL003")
    assert run_cli_codes(tmp_path, ignored) == ["BNL002"]


def run_cli_codes(folder: Path, text: str) -> list[str]:
    """What ``bnlint check`` reports for ``text``: the editor's result must satisfy the CLI too."""
    path = folder / "check_me.py"
    path.write_text(text, encoding="utf-8")
    result = run_cli("check", str(path), "--output-format", "concise", "--no-cache")
    return [line.split()[1] for line in result.output.splitlines() if ": BNL" in line]


@pytest.mark.parametrize("resolve", [True, False], ids=["resolved-later", "edit-at-once"])
@pytest.mark.asyncio
async def test_fix_all_applies_every_safe_fix(tmp_path: Path, resolve: bool) -> None:
    text = TRAIN + "extra = keras.layers.Flatten(trainable=False)\n"
    async with bnlint_server(tmp_path, editor_capabilities(resolve=resolve)) as client:
        uri = client.open(tmp_path / "train.py", text)
        await client.diagnostics_for(uri, version=1)
        [action] = await code_actions(client, uri, 0, only=["source.fixAll"])
        assert action.kind == "source.fixAll.bnlint"
        if resolve:
            assert action.edit is None
            action = await client.code_action_resolve_async(action)
    fixed = apply_edits(text, edits_of(action.edit)[uri])
    assert "trainable=False" not in fixed
    assert "base(inputs)" in fixed  # the unsafe fix waits for unsafe-fixes = true
    assert run_cli_codes(tmp_path, fixed) == ["BNL002"]


NOTEBOOK_CELLS = [
    (types.NotebookCellKind.Markup, "markdown", "# Fine-tuning\n"),
    (types.NotebookCellKind.Code, "python", "%matplotlib inline\nfrom tensorflow import keras\n"),
    (types.NotebookCellKind.Code, "python", TRAIN.split("\n", 2)[2]),
]


@pytest.mark.asyncio
async def test_notebook_cells_get_their_findings_and_fixes(tmp_path: Path) -> None:
    notebook_uri = from_fs_path(str(tmp_path / "train.ipynb"))
    assert notebook_uri is not None
    cell_uris = [f"vscode-notebook-cell:{notebook_uri[5:]}#cell{n}" for n in range(3)]
    cells = [
        types.NotebookCell(kind=kind, document=uri)
        for (kind, _, _), uri in zip(NOTEBOOK_CELLS, cell_uris)
    ]
    documents = [
        types.TextDocumentItem(uri=uri, language_id=language, version=1, text=text)
        for (_, language, text), uri in zip(NOTEBOOK_CELLS, cell_uris)
    ]
    async with bnlint_server(tmp_path) as client:
        client.notebook_document_did_open(
            types.DidOpenNotebookDocumentParams(
                notebook_document=types.NotebookDocument(
                    uri=notebook_uri, notebook_type="jupyter-notebook", version=1, cells=cells
                ),
                cell_text_documents=documents,
            )
        )
        found = by_code(await client.diagnostics_for(cell_uris[2]))
        assert set(found) == {"BNL002", "BNL003"}
        assert found["BNL003"].range.start == types.Position(FINDING_LINE - 2, 37)
        assert await client.diagnostics_for(cell_uris[1]) == []

        actions = {a.title: a for a in await code_actions(client, cell_uris[2], FINDING_LINE - 2)}
        fix = edits_of(actions["Fix BNL003: Remove the `trainable` keyword"].edit)
        assert list(fix) == [cell_uris[2]]
        [fix_all] = await code_actions(client, cell_uris[2], 0, only=["notebook.source.fixAll"])
        fix_all = await client.code_action_resolve_async(fix_all)
        fixed = apply_edits(NOTEBOOK_CELLS[2][2], edits_of(fix_all.edit)[cell_uris[2]])
        assert "trainable=False" not in fixed

        client.notebook_document_did_close(
            types.DidCloseNotebookDocumentParams(
                notebook_document=types.NotebookDocumentIdentifier(uri=notebook_uri),
                cell_text_documents=[types.TextDocumentIdentifier(uri=u) for u in cell_uris],
            )
        )
        await client.cleared(cell_uris[2])


@pytest.mark.asyncio
async def test_settings_of_the_nearest_pyproject_are_read_again_when_it_changes(
    tmp_path: Path,
) -> None:
    project = tmp_path / "project"
    (project / "src").mkdir(parents=True)
    pyproject = project / "pyproject.toml"
    pyproject.write_text('[tool.bnlint]\nignore = ["BNL003"]\n', encoding="utf-8")
    async with bnlint_server(tmp_path) as client:
        await client.until(lambda: client.registrations)
        assert any(
            r.method == types.WORKSPACE_DID_CHANGE_WATCHED_FILES for r in client.registrations
        )
        uri = client.open(project / "src" / "train.py", TRAIN)
        assert [d.code for d in await client.diagnostics_for(uri, version=1)] == ["BNL002"]

        pyproject.write_text('[tool.bnlint]\nselect = ["BNL003"]\n', encoding="utf-8")
        before = len(client.published)
        client.workspace_did_change_watched_files(
            types.DidChangeWatchedFilesParams(
                changes=[
                    types.FileEvent(
                        uri=from_fs_path(str(pyproject)) or "", type=types.FileChangeType.Changed
                    )
                ]
            )
        )
        assert [d.code for d in await client.diagnostics_for(uri, after=before)] == ["BNL003"]

        pyproject.write_text("[tool.bnlint]\nselect = []\n", encoding="utf-8")
        before = len(client.published)
        client.text_document_did_save(  # a client that does not watch files: saving is enough
            types.DidSaveTextDocumentParams(types.TextDocumentIdentifier(uri=uri))
        )
        assert await client.diagnostics_for(uri, after=before) == []


@pytest.mark.asyncio
async def test_keras_version_target_and_per_file_ignores_as_in_the_cli(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    (tmp_path / "requirements.txt").write_text("keras>=3\n", encoding="utf-8")
    (tmp_path / "pyproject.toml").write_text(
        '[tool.bnlint]\nper-file-ignores = {"legacy_*.py" = ["BNL001"]}\n', encoding="utf-8"
    )
    async with bnlint_server(tmp_path) as client:
        uri = client.open(tmp_path / "train.py", UNFREEZE_AFTER_COMPILE)
        finding = by_code(await client.diagnostics_for(uri, version=1))["BNL001"]
        assert "Keras 3" in finding.message and "Keras 2" not in finding.message

        (tmp_path / "requirements.txt").write_text("tensorflow==2.15.0\n", encoding="utf-8")
        before = len(client.published)
        client.text_document_did_save(
            types.DidSaveTextDocumentParams(types.TextDocumentIdentifier(uri=uri))
        )
        finding = by_code(await client.diagnostics_for(uri, after=before))["BNL001"]
        assert "Keras 2" in finding.message and "Keras 3" not in finding.message

        legacy = client.open(tmp_path / "legacy_train.py", UNFREEZE_AFTER_COMPILE)
        assert "BNL001" not in by_code(await client.diagnostics_for(legacy, version=1))


@pytest.mark.asyncio
async def test_configuration_errors_and_excluded_files(tmp_path: Path) -> None:
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "pyproject.toml").write_text(
        "[tool.bnlint]\nselct = []\n", encoding="utf-8"
    )
    (tmp_path / "pyproject.toml").write_text(
        '[tool.bnlint]\nextend-exclude = ["generated"]\n', encoding="utf-8"
    )
    async with bnlint_server(tmp_path) as client:
        uri = client.open(tmp_path / "broken" / "train.py", TRAIN)
        [error] = await client.diagnostics_for(uri, version=1)
        assert error.code == "BNL000"
        assert "unknown key 'selct'" in error.message
        await client.until(lambda: client.messages)
        assert "unknown key 'selct'" in client.messages[0].message

        excluded = client.open(tmp_path / "generated" / "train.py", TRAIN)
        assert await client.diagnostics_for(excluded, version=1) == []
        virtualenv = client.open(tmp_path / ".venv" / "lib" / "train.py", TRAIN)
        assert await client.diagnostics_for(virtualenv, version=1) == []


@pytest.mark.asyncio
async def test_positions_count_utf16_code_units(tmp_path: Path) -> None:
    alpha = "\N{MATHEMATICAL ITALIC SMALL ALPHA}"  # outside the Basic Multilingual Plane
    text = TRAIN.replace("features = keras", f"features = {alpha} = keras")
    async with bnlint_server(tmp_path) as client:
        uri = client.open(tmp_path / "train.py", text)
        found = by_code(await client.diagnostics_for(uri, version=1))
    # "alpha = " is four characters but five UTF-16 code units.
    assert found["BNL003"].range.start == types.Position(FINDING_LINE, 37 + 5)


def test_without_the_server_extra_it_says_how_to_install_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "pygls.lsp.server", None)
    result = run_cli("server")
    assert result.exit_code == 2
    assert "pip install 'bnlint[server]'" in result.output


@pytest.mark.asyncio
async def test_findings_follow_the_project_modules_a_document_imports(tmp_path: Path) -> None:
    """The model is defined in models.py; the document is the training loop. Saving models.py
    without its BatchNormalization clears the finding at the next analysis."""
    from tests.test_project_wide import MODELS_WITH_BN, MODELS_WITHOUT_BN
    from tests.test_project_wide import TRAIN as LOOP

    (tmp_path / ".git").mkdir()
    models = tmp_path / "models.py"
    models.write_text(MODELS_WITH_BN, encoding="utf-8")
    async with bnlint_server(tmp_path) as client:
        uri = client.open(tmp_path / "train.py", LOOP)
        found = await client.diagnostics_for(uri, version=1)
        assert [(str(d.code), d.range.start.line) for d in found] == [("BNL007", 10)]
        models.write_text(MODELS_WITHOUT_BN, encoding="utf-8")
        client.change(uri, LOOP + "\n", 2)
        assert await client.diagnostics_for(uri, version=2) == []
