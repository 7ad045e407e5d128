"""The command line as a user meets it: output, exit codes, files on disk."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO, run_cli

BAD = REPO / "examples" / "finetune_mistakes.py"
GOOD = REPO / "examples" / "finetune_correct.py"


def test_example_reports_the_three_mission_rules_at_the_lines_to_fix() -> None:
    result = run_cli("check", str(BAD), "--output-format", "concise")
    assert result.exit_code == 1
    lines = [line for line in result.output.splitlines() if ": BNL" in line]
    assert [line.split(": ")[1].split()[0] for line in lines] == ["BNL002", "BNL003", "BNL001"]
    assert [int(line.split(":")[1]) for line in lines] == [13, 15, 22]


def test_correct_recipe_is_clean() -> None:
    result = run_cli("check", str(GOOD))
    assert result.exit_code == 0
    assert "All checks passed!" in result.output


def test_full_output_shows_source_line_caret_and_fix_hint() -> None:
    result = run_cli("check", str(BAD), "--select", "BNL003")
    assert result.exit_code == 1
    assert "BNL003 [*] `trainable` on Dropout does nothing" in result.output
    assert "15 | x = keras.layers.Dropout(0.2, trainable=False)(x)" in result.output
    assert "^^^^^^^^^^^^^^^ BNL003" in result.output
    assert "= help: Remove the `trainable` keyword" in result.output


def test_json_contract(tmp_path: Path) -> None:
    result = run_cli("check", str(BAD), "--output-format", "json", "--select", "BNL003")
    data = json.loads(result.output)
    assert len(data) == 1
    item = data[0]
    assert set(item) == {
        "code",
        "name",
        "severity",
        "message",
        "filename",
        "cell",
        "location",
        "end_location",
        "fix",
        "url",
    }
    assert item["code"] == "BNL003"
    assert item["name"] == "trainable-on-weightless-layer"
    assert item["severity"] == "warning"
    assert item["cell"] is None
    assert item["location"] == {"row": 15, "column": 31}
    assert item["end_location"] == {"row": 15, "column": 46}
    assert item["fix"]["applicability"] == "safe"
    edit = item["fix"]["edits"][0]
    assert edit["content"] == "keras.layers.Dropout(0.2)"
    assert edit["location"] == {"row": 15, "column": 5}


def test_select_ignore_and_prefixes() -> None:
    only = run_cli("check", str(BAD), "--select", "BNL001", "--output-format", "concise")
    assert only.output.count(": BNL") == 1
    ignored = run_cli("check", str(BAD), "--ignore", "BNL001,BNL002", "--output-format", "concise")
    assert ignored.output.count(": BNL") == 1 and "BNL003" in ignored.output
    prefix = run_cli("check", str(BAD), "--select", "BNL00", "--output-format", "concise")
    assert prefix.output.count(": BNL") == 3


def test_unknown_code_is_a_usage_error() -> None:
    result = run_cli("check", str(BAD), "--select", "BNL999")
    assert result.exit_code == 2
    assert "unknown rule code or prefix 'BNL999'" in result.output


@pytest.mark.parametrize(
    ("table", "where"),
    [
        ('ignore = ["BNL999"]', "'ignore'"),
        ('select = ["BNL0", "XYZ"]', "'select'"),
        ('per-file-ignores = {"tests/*" = ["BNL9"]}', "per-file-ignores 'tests/*'"),
    ],
)
def test_unknown_code_in_the_configuration_names_file_and_key(
    tmp_path: Path, table: str, where: str
) -> None:
    (tmp_path / "pyproject.toml").write_text(f"[tool.bnlint]\n{table}\n", encoding="utf-8")
    (tmp_path / "a.py").write_text("x = 1\n", encoding="utf-8")
    result = run_cli("check", str(tmp_path))
    assert result.exit_code == 2
    assert "pyproject.toml: " + where in result.output
    assert "unknown rule code or prefix" in result.output


def test_missing_path_is_a_usage_error(tmp_path: Path) -> None:
    result = run_cli("check", str(tmp_path / "nope.py"))
    assert result.exit_code == 2


def test_exit_zero() -> None:
    assert run_cli("check", str(BAD), "--exit-zero").exit_code == 0


def test_fix_writes_safe_fixes_only(tmp_path: Path) -> None:
    target = tmp_path / "train.py"
    target.write_bytes(BAD.read_bytes())
    result = run_cli("check", str(target), "--fix")
    text = target.read_text()
    assert "Dropout(0.2)(x)" in text
    assert "x = base(x)  #" in text  # BNL002's fix is unsafe: not applied without --unsafe-fixes
    assert result.exit_code == 1  # BNL001 and BNL002 remain
    result = run_cli("check", str(target), "--fix", "--unsafe-fixes")
    assert "x = base(x, training=False)" in target.read_text()
    assert result.exit_code == 1  # BNL001 has no fix


def test_diff_prints_and_writes_nothing(tmp_path: Path) -> None:
    target = tmp_path / "train.py"
    target.write_bytes(BAD.read_bytes())
    result = run_cli("check", str(target), "--diff")
    assert target.read_bytes() == BAD.read_bytes()
    assert "-x = keras.layers.Dropout(0.2, trainable=False)(x)" in result.output
    assert "+x = keras.layers.Dropout(0.2)(x)" in result.output
    assert result.exit_code == 1


def test_noqa_suppresses(tmp_path: Path) -> None:
    target = tmp_path / "a.py"
    target.write_text(
        "from tensorflow import keras\n"
        "a = keras.layers.Dropout(0.1, trainable=False)  # noqa: BNL003\n"
        "b = keras.layers.Dropout(0.1, trainable=False)  # noqa\n"
        "c = keras.layers.Dropout(0.1, trainable=False)  # noqa: BNL001\n"
    )
    result = run_cli("check", str(target), "--output-format", "concise")
    assert result.output.count("BNL003") == 1 and ":4:" in result.output


def test_folder_recursion_skips_virtualenvs_and_hidden(tmp_path: Path) -> None:
    bad = "from tensorflow import keras\nx = keras.layers.Flatten(trainable=False)\n"
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "m.py").write_text(bad)
    (tmp_path / ".hidden").mkdir()
    (tmp_path / ".hidden" / "m.py").write_text(bad)
    (tmp_path / "env").mkdir()
    (tmp_path / "env" / "pyvenv.cfg").write_text("home = /usr\n")
    (tmp_path / "env" / "m.py").write_text(bad)
    (tmp_path / "build").mkdir()
    (tmp_path / "build" / "m.py").write_text(bad)
    result = run_cli("check", str(tmp_path), "--output-format", "concise")
    assert result.output.count("BNL003") == 1 and "pkg/m.py" in result.output


def test_syntax_error_is_a_diagnostic_and_the_run_goes_on(tmp_path: Path) -> None:
    (tmp_path / "broken.py").write_text("def f(:\n  trainable\n")
    (tmp_path / "ok.py").write_text(
        "from tensorflow import keras\nx = keras.layers.Flatten(trainable=False)\n"
    )
    result = run_cli("check", str(tmp_path), "--output-format", "concise")
    assert result.exit_code == 1
    assert "broken.py:1:" in result.output and "BNL000" in result.output
    assert "ok.py:2:" in result.output and "BNL003" in result.output


def test_stdin_with_fix_prints_fixed_source() -> None:
    source = "from tensorflow import keras\nx = keras.layers.Flatten(trainable=False)\n"
    result = run_cli("check", "-", "--stdin-filename", "model.py", "--fix", input=source)
    assert result.stdout == "from tensorflow import keras\nx = keras.layers.Flatten()\n"


def test_rule_documentation() -> None:
    result = run_cli("rule", "BNL002")
    assert result.exit_code == 0
    for heading in (
        "## What it does",
        "## Why is this bad?",
        "## Example",
        "## Use instead",
        "## Fix safety",
        "## Keras versions",
    ):
        assert heading in result.output
    assert run_cli("rule", "BNL404").exit_code == 2
    everything = run_cli("rule", "--all").output
    assert "# trainable-after-compile (BNL001)" in everything


def test_version_and_module_entry_point() -> None:
    from bnlint import __version__

    assert run_cli("--version").output.strip() == f"bnlint {__version__}"
    completed = subprocess.run(
        [sys.executable, "-m", "bnlint", "check", str(GOOD)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr


def test_fix_leaves_alone_what_per_file_ignores_turns_off(tmp_path: Path, monkeypatch) -> None:
    """A rule switched off for a file neither reports there nor rewrites it."""
    (tmp_path / "pyproject.toml").write_text(
        '[tool.bnlint]\nper-file-ignores = {"legacy.py" = ["BNL003"]}\n', encoding="utf-8"
    )
    code = "from tensorflow.keras import layers\nx = layers.Dropout(0.5, trainable=False)\n"
    (tmp_path / "legacy.py").write_text(code, encoding="utf-8")
    (tmp_path / "new.py").write_text(code, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    result = run_cli("check", ".", "--fix")
    assert result.exit_code == 0, result.output
    assert (tmp_path / "legacy.py").read_text(encoding="utf-8") == code
    assert "trainable" not in (tmp_path / "new.py").read_text(encoding="utf-8")
    stdin = run_cli("check", "-", "--stdin-filename", "legacy.py", "--fix", input=code)
    assert stdin.stdout == code
