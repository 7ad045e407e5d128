"""Parallel workers, crash isolation, internal errors and the results cache, as a user meets them."""

from __future__ import annotations

import faulthandler
import json
import multiprocessing
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bnlint import engine, runner
from bnlint.rules import rules_by_code
from bnlint.workers import Sharing, WorkerCrash, map_in_workers, plan_chunks, run_in_workers
from tests.conftest import run_cli

BAD = "from tensorflow import keras\n\nlayer = keras.layers.Dropout(0.5, trainable=False)\n"
GOOD = "from tensorflow import keras\n\nlayer = keras.layers.Dropout(0.5)\n"
PLAIN = "def add(a, b):\n    return a + b\n"

needs_fork = pytest.mark.skipif(
    "fork" not in multiprocessing.get_all_start_methods(),
    reason="in-process monkeypatches reach workers only when they are forked",
)


def _project(root: Path, files: int = 40) -> Path:
    """A project with bad, good and plain files, and a pyproject.toml marking its root."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "pyproject.toml").write_text("[tool.bnlint]\n", encoding="utf-8")
    for index in range(files):
        text = (BAD, GOOD, PLAIN)[index % 3]
        (root / f"m{index:03d}.py").write_text(text, encoding="utf-8")
    return root


def _json(*args: str) -> tuple[int, list[dict]]:
    result = run_cli("check", "--output-format", "json", *args)
    return result.exit_code, json.loads(result.stdout)


def test_parallel_output_is_identical_to_a_serial_run(tmp_path: Path) -> None:
    project = _project(tmp_path / "p", files=60)
    serial = run_cli("check", str(project), "--no-cache", "-j", "1")
    parallel = run_cli("check", str(project), "--no-cache", "-j", "2")
    assert serial.exit_code == parallel.exit_code == 1
    assert serial.output == parallel.output
    concise = run_cli("check", str(project), "--no-cache", "-j", "2", "--output-format", "concise")
    assert concise.output.count(" BNL003 ") == 20


def _explode_on_crash_files(original):  # type: ignore[no-untyped-def]
    def lint_text(text: str, filename: str, options, summaries=None):  # type: ignore[no-untyped-def]
        if "crash" in filename:
            faulthandler.disable()  # a real segfault prints nothing either
            os.kill(os.getpid(), signal.SIGSEGV)
        return original(text, filename, options, summaries)

    return lint_text


@needs_fork
def test_a_worker_that_dies_is_reported_and_the_run_goes_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = _project(tmp_path / "p", files=60)
    (project / "crash_me.py").write_text(BAD, encoding="utf-8")
    monkeypatch.setattr("bnlint.runner.lint_text", _explode_on_crash_files(engine.lint_text))
    code, found = _json(str(project), "--no-cache", "-j", "2")
    crashed = [d for d in found if d["filename"].endswith("crash_me.py")]
    assert code == 1
    assert [(d["code"], d["name"]) for d in crashed] == [("BNL000", "parse-error")]
    assert "killed by SIGSEGV (segmentation fault)" in crashed[0]["message"]
    assert sum(1 for d in found if d["code"] == "BNL003") == 20


def _die_on_three(value: int) -> int:
    if value == 3:
        os._exit(70)
    return value * 10


def test_map_in_workers_isolates_the_item_that_kills_its_process() -> None:
    results = map_in_workers(_die_on_three, list(range(40)), jobs=2)
    assert isinstance(results[3], WorkerCrash)
    assert [r for i, r in enumerate(results) if i != 3] == [i * 10 for i in range(40) if i != 3]


def test_map_in_workers_starts_the_costliest_items_first_and_keeps_the_order() -> None:
    costs = [1, 5, 1, 1000, 1, 300, *([2] * 60)]
    chunks = plan_chunks(costs, jobs=2)
    assert chunks[0] == [3] and chunks[1] == [5]
    assert sorted(index for chunk in chunks for index in chunk) == list(range(len(costs)))
    results = map_in_workers(_times_ten, list(range(len(costs))), jobs=2, costs=costs)
    assert results == [i * 10 for i in range(len(costs))]


def _times_ten(item: int) -> int:
    return item * 10


#: What a worker process has heard from the others (each forked worker has its own copy).
_HEARD: list[int] = []


def _hear(news: int) -> None:
    _HEARD.append(news)


def _pid_and_heard(item: int) -> tuple[int, list[int]]:
    time.sleep(0.01)
    return os.getpid(), list(_HEARD)


@needs_fork
def test_workers_hear_what_the_other_workers_results_tell() -> None:
    """How a cold run shares summaries: the news of a result reaches the other workers."""
    sharing = Sharing(news=lambda result: result[0], hear=_hear)
    mapped = run_in_workers(_pid_and_heard, list(range(40)), jobs=2, sharing=sharing)
    pids = {pid for pid, _ in mapped.results}
    assert len(pids) == 2
    assert any(told != pid for pid, heard in mapped.results for told in heard)
    assert _HEARD == []  # this process was told nothing


def test_a_failing_rule_is_an_internal_error_and_the_other_rules_still_report(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(self, context):  # type: ignore[no-untyped-def]
        raise ValueError("boom")

    monkeypatch.setattr(rules_by_code()["BNL001"], "check", broken)
    target = tmp_path / "bad.py"
    target.write_text(BAD, encoding="utf-8")
    result = run_cli("check", str(target), "--no-cache", "--output-format", "concise")
    assert result.exit_code == 2
    assert "BNL000 internal error: BNL001 failed (ValueError: boom)" in result.output
    assert "BNL003" in result.output


def test_the_cache_answers_a_second_run_without_analysing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = _project(tmp_path / "p", files=9)
    first = run_cli("check", str(project))
    assert (project / ".bnlint_cache" / "CACHEDIR.TAG").is_file()

    def refuse(*args: object) -> None:
        raise AssertionError("analysed a file the cache knows")

    monkeypatch.setattr("bnlint.runner.lint_text", refuse)
    second = run_cli("check", str(project))
    assert second.exit_code == first.exit_code == 1
    assert second.output == first.output


def test_a_changed_file_is_linted_again(tmp_path: Path) -> None:
    project = _project(tmp_path / "p", files=3)

    def count() -> int:
        return run_cli("check", str(project), "--output-format", "concise").output.count(" BNL003 ")

    assert count() == 1
    (project / "m001.py").write_text(BAD, encoding="utf-8")
    assert count() == 2
    (project / "m000.py").write_text(GOOD, encoding="utf-8")
    assert count() == 1


def test_per_file_ignores_apply_to_cached_results(tmp_path: Path) -> None:
    project = _project(tmp_path / "p", files=3)
    run_cli("check", str(project))
    (project / "pyproject.toml").write_text(
        '[tool.bnlint]\nper-file-ignores = {"m000.py" = ["BNL003"]}\n', encoding="utf-8"
    )
    result = run_cli("check", str(project))
    assert result.exit_code == 0, result.output


def test_no_cache_writes_nothing_and_cache_dir_moves_it(tmp_path: Path) -> None:
    project = _project(tmp_path / "p", files=3)
    run_cli("check", str(project), "--no-cache")
    assert not (project / ".bnlint_cache").exists()
    elsewhere = tmp_path / "cache"
    run_cli("check", str(project), "--cache-dir", str(elsewhere))
    assert not (project / ".bnlint_cache").exists()
    assert list(elsewhere.rglob("*.json"))


def test_cache_dir_from_the_configuration(tmp_path: Path) -> None:
    project = _project(tmp_path / "p", files=3)
    (project / "pyproject.toml").write_text('[tool.bnlint]\ncache-dir = "build/lint"\n', "utf-8")
    run_cli("check", str(project))
    assert list((project / "build" / "lint").rglob("*.json"))


def test_fixing_never_trusts_the_cache(tmp_path: Path) -> None:
    project = _project(tmp_path / "p", files=3)
    run_cli("check", str(project))
    result = run_cli("check", str(project), "--fix")
    assert result.exit_code == 0, result.output
    assert (project / "m000.py").read_text(encoding="utf-8") == GOOD


def test_two_runs_sharing_a_cache_at_once_both_succeed(tmp_path: Path) -> None:
    project = _project(tmp_path / "p", files=30)
    command = [sys.executable, "-m", "bnlint", "check", str(project), "-j", "1"]
    runs = [subprocess.Popen(command, stdout=subprocess.PIPE, text=True) for _ in range(2)]
    outputs = [run.communicate()[0] for run in runs]
    assert [run.returncode for run in runs] == [1, 1]
    assert outputs[0] == outputs[1]
    for cache_file in (project / ".bnlint_cache").rglob("*.json"):
        assert isinstance(json.loads(cache_file.read_text(encoding="utf-8"))["entries"], dict)
    assert subprocess.run(command, capture_output=True, text=True).stdout == outputs[0]


def test_very_large_files_are_analysed_one_at_a_time_with_the_same_results(
    tmp_path: Path,
) -> None:
    project = _project(tmp_path / "p", files=40)
    padding = "# padding line to make a large file\n" * 30_000
    (project / "large.py").write_text(padding + BAD, encoding="utf-8")
    assert (project / "large.py").stat().st_size > runner.ISOLATED_FILE_BYTES
    serial = run_cli("check", str(project), "--no-cache", "-j", "1", "--output-format", "concise")
    parallel = run_cli("check", str(project), "--no-cache", "-j", "2", "--output-format", "concise")
    assert serial.output == parallel.output
    assert "large.py:30003:" in parallel.output
