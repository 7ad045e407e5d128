"""Benchmark bnlint against the parse floor and its peers, side by side, in one run.

Builds a corpus of real Keras code from pinned wheels on PyPI (``.py`` files only), then measures with
interleaved repetitions and reports medians:

- bnlint cold (empty cache) and warm (cache filled by a previous run);
- the parse floor: read every file and LibCST-parse only those containing a trigger word, on all cores;
- ruff (default rules) cold and warm;
- fixit on a sample of files (per-file rate, if fixit is installed);
- one-file latency: a small Keras file against ``python -c "import libcst, click"``, and a file with
  nothing Keras in it against ``python -c "import click"``;
- peak memory of a cold bnlint run (the whole process tree, sampled);
- project summaries: how many imported modules a cold run summarised, how many of them it parsed
  only for their summaries (the prefilter kept them out of linting), and the time that took.

Usage::

    python -m pip install ruff fixit      # the peers (optional: missing ones are reported as such)
    python benchmarks/bench.py            # corpus cached in ~/.cache/bnlint-bench
    python benchmarks/bench.py --repeat 5 --corpus-dir /some/cache

It prints a Markdown table; the README shows the latest one.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Optional

WHEELS = (
    "keras==3.15.1",
    "tf-keras==2.21.0",
    "tf-models-official==2.20.0",
    "keras-hub==0.32.0",
    "keras-cv==0.9.0",
    "segmentation-models==1.0.1",
    "efficientnet==1.1.1",
)

#: The words of the parse floor (the union of the rules' trigger words, as the issue measured it).
FLOOR_TRIGGERS = (
    "trainable",
    "training",
    "BatchNorm",
    "batch_norm",
    "Dropout",
    "set_learning_phase",
    "GradientTape",
)

SMALL_KERAS_FILE = """\
from tensorflow import keras

base = keras.applications.MobileNetV2(include_top=False)
base.trainable = False
inputs = keras.Input((224, 224, 3))
x = base(inputs, training=False)
model = keras.Model(inputs, keras.layers.Dense(2)(x))
model.compile(optimizer="adam", loss="mse")
"""

PLAIN_FILE = """\
def add(a, b):
    return a + b


print(add(1, 2))
"""


def build_corpus(corpus_dir: Path) -> Path:
    """Download the pinned wheels (once) and extract their ``.py`` files; return the source folder."""
    from smoke import build_corpus as download_and_extract  # the same steps, for another wheel list

    return download_and_extract(corpus_dir, WHEELS)


def _parse_if_triggered(path: str) -> bool:
    import libcst

    with open(path, encoding="utf-8", errors="replace") as stream:
        text = stream.read()
    if any(word in text for word in FLOOR_TRIGGERS):
        with contextlib.suppress(Exception):  # the floor only measures time
            libcst.parse_module(text)
        return True
    return False


def parsed_files(files: Sequence[str]) -> tuple[int, set[str]]:
    """How many files the parse floor parses, and the files bnlint's prefilter lets through."""
    from bnlint.engine import LintOptions, passes_prefilter

    options = LintOptions()
    floor = 0
    ours: set[str] = set()
    for path in files:
        with open(path, encoding="utf-8", errors="replace") as stream:
            text = stream.read()
        floor += any(word in text for word in FLOOR_TRIGGERS)
        if passes_prefilter(text, options):
            ours.add(str(Path(path).resolve()))
    return floor, ours


def summary_figures(source: Path, linted: set[str], jobs: int) -> str:
    """One cold run in this process (no cache): the project modules it summarised, how many of them
    were parsed only for their summaries, and the time spent building them (summed over workers)."""
    from bnlint.engine import LintOptions
    from bnlint.project.config import Settings
    from bnlint.runner import RunOptions, lint_paths

    result = lint_paths([source], Settings(), LintOptions(), RunOptions(cache=False, jobs=jobs))
    summarised = {str(Path(path).resolve()) for path in result.summarised}
    analysis = sum(result.seconds.values())
    share = result.summary_seconds / analysis if analysis else 0.0
    return (
        f"project summaries (cold, no cache): {len(summarised)} modules summarised, "
        f"{len(summarised - linted)} of them parsed only for their summaries; "
        f"{result.summary_seconds:.1f} s building them, {share:.0%} of the {analysis:.1f} s "
        f"of analysis (both summed over workers)"
    )


