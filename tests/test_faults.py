"""Fault injection: a file that would stall or crash the parser, a worker killed mid-run, writes and
cache writes that fail, a file edited while bnlint runs, paths that are not files. Each test asserts
what a user sees: the report, the exit code, the files on disk. No fault takes the run down, stalls it,
or loses a byte.
"""

from __future__ import annotations

import errno
import faulthandler
import json
import multiprocessing
import os
import signal
import socket
import stat
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Optional

import pytest
from click.testing import CliRunner, Result

from bnlint import parse_in_parts
from bnlint.cli import main
from bnlint.workers import TimedOut, WorkerCrash, run_in_workers

#: One BNL003 finding at line 3 whose safe fix deletes ``, trainable=False``.
FINDING = b"from tensorflow.keras import layers\n\nx = layers.Dropout(0.5, trainable=False)\n"
FIXED = b"from tensorflow.keras import layers\n\nx = layers.Dropout(0.5)\n"
FINDING_LINE = 3
#: The trigger words of a file, so that it is parsed.
TRIGGERED = b"import keras\nmodel.trainable = False\n"

needs_fork = pytest.mark.skipif(
    "fork" not in multiprocessing.get_all_start_methods(),
    reason="in-process fault injections reach workers only when they are forked",
)


def invoke(folder: Path, *args: str, input: bytes | None = None) -> Result:
    """``bnlint check --no-cache ARGS`` run in ``folder``, in this process."""
    old = Path.cwd()
    os.chdir(folder)
    try:
        result = CliRunner().invoke(main, ["check", "--no-cache", *args], input=input)
    finally:
        os.chdir(old)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    assert "Traceback" not in result.output
    return result


def lint(folder: Path, *args: str) -> tuple[int, dict[str, list[tuple[str, int, str]]]]:
    """(exit code, {file name: [(code, row, message), ...]}) of a JSON run."""
    result = invoke(folder, "--output-format", "json", *(args or (".",)))
    found: dict[str, list[tuple[str, int, str]]] = {}
    for item in json.loads(result.stdout):
        found.setdefault(Path(item["filename"]).name, []).append(
            (item["code"], item["location"]["row"], item["message"])
        )
    return result.exit_code, found


def only_problem(found: dict, name: str) -> str:
    """The message of the one BNL000 of ``name``."""
    assert [(code, row) for code, row, _ in found[name]] == [("BNL000", found[name][0][1])]
    return found[name][0][2]


def findings(found: dict, name: str) -> list[tuple[str, int]]:
    return [(code, row) for code, row, _ in found[name]]


def project(folder: Path, files: int) -> Path:
    """``files`` files with one finding each (m000.py, m001.py, ...)."""
    folder.mkdir(parents=True, exist_ok=True)
    for index in range(files):
        (folder / f"m{index:03d}.py").write_bytes(FINDING)
    return folder


def parse_faulting_on(marker: str, fault: str):  # type: ignore[no-untyped-def]
    """LibCST's parse, made to hang (spin forever, holding the interpreter as the native parser does)
    or to crash its process on texts holding ``marker``."""
    real = parse_in_parts.parse_module

    def parse(text: str):  # type: ignore[no-untyped-def]
        if marker in text:
            if fault == "hang":
                while True:
                    pass
            if fault == "segfault":
                faulthandler.disable()  # a real segfault prints nothing either
                os.kill(os.getpid(), signal.SIGSEGV)
            if fault == "kill":
                os.kill(os.getpid(), signal.SIGKILL)
        return real(text)

    return parse


# --- No file can stall a run: the cheap checks ---

DEEP_SHAPES = {
    "attributes": b"x = a" + b".a" * 20_000 + b"\n",
    "calls": b"x = f" + b"()" * 20_000 + b"\n",
    "subscripts": b"x = a" + b"[0]" * 20_000 + b"\n",
    "unary": b"x = " + b"-" * 20_000 + b"a\n",
    "over lines in brackets": b"x = (a" + b"\n  .a" * 20_000 + b")\n",
    "over continued lines": b"x = a \\\n" + b"  .a \\\n" * 20_000 + b"  .a\n",
    "before a syntax error": b"x = a" + b".a" * 20_000 + b"\ndef (:\n",
    "in a broken statement": b"x = a" + b".a" * 20_000 + b" +\n",
    "operators in a broken statement": b"x = a" + b" + a" * 20_000 + b" +\n",
    "calls in a broken bracket": b"x = (f" + b"\n  ()" * 20_000 + b"\n",
    "before an unclosed bracket": b"x = a" + b".a" * 20_000 + b"\ny = (\n",
}


