"""Smoke run: lint more than 10,000 real ``.py`` files from pinned PyPI wheels, plus pathological files,
and check that nothing crashes, nothing hangs and every file is accounted for.

A crash is any run of ``bnlint check --output-format json --exit-zero`` that exits non-zero (2 is an
internal error, a negative code a signal), prints a traceback on standard error, prints something that
is not a JSON array, or does not end within an hour. The expected figure is 0; every unparsable file
must instead be one BNL000 diagnostic. A file is accounted for when bnlint reports how long it took
(``--durations 0``) or reports a BNL000 on it; every file bnlint's discovery finds must be.

The pathological files (written next to the corpus) are the shapes that once stalled or crashed the
parser: chains of 20,000 attribute accesses, calls, subscripts or operators, 5,000 nested brackets, NUL
bytes, and deep chains in statements that do not parse (which once ran into the per-file time limit).

Usage::

    python benchmarks/smoke.py                       # corpus cached in ~/.cache/bnlint-smoke
    python benchmarks/smoke.py --cache-dir /some/dir --json summary.json

It is not part of the default test run: downloading the corpus takes a while (about 70 MB of wheels) and
linting it takes minutes. It prints a Markdown report: files, findings per code, BNL000 count, crashes and
wall time.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import time
import zipfile
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

from bench import WHEELS as BENCHMARK_WHEELS  # the Keras corpus of the benchmark

#: Pure-Python wheels (no platform tag), so the same pins download everywhere. The Keras ecosystem
#: first (the code bnlint is for), then large general corpora for volume and variety.
WHEELS = (
    *BENCHMARK_WHEELS,
    "transformers==5.24.0",
    "django==5.2.19",
    "sympy==1.14.0",
    "networkx==3.6.1",
    "pygments==2.21.0",
    "pip==26.3",
    "setuptools==84.2.1",
)

MINIMUM_FILES = 10_000

#: How long the whole run may take before it counts as hung.
HANG_SECONDS = 3600

#: The trigger words that make bnlint parse a file.
_TRIGGERED = "import keras\nmodel.trainable = False\n"

#: Files that once stalled or crashed the parser: name -> content.
PATHOLOGICAL = {
    "attribute_chain.py": _TRIGGERED + "x = a" + ".a" * 20_000 + "\n",
    "call_chain.py": _TRIGGERED + "x = f" + "()" * 20_000 + "\n",
    "subscript_chain.py": _TRIGGERED + "x = a" + "[0]" * 20_000 + "\n",
    "unary_chain.py": _TRIGGERED + "x = " + "-" * 20_000 + "a\n",
    "chain_over_lines.py": _TRIGGERED + "x = (a" + "\n    .a" * 20_000 + ")\n",
    "nested_brackets.py": _TRIGGERED + "x = " + "(" * 5_000 + ")" * 5_000 + "\n",
    "nul_bytes.py": _TRIGGERED + "x = '\0'\n",
    "chain_near_the_limit.py": _TRIGGERED + "x = a" + ".a" * 2_900 + "\n",
    "chain_before_a_syntax_error.py": _TRIGGERED + "x = a" + ".a" * 20_000 + "\ndef (:\n",
    "chain_in_a_broken_statement.py": _TRIGGERED + "x = a" + ".a" * 20_000 + " +\n",
    "operators_in_a_broken_statement.py": _TRIGGERED + "x = a" + " + a" * 20_000 + " +\n",
}


def build_corpus(cache_dir: Path, wheels: Sequence[str] = WHEELS) -> Path:
    """Download the pinned wheels (once) and extract their ``.py`` files; return the source folder."""
    wheel_dir = cache_dir / "wheels"
    source = cache_dir / "src"
    marker = cache_dir / "complete"
    wanted = "\n".join(wheels) + "\n"
    if marker.exists() and marker.read_text() == wanted:
        return source
    wheel_dir.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--quiet",
            "--no-deps",
            "--only-binary=:all:",
            "-d",
            str(wheel_dir),
            *wheels,
        ],
        check=True,
    )
    for wheel in sorted(wheel_dir.glob("*.whl")):
        target = source / wheel.stem
        if target.exists():
            continue
        with zipfile.ZipFile(wheel) as archive:
            for name in archive.namelist():
                if name.endswith(".py"):
                    archive.extract(name, target)
    marker.write_text(wanted)
    return source


def write_pathological(folder: Path) -> Path:
    """Write the pathological files into ``folder``; return it."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, content in PATHOLOGICAL.items():
        (folder / name).write_text(content, encoding="utf-8")
    return folder


