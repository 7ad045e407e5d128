"""Smoke run: lint more than 10,000 real ``.py`` files from pinned PyPI wheels and count crashes.

A crash is any run of ``bnlint check --output-format json --exit-zero`` that exits non-zero (2 is an
internal error, a negative code a signal), prints a traceback on standard error, or prints something
that is not a JSON array. The expected figure is 0; every unparsable file must instead be one BNL000
diagnostic.

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


def count_files(source: Path) -> int:
    """How many files bnlint's own discovery finds under ``source`` (excluded folders left out)."""
    from bnlint.project.discovery import discover

    return sum(1 for _ in discover([source], [], source))


@dataclass
class SmokeResult:
    """What one smoke run measured."""

    files: int
    seconds: float
    returncode: int
    findings: Counter = field(default_factory=Counter)
    parse_errors: list[dict] = field(default_factory=list)
    crashes: list[str] = field(default_factory=list)

    def summary(self) -> dict:
        """The figures as a JSON-ready dict."""
        return {
            "files": self.files,
            "seconds": round(self.seconds, 1),
            "returncode": self.returncode,
            "findings": dict(sorted(self.findings.items())),
            "bnl000": len(self.parse_errors),
            "crashes": len(self.crashes),
        }


def supports(option: str) -> bool:
    """Whether this bnlint's ``check`` command has ``option``."""
    help_text = subprocess.run(
        [sys.executable, "-m", "bnlint", "check", "--help"],
        capture_output=True,
        text=True,
        check=False,
    ).stdout
    return option in help_text


def lint(source: Path, extra: Sequence[str]) -> SmokeResult:
    """Run bnlint on ``source`` in a subprocess and classify what came back."""
    command = [
        sys.executable,
        "-m",
        "bnlint",
        "check",
        "--output-format",
        "json",
        "--exit-zero",
        *extra,
        str(source),
    ]
    if supports("--no-cache"):
        command.insert(-1, "--no-cache")
    start = time.perf_counter()
    process = subprocess.run(command, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - start
    result = SmokeResult(count_files(source), seconds, process.returncode)
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
    return result


def report(result: SmokeResult, source: Path) -> str:
    """The Markdown report of a smoke run."""
    lines = [
        "| figure | value |",
        "| --- | --- |",
        f"| files linted | {result.files:,} |",
        f"| wall time | {result.seconds:.1f} s |",
        f"| exit code | {result.returncode} |",
        f"| crashes | {len(result.crashes)} |",
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
            f"- {Path(d['filename']).relative_to(source)}:{d['location']['row']}"
            for d in result.parse_errors[:10]
        )
    for crash in result.crashes:
        lines.append("")
        lines.append("CRASH: " + crash)
    return "\n".join(lines) + "\n"


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Build the corpus, lint it, print the report; exit 1 on any crash or too small a corpus."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cache-dir", type=Path, default=Path.home() / ".cache" / "bnlint-smoke")
    parser.add_argument("--json", type=Path, help="Also write the figures to this JSON file.")
    parser.add_argument("extra", nargs="*", help="Further options for `bnlint check` (after `--`).")
    args = parser.parse_args(argv)

    source = build_corpus(args.cache_dir)
    result = lint(source, args.extra)
    sys.stdout.write(report(result, source))
    if args.json is not None:
        args.json.write_text(json.dumps(result.summary(), indent=2) + "\n")
    if result.files < MINIMUM_FILES:
        print(f"too small a corpus: {result.files} files < {MINIMUM_FILES}", file=sys.stderr)
        return 1
    return 1 if result.crashes else 0


if __name__ == "__main__":
    sys.exit(main())