@pytest.mark.parametrize("shape", DEEP_SHAPES, ids=list(DEEP_SHAPES))
def test_a_deeply_nested_file_is_reported_without_ever_reaching_libcst(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, shape: str
) -> None:
    real = parse_in_parts.parse_module

    def parse(text: str):  # type: ignore[no-untyped-def]
        assert len(text) < 10_000, "LibCST was given the deep file"
        return real(text)

    monkeypatch.setattr(parse_in_parts, "parse_module", parse)
    (tmp_path / "deep.py").write_bytes(TRIGGERED + DEEP_SHAPES[shape])
    (tmp_path / "good.py").write_bytes(FINDING)
    code, found = lint(tmp_path)
    assert code == 1
    assert findings(found, "good.py") == [("BNL003", FINDING_LINE)]
    message = only_problem(found, "deep.py")
    assert found["deep.py"][0][1] == 3  # the line of the deep expression
    assert message.startswith("cannot parse: too deeply nested to analyse: it nests ")
    assert "more than the 3,000 levels bnlint analyses" in message


def test_nesting_that_cpython_compiles_is_still_analysed(tmp_path: Path) -> None:
    deep = b"y = a" + b".a" * 1_000 + b"\nz = " + b"(" * 150 + b"1" + b")" * 150 + b"\n"
    (tmp_path / "deep.py").write_bytes(FINDING + deep)
    code, found = lint(tmp_path)
    assert (code, {name: findings(found, name) for name in found}) == (
        1,
        {"deep.py": [("BNL003", FINDING_LINE)]},
    )


# --- No file can stall a run: the time limit ---


@needs_fork
@pytest.mark.parametrize("files", [1, 40], ids=["few files, one worker", "many files, a pool"])
def test_a_parser_that_never_returns_is_stopped_at_the_time_limit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, files: int
) -> None:
    monkeypatch.setattr(parse_in_parts, "parse_module", parse_faulting_on("# hang", "hang"))
    project(tmp_path, files)
    (tmp_path / "stuck.py").write_bytes(FINDING + b"# hang\n")
    code, found = lint(tmp_path, "--timeout", "1", "-j", "2", ".")
    assert code == 1
    assert only_problem(found, "stuck.py") == (
        "not analysed: analysing this file took longer than the time limit of 1 s; raise it with "
        "--timeout or `timeout` in [tool.bnlint] (0 means no limit)"
    )
    assert {name: findings(found, name) for name in found if name != "stuck.py"} == {
        f"m{index:03d}.py": [("BNL003", FINDING_LINE)] for index in range(files)
    }


