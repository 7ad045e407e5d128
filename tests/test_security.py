"""Linting is reading: linted code is never imported or executed, notebooks are read as JSON only, and
nothing is written outside the named paths (and the cache folder the configuration names)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

#: Keras code with a finding and a safe fix, so that every file is parsed, analysed and fixed.
KERAS = "from tensorflow.keras import layers\n\nx = layers.Dropout(0.5, trainable=False)\n"


def bnlint_command() -> list[str]:
    """The installed console script (its folder, not the current one, starts ``sys.path``)."""
    script = Path(sys.executable).with_name("bnlint")
    if script.exists():
        return [str(script)]
    return [sys.executable, "-m", "bnlint"]  # pragma: no cover - an uninstalled checkout


def run(cwd: Path, *args: str) -> subprocess.CompletedProcess:
    """Run ``bnlint ARGS`` as a user would, in ``cwd``."""
    environment = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    return subprocess.run(
        [*bnlint_command(), *args], cwd=cwd, capture_output=True, text=True, env=environment
    )


def marker_code(marker: Path) -> str:
    """Python that leaves ``marker`` behind if it is ever run."""
    return (
        "import pathlib, os\n"
        f"pathlib.Path({str(marker)!r}).write_text('executed')\n"
        f"os.system('touch {marker}.shell')\n"
    )


def hostile_project(root: Path, markers: Path) -> None:
    """A project whose every Python file and notebook cell would leave a marker if run or imported."""
    markers.mkdir()
    files = {
        "setup.py": "setup",
        "conftest.py": "conftest",
        "__init__.py": "package",
        "tensorflow.py": "tensorflow",
        "keras.py": "keras",
        "sitecustomize.py": "sitecustomize",
        "model.py": "model",
        "sub/__main__.py": "main",
    }
    for name, marker in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(KERAS + marker_code(markers / marker))
    (root / "pyproject.toml").write_text(
        '[project]\nname = "hostile"\ndependencies = ["keras>=3"]\n'
    )
    (root / "requirements.txt").write_text("tensorflow==2.15\n")
    cells = [
        {"cell_type": "code", "metadata": {}, "outputs": [], "source": KERAS},
        {
            "cell_type": "code",
            "metadata": {},
            "outputs": [],
            "source": marker_code(markers / "notebook")
            + f"!touch {markers / 'notebook.bang'}\n"
            + f"%run {root / 'model.py'}\n",
        },
        {
            "cell_type": "code",
            "metadata": {},
            "outputs": [],
            "source": f"%%bash\ntouch {markers / 'notebook.cellmagic'}\n",
        },
    ]
    notebook = {
        "cells": cells,
        "metadata": {"kernelspec": {"name": "python3", "language": "python"}},
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    (root / "analysis.ipynb").write_text(json.dumps(notebook, indent=1))


@pytest.mark.parametrize(
    "options",
    [(), ("--fix", "--unsafe-fixes"), ("--diff",), ("--keras-version", "auto", "--statistics")],
    ids=["check", "fix", "diff", "auto-version"],
)
def test_linted_code_is_never_imported_or_executed(tmp_path: Path, options: tuple) -> None:
    project = tmp_path / "project"
    markers = tmp_path / "markers"
    project.mkdir()
    hostile_project(project, markers)
    result = run(project, "check", "--no-cache", *options, ".")
    assert result.returncode in (0, 1), result.stderr
    assert "Traceback" not in result.stderr
    assert sorted(p.name for p in markers.iterdir()) == []
    if "--fix" in options:
        assert "trainable=False" not in (project / "setup.py").read_text()
        assert not list(project.rglob("__pycache__"))


def test_the_findings_show_the_hostile_files_were_analysed(tmp_path: Path) -> None:
    project = tmp_path / "project"
    project.mkdir()
    hostile_project(project, tmp_path / "markers")
    result = run(project, "check", "--no-cache", "--output-format", "json", ".")
    found = {(Path(d["filename"]).name, d["code"]) for d in json.loads(result.stdout)}
    for name in ("setup.py", "conftest.py", "__init__.py", "tensorflow.py", "analysis.ipynb"):
        assert (name, "BNL003") in found


def test_notebooks_are_read_as_json_only(tmp_path: Path) -> None:
    project = tmp_path / "project"
    project.mkdir()
    hostile_project(project, tmp_path / "markers")
    probe = (
        "import sys\n"
        "from bnlint.cli import main\n"
        "try:\n"
        "    main(['check', '--no-cache', '--fix', 'analysis.ipynb'])\n"
        "except SystemExit:\n"
        "    pass\n"
        "loaded = sorted(m for m in sys.modules if m.split('.')[0] in\n"
        "    ('nbformat', 'nbconvert', 'IPython', 'jupyter_client', 'ipykernel', 'papermill'))\n"
        "print('LOADED', loaded)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], cwd=project, capture_output=True, text=True
    )
    assert "LOADED []" in result.stdout, result.stdout + result.stderr
    assert list((tmp_path / "markers").iterdir()) == []


def snapshot(root: Path) -> dict[str, tuple]:
    """Every file and folder under ``root``: (kind, bytes, mode, modification time)."""
    state: dict[str, tuple] = {}
    for path in sorted(root.rglob("*")):
        info = path.lstat()
        key = path.relative_to(root).as_posix()
        if path.is_symlink():
            state[key] = ("link", os.readlink(path))
        elif path.is_dir():
            state[key] = ("folder", info.st_mode)
        else:
            state[key] = ("file", path.read_bytes(), info.st_mode, info.st_mtime_ns)
    return state


def changed(before: dict[str, tuple], after: dict[str, tuple]) -> set[str]:
    """The paths added, removed or changed between two snapshots."""
    return {key for key in before.keys() | after.keys() if before.get(key) != after.get(key)}


def tree(root: Path) -> None:
    """Two folders of fixable files, a notebook, a link out of the folder, and a config."""
    for folder in ("fixed", "untouched", "fixed/deeper"):
        (root / folder).mkdir(parents=True)
        (root / folder / "model.py").write_text(KERAS)
    shutil.copy(
        Path(__file__).resolve().parent.parent / "fixtures" / "BNL003" / "fix_notebook.ipynb",
        root / "fixed" / "notebook.ipynb",
    )
    (root / "fixed" / "link_out.py").symlink_to(root / "untouched" / "model.py")
    (root / "pyproject.toml").write_text('[tool.bnlint]\ncache-dir = "custom-cache"\n')


def test_fix_writes_only_inside_the_named_folder(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    tree(root)
    before = snapshot(root)
    result = run(root, "check", "--fix", "fixed/model.py", "fixed/deeper", "fixed/notebook.ipynb")
    assert result.returncode == 0, result.stdout + result.stderr
    assert changed(before, snapshot(root)) == {
        "fixed/model.py",
        "fixed/deeper/model.py",
        "fixed/notebook.ipynb",
    }


def test_a_plain_check_writes_only_the_configured_cache(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    tree(root)
    before = snapshot(root)
    result = run(root / "fixed", "check", ".")
    assert result.returncode == 1, result.stdout + result.stderr
    written = changed(before, snapshot(root))
    assert written, "the cache was expected under custom-cache/"
    assert all(path.split("/")[0] == "custom-cache" for path in written), written


def test_no_cache_writes_nothing_at_all(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    tree(root)
    before = snapshot(tmp_path)
    result = run(root, "check", "--no-cache", "--output-format", "json", ".")
    assert result.returncode == 1, result.stderr
    assert changed(before, snapshot(tmp_path)) == set()
