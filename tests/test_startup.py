"""Start-up stays light: the rule catalog is in sync, a run with nothing to parse imports no LibCST, and
no run of one file imports what it does not use (pathspec, packaging, the language server's pygls)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from bnlint.rules import catalog_source

CATALOG = Path(__file__).resolve().parent.parent / "bnlint" / "rules" / "catalog.py"

_PROBE = """
import sys
import bnlint.runner as runner


def heavy():
    return [
        name for name in sys.modules
        if name in ("libcst", "pathspec", "packaging", "pygls", "lsprotocol")
        or name.startswith("bnlint.rules.bnl")
    ]


analyse = runner.analyse_file


def analyse_and_tell(task, options, run, **more):  # in whichever process analyses the file
    outcome = analyse(task, options, run, **more)
    print("analysed", *heavy(), flush=True)
    return outcome


runner.analyse_file = analyse_and_tell
from bnlint.cli import main
try:
    main(["check", *sys.argv[1:]])
except SystemExit as exit:
    code = exit.code
print("exit", code, *heavy())
"""


def test_catalog_is_in_sync_with_the_rule_modules() -> None:
    assert CATALOG.read_text(encoding="utf-8") == catalog_source(), (
        "bnlint/rules/catalog.py is out of date: run `python -m bnlint.rules`"
    )


def _probe(*arguments: str) -> str:
    """``exit CODE heavy [MODULES]``: the exit code, and the heavy modules (LibCST, the rules,
    pathspec, packaging, pygls) that the run imported, in its own process or in the one that analysed
    the file."""
    done = subprocess.run(
        [sys.executable, "-c", _PROBE, *arguments], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.strip().splitlines()
    _, code, *heavy = lines[-1].split()
    for line in lines:
        if line.startswith("analysed"):
            heavy.extend(line.split()[1:])
    return f"exit {code} heavy {sorted(set(heavy))}"


def _probe_source(tmp_path: Path, source: str) -> str:
    """Run ``bnlint check --no-cache`` on a file holding ``source``; the probe's summary line."""
    path = tmp_path / "probed.py"
    path.write_text(source, encoding="utf-8")
    return _probe(str(path), "--no-cache")


DROPOUT_FINDING = "from tensorflow import keras\n\nx = keras.layers.Dropout(0.5, trainable=False)\n"


def test_a_file_without_trigger_words_imports_neither_libcst_nor_rules(tmp_path: Path) -> None:
    assert _probe_source(tmp_path, "def add(a, b):\n    return a + b\n") == "exit 0 heavy []"


def test_a_keras_file_loads_the_rules_and_reports(tmp_path: Path) -> None:
    line = _probe_source(tmp_path, DROPOUT_FINDING)
    assert line.startswith("exit 1 heavy [") and "'libcst'" in line
    assert all(name not in line for name in ("pathspec", "packaging", "pygls", "lsprotocol"))


CLEAN_FINE_TUNING = """\
from tensorflow import keras

base = keras.applications.MobileNetV2(include_top=False)
base.trainable = False
inputs = keras.Input((224, 224, 3))
model = keras.Model(inputs, keras.layers.Dense(2)(base(inputs, training=False)))
model.compile(optimizer="adam", loss="mse")
"""


def test_the_keras_version_is_read_only_for_a_finding(tmp_path: Path) -> None:
    """Messages say what the targeted Keras version does; a file without findings (a pre-commit
    run's usual case) does not pay for reading the project's dependency files."""
    (tmp_path / "requirements.txt").write_text("keras>=3.0\n", encoding="utf-8")
    clean = _probe_source(tmp_path, CLEAN_FINE_TUNING)
    assert clean.startswith("exit 0 heavy [") and "packaging" not in clean
    finding = _probe_source(tmp_path, DROPOUT_FINDING)
    assert finding.startswith("exit 1 heavy [") and "'packaging'" in finding


def test_a_file_named_in_a_repository_does_not_read_its_ignore_files(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    (tmp_path / ".gitignore").write_text("build/\n*.gen.py\n", encoding="utf-8")
    line = _probe_source(tmp_path, DROPOUT_FINDING)
    assert line.startswith("exit 1 heavy [") and "pathspec" not in line


def test_walking_a_folder_with_ignore_files_uses_pathspec(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    (tmp_path / ".gitignore").write_text("*.gen.py\n", encoding="utf-8")
    (tmp_path / "ignored.gen.py").write_text(DROPOUT_FINDING, encoding="utf-8")
    (tmp_path / "plain.py").write_text("print(1)\n", encoding="utf-8")
    assert _probe(str(tmp_path), "--no-cache") == "exit 0 heavy ['pathspec']"


def test_trigger_words_only_in_comments_and_docstrings_do_not_cost_a_parse(tmp_path: Path) -> None:
    prose = (
        'def schedule(step):\n    """The learning rate during training; \\""" trainable."""\n'
        "    return 0.1 / step  # BatchNorm layers stay trainable\n"
    )
    assert _probe_source(tmp_path, prose) == "exit 0 heavy []"


def test_trigger_words_in_code_next_to_comments_and_strings_are_still_seen(tmp_path: Path) -> None:
    source = (
        "from tensorflow import keras\n\n"
        "# it's a comment\n"
        'note = "# not a comment"; dropout = keras.layers.Dropout(0.5, trainable=False)\n'
    )
    line = _probe_source(tmp_path, source)
    assert line.startswith("exit 1 heavy [") and "'libcst'" in line


def test_only_the_rules_whose_trigger_words_occur_are_loaded(tmp_path: Path) -> None:
    line = _probe_source(tmp_path, DROPOUT_FINDING)
    assert "bnl003_trainable_on_weightless_layer" in line
    assert "bnl013" not in line and "bnl016" not in line and "bnl017" not in line