@needs_fork
def test_the_time_limit_can_be_set_in_the_configuration(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(parse_in_parts, "parse_module", parse_faulting_on("# hang", "hang"))
    (tmp_path / "pyproject.toml").write_text("[tool.bnlint]\ntimeout = 0.5\n", encoding="utf-8")
    (tmp_path / "stuck.py").write_bytes(FINDING + b"# hang\n")
    code, found = lint(tmp_path)
    assert code == 1
    assert "longer than the time limit of 0.5 s" in only_problem(found, "stuck.py")


@needs_fork
def test_standard_input_is_under_the_time_limit_too(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(parse_in_parts, "parse_module", parse_faulting_on("# hang", "hang"))
    source = FINDING + b"# hang\n"
    args = ("--timeout", "1", "-", "--stdin-filename", "stuck.py")
    result = invoke(tmp_path, "--output-format", "json", *args, input=source)
    assert result.exit_code == 1
    (item,) = json.loads(result.stdout)
    assert (item["code"], item["filename"]) == ("BNL000", "stuck.py")
    assert "longer than the time limit of 1 s" in item["message"]
    fixed = invoke(tmp_path, "--fix", *args, input=source)
    assert fixed.exit_code == 1
    assert fixed.stdout_bytes == source  # what an editor gets back: its text, unchanged
    assert "stuck.py:1:1: BNL000 not analysed: analysing this file took longer" in fixed.stderr


@needs_fork
def test_with_diff_a_file_that_was_not_analysed_is_said_on_stderr_and_fails_the_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(parse_in_parts, "parse_module", parse_faulting_on("# crash", "segfault"))
    (tmp_path / "crash.py").write_bytes(b"import keras\nmodel.trainable = False\n# crash\n")
    result = invoke(tmp_path, "--diff", ".")
    assert result.exit_code == 1
    assert result.stdout == ""
    assert "crash.py:1:1: BNL000 not analysed: the process analysing this file crashed" in (
        result.stderr
    )


@pytest.mark.parametrize(
    ("setting", "error"),
    [
        ("timeout = -1", "'timeout' must be a number of seconds >= 0 (0: no limit)"),
        ('timeout = "soon"', "'timeout' must be a number, not str"),
        ("timeout = true", "'timeout' must be a number, not bool"),
    ],
)
def test_a_bad_time_limit_is_a_configuration_error(
    tmp_path: Path, setting: str, error: str
) -> None:
    (tmp_path / "pyproject.toml").write_text(f"[tool.bnlint]\n{setting}\n", encoding="utf-8")
    (tmp_path / "good.py").write_bytes(FINDING)
    result = invoke(tmp_path, ".")
    assert result.exit_code == 2
    assert error in result.stderr


def test_durations_lists_the_slowest_files(tmp_path: Path) -> None:
    project(tmp_path, 3)
    (tmp_path / "plain.py").write_bytes(b"print(1)\n")
    result = invoke(tmp_path, "--durations", "2", ".")
    assert result.exit_code == 1
    lines = result.stderr.splitlines()
    start = lines.index("bnlint: slowest 2 of 4 files analysed:")
    listed = lines[start + 1 : start + 3]
    assert all(line.strip().split("s  ")[1] in {"m000.py", "m001.py", "m002.py"} for line in listed)
    everything = invoke(tmp_path, "--durations", "0", ".")
    assert "bnlint: slowest 4 of 4 files analysed:" in everything.stderr


# --- Isolation on every path ---


@needs_fork
@pytest.mark.parametrize("files", [0, 1, 40], ids=["alone", "few files", "many files"])
def test_a_parser_crash_is_that_files_diagnostic_whatever_the_run_size(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, files: int
) -> None:
    monkeypatch.setattr(parse_in_parts, "parse_module", parse_faulting_on("# crash", "segfault"))
    project(tmp_path, files)
    (tmp_path / "crash.py").write_bytes(FINDING + b"# crash\n")
    code, found = lint(tmp_path, "-j", "2", ".")
    assert code == 1  # a finding on that file, not a failure of bnlint
    assert only_problem(found, "crash.py") == (
        "not analysed: the process analysing this file crashed (the worker process was killed by "
        "SIGSEGV (segmentation fault)), most likely in LibCST's native parser; please report it at "
        "https://github.com/bnlint/bnlint/issues"
    )
    assert len(found) == files + 1


@needs_fork
def test_a_worker_killed_mid_run_loses_only_its_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(parse_in_parts, "parse_module", parse_faulting_on("# victim", "kill"))
    project(tmp_path, 60)
    for name in ("victim_a.py", "victim_b.py"):
        (tmp_path / name).write_bytes(FINDING + b"# victim\n")
    code, found = lint(tmp_path, "-j", "2", ".")
    assert code == 1
    for name in ("victim_a.py", "victim_b.py"):
        assert "killed by SIGKILL" in only_problem(found, name)
    assert sum(findings(found, name) == [("BNL003", FINDING_LINE)] for name in found) == 60


@needs_fork
def test_no_process_can_be_started_so_files_are_analysed_here_with_a_warning(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(target: object) -> None:
        raise OSError(errno.EAGAIN, "Resource temporarily unavailable")

    monkeypatch.setattr("bnlint.processes.start_worker", refuse)
    project(tmp_path, 2)
    result = invoke(tmp_path, "--output-format", "concise", ".")
    assert result.exit_code == 1
    assert result.stdout.count(" BNL003 ") == 2
    assert result.stderr == (
        "bnlint: warning: cannot start a worker process (Resource temporarily unavailable); "
        "files are analysed in this process, without a time limit\n"
    )


def _sleep_on_two(item: int) -> int:
    if item == 2:
        time.sleep(3600)
    return item * 10


def _exit_on_five(item: int) -> int:
    if item == 5:
        os._exit(3)
    return item * 10


class _DieOnceOnThree:
    """Kills its process the first time it meets item 3 (as the out-of-memory killer might)."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __call__(self, item: int) -> int:
        if item == 3 and not self.marker.exists():
            self.marker.touch()
            os.kill(os.getpid(), signal.SIGKILL)
        return item * 10


@needs_fork
def test_an_item_whose_worker_died_once_is_run_again(tmp_path: Path) -> None:
    mapped = run_in_workers(_DieOnceOnThree(tmp_path / "died"), list(range(8)), jobs=2)
    assert mapped.results == [i * 10 for i in range(8)]


def test_workers_report_what_happened_to_each_item() -> None:
    slept = run_in_workers(_sleep_on_two, list(range(8)), jobs=2, timeout=0.5)
    assert slept.results[2] == TimedOut(0.5)
    assert [r for i, r in enumerate(slept.results) if i != 2] == [
        i * 10 for i in range(8) if i != 2
    ]
    exited = run_in_workers(_exit_on_five, list(range(8)), jobs=1)
    assert exited.results[5] == WorkerCrash("the worker process exited with status 3")
    assert [r for i, r in enumerate(exited.results) if i != 5] == [
        i * 10 for i in range(8) if i != 5
    ]


# --- Writes that lose nothing ---


def fix(folder: Path, *args: str) -> tuple[int, dict]:
    return lint(folder, "--fix", *(args or (".",)))


def test_fix_keeps_hard_links(tmp_path: Path) -> None:
    (tmp_path / "src").mkdir()
    path = tmp_path / "src" / "model.py"
    path.write_bytes(FINDING)
    other_name = tmp_path / "model_link.py.txt"
    os.link(path, other_name)
    code, found = fix(tmp_path / "src")
    assert (code, found) == (0, {})
    assert path.read_bytes() == other_name.read_bytes() == FIXED
    assert path.stat().st_ino == other_name.stat().st_ino
    assert path.stat().st_nlink == 2
    assert sorted(p.name for p in (tmp_path / "src").iterdir()) == ["model.py"]


def _supports_user_attributes(path: Path) -> bool:
    if not hasattr(os, "setxattr"):
        return False
    try:
        os.setxattr(path, "user.bnlint-probe", b"1")
    except OSError:
        return False
    os.removexattr(path, "user.bnlint-probe")
    return True


def test_fix_keeps_owner_mode_and_extended_attributes(tmp_path: Path) -> None:
    path = tmp_path / "model.py"
    path.write_bytes(FINDING)
    path.chmod(0o640)
    owner = (path.stat().st_uid, path.stat().st_gid)
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        owner = (1234, 5678)  # as root, the file can belong to someone else
        os.chown(path, *owner)
    attributes = _supports_user_attributes(path)
    if attributes:
        os.setxattr(path, "user.origin", b"kept by bnlint")
    code, found = fix(tmp_path)
    assert (code, found) == (0, {})
    assert path.read_bytes() == FIXED
    status = path.stat()
    assert stat.S_IMODE(status.st_mode) == 0o640
    assert (status.st_uid, status.st_gid) == owner
    if attributes:
        assert os.getxattr(path, "user.origin") == b"kept by bnlint"


def test_a_folder_that_refuses_new_files_gets_the_file_rewritten_in_place(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import tempfile

    def refuse(*args: object, **kwargs: object) -> None:
        raise PermissionError(errno.EACCES, "Permission denied")

    monkeypatch.setattr(tempfile, "mkstemp", refuse)
    path = tmp_path / "model.py"
    path.write_bytes(FINDING)
    inode = path.stat().st_ino
    assert fix(tmp_path) == (0, {})
    assert path.read_bytes() == FIXED
    assert path.stat().st_ino == inode


def edit_during_analysis(monkeypatch: pytest.MonkeyPatch, name: str, new: Optional[bytes]) -> None:
    """Make another program (an editor) save ``new`` into ``name`` (or delete it, for None) while
    bnlint analyses it."""
    import bnlint.fix_loop

    real = bnlint.fix_loop.fix_text

    def fix_text(text: str, filename: str, *args: object):  # type: ignore[no-untyped-def]
        result = real(text, filename, *args)
        if Path(filename).name == name:
            if new is None:
                Path(filename).unlink()
            else:
                Path(filename).write_bytes(new)
        return result

    monkeypatch.setattr(bnlint.fix_loop, "fix_text", fix_text)


CHANGED_MESSAGE = (
    "not fixed: the file changed on disk after bnlint read it (another program wrote it "
    "meanwhile), so it was left as it is; run bnlint again"
)


@needs_fork
def test_a_file_edited_while_bnlint_runs_is_not_overwritten(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    saved_by_editor = b"# the user's latest edit\n" + FINDING
    edit_during_analysis(monkeypatch, "edited.py", saved_by_editor)
    (tmp_path / "edited.py").write_bytes(FINDING)
    (tmp_path / "other.py").write_bytes(FINDING)
    code, found = fix(tmp_path)
    assert code == 1
    assert only_problem(found, "edited.py") == CHANGED_MESSAGE
    assert "other.py" not in found
    assert (tmp_path / "edited.py").read_bytes() == saved_by_editor
    assert (tmp_path / "other.py").read_bytes() == FIXED


@needs_fork
def test_a_file_deleted_while_bnlint_runs_is_not_written_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    edit_during_analysis(monkeypatch, "deleted.py", None)
    (tmp_path / "deleted.py").write_bytes(FINDING)
    code, found = fix(tmp_path)
    assert code == 1
    assert only_problem(found, "deleted.py") == CHANGED_MESSAGE
    assert sorted(p.name for p in tmp_path.iterdir()) == []


@needs_fork
def test_a_notebook_edited_while_bnlint_runs_is_not_overwritten(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import bnlint.notebooks

    def notebook(source: bytes) -> bytes:
        cell = {"cell_type": "code", "metadata": {}, "outputs": [], "source": [source.decode()]}
        return json.dumps({"cells": [cell], "metadata": {}, "nbformat": 4, "nbformat_minor": 5})

    original = notebook(FINDING).encode()
    saved_by_jupyter = notebook(b"# saved meanwhile\n" + FINDING).encode()
    real = bnlint.notebooks.check_notebook

    def check_notebook(data: bytes, name: str, *args: object, **kwargs: object):  # type: ignore[no-untyped-def]
        result = real(data, name, *args, **kwargs)
        Path(name).write_bytes(saved_by_jupyter)
        return result

    monkeypatch.setattr(bnlint.notebooks, "check_notebook", check_notebook)
    (tmp_path / "analysis.ipynb").write_bytes(original)
    code, found = fix(tmp_path)
    assert code == 1
    assert only_problem(found, "analysis.ipynb") == CHANGED_MESSAGE
    assert (tmp_path / "analysis.ipynb").read_bytes() == saved_by_jupyter


def test_an_edit_just_before_the_rename_is_not_overwritten(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "model.py"
    path.write_bytes(FINDING)
    real_fsync = os.fsync

    def fsync_while_an_editor_saves(handle: int) -> None:
        real_fsync(handle)
        path.write_bytes(b"# saved at the last moment\n")

    monkeypatch.setattr(os, "fsync", fsync_while_an_editor_saves)
    code, found = fix(tmp_path)
    assert code == 1
    assert only_problem(found, "model.py") == CHANGED_MESSAGE
    assert path.read_bytes() == b"# saved at the last moment\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.py"]


@pytest.mark.parametrize("failing", ["replace", "fsync"])
def test_a_failed_rename_or_sync_leaves_the_file_unchanged(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, failing: str
) -> None:
    def fail(*args: object) -> None:
        raise OSError(errno.EIO, "Input/output error")

    (tmp_path / "model.py").write_bytes(FINDING)
    monkeypatch.setattr(os, failing, fail)
    code, found = fix(tmp_path)
    assert code == 1
    assert only_problem(found, "model.py") == (
        "not fixed: cannot write the fixes (Input/output error); the file is unchanged"
    )
    assert (tmp_path / "model.py").read_bytes() == FINDING
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.py"]


def hard_linked(tmp_path: Path) -> tuple[Path, Path]:
    """A file with a finding and a second name (so that it is rewritten in place)."""
    path = tmp_path / "model.py"
    path.write_bytes(FINDING)
    other = tmp_path / "model.txt"
    os.link(path, other)
    return path, other


def test_a_disk_that_fills_during_an_in_place_write_gets_the_old_content_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path, other = hard_linked(tmp_path)
    real_ftruncate = os.ftruncate
    calls = []

    def ftruncate_fails_once(handle: int, length: int) -> None:
        calls.append(length)
        if len(calls) == 1:
            raise OSError(errno.ENOSPC, "No space left on device")
        real_ftruncate(handle, length)

    monkeypatch.setattr(os, "ftruncate", ftruncate_fails_once)
    code, found = fix(tmp_path, "model.py")
    assert code == 1
    assert only_problem(found, "model.py") == (
        "not fixed: cannot write the fixes (No space left on device); the file is unchanged"
    )
    assert path.read_bytes() == other.read_bytes() == FINDING
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.py", "model.txt"]


def test_when_even_the_old_content_cannot_be_written_back_a_copy_is_kept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    hard_linked(tmp_path)

    def ftruncate(handle: int, length: int) -> None:
        raise OSError(errno.EIO, "Input/output error")

    monkeypatch.setattr(os, "ftruncate", ftruncate)
    code, found = fix(tmp_path, "model.py")
    assert code == 1
    message = only_problem(found, "model.py")
    backups = [p for p in tmp_path.iterdir() if p.name.endswith(".bnlint-backup")]
    assert len(backups) == 1
    assert backups[0].read_bytes() == FINDING
    assert message == (
        "not fixed: cannot write the fixes (Input/output error), and the old content could not be "
        f"written back either; its old content is saved in {backups[0]}"
    )


def test_a_read_only_file_is_not_fixed(tmp_path: Path) -> None:
    path = tmp_path / "model.py"
    path.write_bytes(FINDING)
    path.chmod(0o444)
    if os.access(path, os.W_OK):
        pytest.skip("this user may write a read-only file (root)")
    code, found = fix(tmp_path)
    assert code == 1
    assert "the file is read-only" in only_problem(found, "model.py")
    assert path.read_bytes() == FINDING


# --- The cache is only an optimisation ---


def cached_run(folder: Path, *args: str) -> Result:
    """``bnlint check --output-format concise`` with the cache (in ``folder/.bnlint_cache``)."""
    old = Path.cwd()
    os.chdir(folder)
    try:
        return CliRunner().invoke(main, ["check", "--output-format", "concise", *args, "."])
    finally:
        os.chdir(old)


def test_a_disk_that_fills_while_the_cache_is_written_does_not_fail_the_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project(tmp_path, 3)
    expected = cached_run(tmp_path, "--no-cache")

    def dump_until_the_disk_is_full(value: object, stream, **kwargs: object) -> None:  # type: ignore[no-untyped-def]
        stream.write('{"entries": {"m0')
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(json, "dump", dump_until_the_disk_is_full)
    result = cached_run(tmp_path)
    assert (result.exit_code, result.output) == (expected.exit_code, expected.output)
    cache = tmp_path / ".bnlint_cache"
    assert [p.name for p in cache.rglob("*") if p.is_file() and p.suffix not in ("", ".TAG")] == []
    monkeypatch.undo()
    again = cached_run(tmp_path)
    assert (again.exit_code, again.output) == (expected.exit_code, expected.output)


def _damage(cache: Path, how: str) -> None:
    (cache_file,) = cache.rglob("*.json")
    if how == "truncated":
        cache_file.write_bytes(cache_file.read_bytes()[:40])
    elif how == "wrong types":
        data = json.loads(cache_file.read_text(encoding="utf-8"))
        for entry in data["entries"].values():
            for diagnostic in entry["diagnostics"]:
                diagnostic["code"] = 3
                diagnostic["location"]["row"] = "three"
        cache_file.write_text(json.dumps(data), encoding="utf-8")
    elif how == "not an object":
        cache_file.write_text('["entries"]', encoding="utf-8")
    elif how == "a folder":
        cache_file.unlink()
        cache_file.mkdir()
    elif how == "binary garbage":
        cache_file.write_bytes(os.urandom(64) + b"\xff\xfe")


@pytest.mark.parametrize(
    "how", ["truncated", "wrong types", "not an object", "a folder", "binary garbage"]
)
def test_a_corrupt_cache_is_ignored(tmp_path: Path, how: str) -> None:
    project(tmp_path, 3)
    expected = cached_run(tmp_path, "--no-cache")
    cached_run(tmp_path)
    _damage(tmp_path / ".bnlint_cache", how)
    result = cached_run(tmp_path)
    assert (result.exit_code, result.output) == (expected.exit_code, expected.output)


def test_a_cache_folder_that_cannot_be_created_is_skipped(tmp_path: Path) -> None:
    project(tmp_path, 3)
    (tmp_path / ".bnlint_cache").write_text("not a folder\n", encoding="utf-8")
    expected = cached_run(tmp_path, "--no-cache")
    result = cached_run(tmp_path)
    assert (result.exit_code, result.output, result.stderr) == (
        expected.exit_code,
        expected.output,
        "",
    )


# --- Every path argument gets an answer ---


@pytest.fixture
def odd_paths(tmp_path: Path) -> Iterator[Path]:
    """A folder with a symlink loop, a dangling link, a named pipe and a socket, all named ``.py``."""
    (tmp_path / "loop.py").symlink_to("loop.py")
    (tmp_path / "dangling.py").symlink_to("gone.py")
    if hasattr(os, "mkfifo"):
        os.mkfifo(tmp_path / "pipe.py")
    listening = None
    if hasattr(socket, "AF_UNIX") and len(str(tmp_path / "sock.py")) < 100:
        listening = socket.socket(socket.AF_UNIX)
        listening.bind(str(tmp_path / "sock.py"))
    (tmp_path / "good.py").write_bytes(FINDING)
    yield tmp_path
    if listening is not None:
        listening.close()


ODD_MESSAGES = {
    "loop.py": "cannot read: a symbolic link loop (too many levels of symbolic links)",
    "dangling.py": "cannot read: a dangling symbolic link (its target gone.py does not exist)",
    "pipe.py": "not read: it is a named pipe (FIFO), not a regular file",
    "sock.py": "not read: it is a socket, not a regular file",
}


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX file kinds")
@pytest.mark.parametrize("named", [False, True], ids=["met in the walk", "named"])
def test_every_path_gets_one_clear_answer(odd_paths: Path, named: bool) -> None:
    present = [name for name in ODD_MESSAGES if os.path.lexists(odd_paths / name)]
    arguments = [".", *present, "good.py"] if named else ["."]  # named twice when named
    code, found = lint(odd_paths, *arguments)
    assert code == 1
    assert findings(found, "good.py") == [("BNL003", FINDING_LINE)]
    assert {name: only_problem(found, name) for name in present} == {
        name: ODD_MESSAGES[name] for name in present
    }


def test_an_unreadable_folder_is_reported_once_and_the_run_goes_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    locked = tmp_path / "locked"
    locked.mkdir()
    (locked / "secret.py").write_bytes(FINDING)
    (tmp_path / "good.py").write_bytes(FINDING)
    real_scandir = os.scandir

    def scandir(path: object = "."):  # type: ignore[no-untyped-def]
        if Path(os.fsdecode(path)).name == "locked":  # type: ignore[arg-type]
            raise PermissionError(errno.EACCES, "Permission denied", os.fsdecode(path))  # type: ignore[arg-type]
        return real_scandir(path)  # type: ignore[arg-type]

    monkeypatch.setattr(os, "scandir", scandir)
    code, found = lint(tmp_path, ".", "locked")
    assert code == 1
    assert only_problem(found, "locked") == "cannot read the folder: Permission denied"
    assert findings(found, "good.py") == [("BNL003", FINDING_LINE)]


def test_a_path_the_system_refuses_to_look_at_is_reported_not_missing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """As in a folder without search permission (simulated: root may look anywhere)."""
    hidden = tmp_path / "private" / "model.py"
    hidden.parent.mkdir()
    hidden.write_bytes(FINDING)
    (tmp_path / "good.py").write_bytes(FINDING)
    real_stat, real_lstat = os.stat, os.lstat

    def refuse(real):  # type: ignore[no-untyped-def]
        def look(path, *args, **kwargs):  # type: ignore[no-untyped-def]
            if "private" in os.fsdecode(path):
                raise PermissionError(errno.EACCES, "Permission denied", os.fsdecode(path))
            return real(path, *args, **kwargs)

        return look

    monkeypatch.setattr(os, "stat", refuse(real_stat))
    monkeypatch.setattr(os, "lstat", refuse(real_lstat))
    code, found = lint(tmp_path, "private/model.py", "good.py")
    assert code == 1
    assert only_problem(found, "model.py") == "cannot read: Permission denied"
    assert findings(found, "good.py") == [("BNL003", FINDING_LINE)]


def test_a_path_that_does_not_exist_is_still_a_usage_error(tmp_path: Path) -> None:
    result = invoke(tmp_path, "nowhere.py")
    assert result.exit_code == 2
    assert "nowhere.py: no such file or folder" in result.stderr