def parse_floor(files: Sequence[str], jobs: int) -> None:
    """Read every file, LibCST-parse those with a trigger word, on ``jobs`` processes."""
    with ProcessPoolExecutor(jobs) as pool:
        list(pool.map(_parse_if_triggered, files, chunksize=16))


def run(command: Sequence[str], cwd: Optional[Path] = None) -> float:
    """Seconds one command takes (its output discarded)."""
    start = time.perf_counter()
    subprocess.run(
        command, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False
    )
    return time.perf_counter() - start


def peak_tree_memory(command: Sequence[str]) -> tuple[float, float]:
    """Peak memory (MiB) of a command and all its children, sampled every 20 ms: (RSS, PSS).

    RSS counts a page shared by forked workers once per process; PSS (proportional set size,
    /proc/PID/smaps_rollup) divides it among them, so the sum of PSS is what the tree really uses.
    """
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    peak_rss = peak_pss = 0
    stop = threading.Event()

    def sample() -> None:
        nonlocal peak_rss, peak_pss
        while not stop.is_set():
            rss, pss = _tree_memory(process.pid)
            peak_rss, peak_pss = max(peak_rss, rss), max(peak_pss, pss)
            time.sleep(0.02)

    sampler = threading.Thread(target=sample)
    sampler.start()
    process.wait()
    stop.set()
    sampler.join()
    return peak_rss / 1024, peak_pss / 1024


def _read_kib(path: str, key: str) -> int:
    with open(path) as stream:
        for line in stream:
            if line.startswith(key):
                return int(line.split()[1])
    return 0


def _tree_memory(root: int) -> tuple[int, int]:
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as stream:
                fields = stream.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(entry))
    rss = pss = 0
    stack = [root]
    while stack:
        pid = stack.pop()
        try:
            rss += _read_kib(f"/proc/{pid}/status", "VmRSS:")
            pss += _read_kib(f"/proc/{pid}/smaps_rollup", "Pss:")
        except OSError:
            pass
        stack.extend(children.get(pid, []))
    return rss, pss