def discovered(sources: Sequence[Path]) -> set[str]:
    """The files bnlint's own discovery finds under ``sources`` (excluded folders left out), as it
    names them."""
    from bnlint.project.discovery import discover

    return {path.as_posix() for path in discover(sources, [], Path.cwd())}


@dataclass
class SmokeResult:
    """What one smoke run measured."""

    files: int
    seconds: float
    returncode: int
    findings: Counter = field(default_factory=Counter)
    parse_errors: list[dict] = field(default_factory=list)
    crashes: list[str] = field(default_factory=list)
    #: File name -> seconds its analysis took (``--durations 0``).
    durations: dict[str, float] = field(default_factory=dict)
    #: Files discovery found that the run gave no answer for.
    unaccounted: list[str] = field(default_factory=list)

    def summary(self) -> dict:
        """The figures as a JSON-ready dict."""
        return {
            "files": self.files,
            "seconds": round(self.seconds, 1),
            "returncode": self.returncode,
            "findings": dict(sorted(self.findings.items())),
            "bnl000": len(self.parse_errors),
            "crashes": len(self.crashes),
            "unaccounted": len(self.unaccounted),
            "slowest": {name: round(seconds, 2) for name, seconds in self.slowest(10)},
        }

    def slowest(self, count: int) -> list[tuple[str, float]]:
        """The ``count`` slowest files and their seconds."""
        return sorted(self.durations.items(), key=lambda item: -item[1])[:count]


def supports(option: str) -> bool:
    """Whether this bnlint's ``check`` command has ``option``."""
    help_text = subprocess.run(
        [sys.executable, "-m", "bnlint", "check", "--help"],
        capture_output=True,
        text=True,
        check=False,
    ).stdout
    return option in help_text


_DURATION = re.compile(r"^\s*(\d+\.\d+)s  (.*)$")


def lint(sources: Sequence[Path], extra: Sequence[str]) -> SmokeResult:
    """Run bnlint on ``sources`` in a subprocess and classify what came back."""
    command = [
        sys.executable,
        "-m",
        "bnlint",
        "check",
        "--output-format",
        "json",
        "--exit-zero",
        *extra,
        *(str(source) for source in sources),
    ]
    if supports("--no-cache"):
        command.insert(-len(sources), "--no-cache")
    accounting = supports("--durations")
    if accounting:
        command[-len(sources) : -len(sources)] = ["--durations", "0"]
    expected = discovered(sources)
    start = time.perf_counter()
    try:
        process = subprocess.run(
            command, capture_output=True, text=True, check=False, timeout=HANG_SECONDS
        )
    except subprocess.TimeoutExpired:
        result = SmokeResult(len(expected), time.perf_counter() - start, -1)
        result.crashes.append(f"hung: no end after {HANG_SECONDS} s")
        return result
    seconds = time.perf_counter() - start
    result = SmokeResult(len(expected), seconds, process.returncode)
    for line in process.stderr.splitlines():
        match = _DURATION.match(line)
        if match:
            result.durations[match.group(2)] = float(match.group(1))
    if process.returncode != 0:
        result.crashes.append(f"exit code {process.returncode}")
    if "Traceback (most recent call last)" in process.stderr:
        result.crashes.append("traceback on stderr:\n" + process.stderr[-3000:])
    try:
        diagnostics = json.loads(process.stdout)
    except json.JSONDecodeError:
        result.crashes.append("stdout is not JSON:\n" + process.stdout[-1000:])
        return result
    if not isinstance(diagnostics, list):
        result.crashes.append("stdout is not a JSON array")
        return result
    for diagnostic in diagnostics:
        result.findings[diagnostic["code"]] += 1
        if diagnostic["code"] == "BNL000":
            result.parse_errors.append(diagnostic)
    if accounting:
        answered = set(result.durations) | {d["filename"] for d in result.parse_errors}
        result.unaccounted = sorted(expected - answered)
    return result