def median_of(measurements: dict[str, list[float]], name: str, action: Callable[[], float]) -> None:
    """Run one measurement and record it under ``name``."""
    measurements.setdefault(name, []).append(action())


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus-dir", type=Path, default=Path.home() / ".cache" / "bnlint-bench")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--fixit-sample", type=int, default=40)
    parser.add_argument(
        "--latency-samples",
        type=int,
        default=5,
        help="one-file runs per repetition (they take a fraction of a second, so noise dominates)",
    )
    args = parser.parse_args(argv)

    source = build_corpus(args.corpus_dir)
    files = sorted(str(p) for p in source.rglob("*.py"))
    bnlint = [sys.executable, "-m", "bnlint"]
    ruff = _tool("ruff")
    fixit = _tool("fixit")
    work = Path(tempfile.mkdtemp(prefix="bnlint-bench-"))
    small = work / "small_keras.py"
    small.write_text(SMALL_KERAS_FILE)
    plain = work / "plain.py"
    plain.write_text(PLAIN_FILE)
    warm_cache = work / "warm-cache"
    ruff_cache = work / "ruff-cache"
    sample = files[:: max(1, len(files) // args.fixit_sample)][: args.fixit_sample]

    print(
        f"corpus: {len(files)} .py files from {len(WHEELS)} wheels; {args.jobs} jobs; {args.repeat} repetitions"
    )
    floor_count, linted = parsed_files(files)
    print(
        f"parsed: {floor_count} files by the parse floor (a trigger word anywhere), "
        f"{len(linted)} by bnlint (a trigger word in code, not in comments or docstrings)"
    )
    run([*bnlint, "check", str(source), "--exit-zero", "--cache-dir", str(warm_cache)])
    if ruff:
        run([ruff, "check", "--exit-zero", "--cache-dir", str(ruff_cache), str(source)])

    measured: dict[str, list[float]] = {}
    for repetition in range(args.repeat):
        cold_cache = work / f"cold-{repetition}"
        median_of(
            measured,
            "bnlint cold",
            lambda cache=cold_cache: run(
                [*bnlint, "check", str(source), "--exit-zero", "--cache-dir", str(cache)]
            ),
        )
        median_of(
            measured,
            "bnlint warm",
            lambda: run(
                [*bnlint, "check", str(source), "--exit-zero", "--cache-dir", str(warm_cache)]
            ),
        )
        median_of(measured, "parse floor", lambda: _timed(lambda: parse_floor(files, args.jobs)))
        if ruff:
            median_of(
                measured,
                "ruff cold",
                lambda: run([ruff, "check", "--exit-zero", "--no-cache", str(source)]),
            )
            median_of(
                measured,
                "ruff warm",
                lambda: run(
                    [ruff, "check", "--exit-zero", "--cache-dir", str(ruff_cache), str(source)]
                ),
            )
        if fixit:
            median_of(
                measured, f"fixit ({len(sample)} files)", lambda: run([fixit, "lint", *sample])
            )
        latency = (
            ("bnlint one Keras file", [*bnlint, "check", "--no-cache", "--exit-zero", str(small)]),
            ('python -c "import libcst, click"', [sys.executable, "-c", "import libcst, click"]),
            ("bnlint one plain file", [*bnlint, "check", "--no-cache", "--exit-zero", str(plain)]),
            ('python -c "import click"', [sys.executable, "-c", "import click"]),
        )
        for _ in range(args.latency_samples):  # short runs: more samples, each pair side by side
            for name, command in latency:
                median_of(measured, name, lambda command=command: run(command))
    memory_rss, memory = peak_tree_memory(
        [*bnlint, "check", str(source), "--exit-zero", "--no-cache"]
    )

    summaries = summary_figures(source, linted, args.jobs)

    medians = {name: statistics.median(values) for name, values in measured.items()}
    print(summaries)
    print()
    print("| measurement | median (s) | all runs (s) |")
    print("|---|---:|---|")
    for name, values in measured.items():
        runs = (
            ", ".join(f"{v:.3f}" for v in values) if len(values) <= 5 else f"{len(values)} runs, "
        )
        if len(values) > 5:
            runs += f"{min(values):.3f} to {max(values):.3f}"
        print(f"| {name} | {medians[name]:.3f} | {runs} |")
    print(f"| bnlint cold, peak memory of the process tree, PSS (MiB) | {memory:.0f} | |")
    print(f"| bnlint cold, peak memory of the process tree, RSS (MiB) | {memory_rss:.0f} | |")
    print()
    print("| target | ratio | met |")
    print("|---|---:|---|")
    _target(medians, "bnlint cold", "parse floor", 1.5)
    if ruff:
        _target(medians, "bnlint warm", "ruff warm", 0.5)
    _target(medians, "bnlint one Keras file", 'python -c "import libcst, click"', 1.3)
    _target(medians, "bnlint one plain file", 'python -c "import click"', 2.0)
    print(
        f"| peak memory (PSS) <= 400 MiB | {memory:.0f} MiB | {'yes' if memory <= 400 else 'NO'} |"
    )
    if fixit:
        name = f"fixit ({len(sample)} files)"
        print(f"\nfixit: {len(sample) / medians[name]:.1f} files/s on the sample")
    shutil.rmtree(work, ignore_errors=True)
    return 0


def _tool(name: str) -> Optional[str]:
    """A peer's command: the one installed beside this Python first (a venv not activated), then
    the one on PATH."""
    return shutil.which(name, path=str(Path(sys.executable).parent)) or shutil.which(name)


def _timed(action: Callable[[], None]) -> float:
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def _target(medians: dict[str, float], name: str, reference: str, limit: float) -> None:
    ratio = medians[name] / medians[reference]
    print(
        f"| {name} <= {limit}x {reference} | {ratio:.2f}x | {'yes' if ratio <= limit else 'NO'} |"
    )


if __name__ == "__main__":
    raise SystemExit(main())