def report(result: SmokeResult, source: Path, pathological: Optional[Path] = None) -> str:
    """The Markdown report of a smoke run."""
    lines = [
        "| figure | value |",
        "| --- | --- |",
        f"| files linted | {result.files:,} |",
        f"| wall time | {result.seconds:.1f} s |",
        f"| exit code | {result.returncode} |",
        f"| crashes | {len(result.crashes)} |",
        f"| files not accounted for | {len(result.unaccounted)} |",
        f"| BNL000 (unreadable / unparsable files) | {len(result.parse_errors)} |",
    ]
    lines.extend(
        f"| findings {code} | {count} |"
        for code, count in sorted(result.findings.items())
        if code != "BNL000"
    )
    messages = Counter(
        d["message"].split(":")[0] + ": " + d["message"].split(":", 1)[-1].strip()[:60]
        for d in result.parse_errors
    )
    if messages:
        lines.append("")
        lines.append("BNL000 messages:")
        lines.extend(f"- {count} x {message}" for message, count in messages.most_common(10))
        lines.append("")
        lines.append("BNL000 files (first 10):")
        lines.extend(
            f"- {_relative(d['filename'], source)}:{d['location']['row']}"
            for d in result.parse_errors[:10]
        )
    if result.durations:
        lines.extend(["", "Slowest files:", "", "| seconds | file |", "| ---: | --- |"])
        lines.extend(
            f"| {seconds:.2f} | {_relative(name, source)} |" for name, seconds in result.slowest(10)
        )
    if pathological is not None:
        lines.extend(
            ["", "Pathological files:", "", "| file | seconds | outcome |", "| --- | ---: | --- |"]
        )
        for name in PATHOLOGICAL:
            path = (pathological / name).as_posix()
            said = [d["message"][:90] for d in result.parse_errors if d["filename"] == path]
            spent = result.durations.get(path)
            lines.append(
                f"| {name} | {spent if spent is None else f'{spent:.2f}'} | "
                f"{'; '.join(said) or 'analysed, no BNL000'} |"
            )
    lines.extend(f"- not accounted for: {name}" for name in result.unaccounted[:20])
    for crash in result.crashes:
        lines.append("")
        lines.append("CRASH: " + crash)
    return "\n".join(lines) + "\n"


def _relative(name: str, source: Path) -> str:
    try:
        return Path(name).relative_to(source).as_posix()
    except ValueError:
        return name


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Build the corpus, lint it, print the report; exit 1 on any crash or too small a corpus."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cache-dir", type=Path, default=Path.home() / ".cache" / "bnlint-smoke")
    parser.add_argument("--json", type=Path, help="Also write the figures to this JSON file.")
    parser.add_argument("extra", nargs="*", help="Further options for `bnlint check` (after `--`).")
    args = parser.parse_args(argv)

    source = build_corpus(args.cache_dir)
    pathological = write_pathological(args.cache_dir / "pathological")
    result = lint([source, pathological], args.extra)
    sys.stdout.write(report(result, source, pathological))
    if args.json is not None:
        args.json.write_text(json.dumps(result.summary(), indent=2) + "\n")
    if result.files < MINIMUM_FILES:
        print(f"too small a corpus: {result.files} files < {MINIMUM_FILES}", file=sys.stderr)
        return 1
    return 1 if result.crashes or result.unaccounted else 0


if __name__ == "__main__":
    sys.exit(main())
