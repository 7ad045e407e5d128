"""Where each file is analysed: in a worker process that the parent watches, so that no file can stall or
crash the run, or right here when the file needs no parsing. The workers (and multiprocessing) are
imported only when a file needs one.

A parse can crash its process (LibCST's native parser) or run for minutes without the interpreter being
able to interrupt it, so analysis runs in worker processes under a time limit per file (see
``workers``), whether the run has one file or ten thousand. A file that cannot need a parse (it holds no
trigger word) is analysed here when the run is small: forking a worker for it would only add latency.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Optional, TypeVar

if TYPE_CHECKING:
    from bnlint.workers import Sharing

T = TypeVar("T")
R = TypeVar("R")

#: LibCST needs about 800 bytes per byte of source while it parses. Large files are parsed in parts
#: (see parse_in_parts), which bounds that, unless one top-level statement is huge (generated code, a
#: giant literal). Files larger than this are therefore analysed after the others, one at a time,
#: each in a process of its own, so that two such parses never run at once.
ISOLATED_FILE_BYTES = 1024 * 1024

REPORT_URL = "https://github.com/bnlint/bnlint/issues"


def analyse_guarded(
    analyse: Callable[[T], R],
    tasks: Sequence[T],
    sizes: Sequence[int],
    jobs: int,
    timeout: Optional[float],
    failed: Callable[[T, str], R],
    here: Optional[Callable[[T], bool]] = None,
    sharing: Optional[Sharing[R]] = None,
) -> Iterator[tuple[T, R, float]]:
    """(task, its result, seconds it took) for every task, in the tasks' order.

    Tasks for which ``here`` is true run in this process; the others in ``jobs`` worker processes,
    each under ``timeout`` seconds (None: no limit), files larger than ``ISOLATED_FILE_BYTES`` last
    and one at a time. A task whose analysis crashed or ran out of time gives ``failed(task, what
    happened)``. When no worker process can be started, everything runs here and a warning says so.
    ``sharing`` passes what a worker learnt on to the others (see ``workers.Sharing``).
    """
    import time

    guarded: list[int] = []
    for index, task in enumerate(tasks):
        if here is not None and here(task):
            started = time.perf_counter()
            value = analyse(task)
            yield task, value, time.perf_counter() - started
        else:
            guarded.append(index)
    if not guarded:
        return
    from bnlint.workers import run_in_workers

    pooled = [index for index in guarded if sizes[index] <= ISOLATED_FILE_BYTES]
    alone = [index for index in guarded if sizes[index] > ISOLATED_FILE_BYTES]
    warned = False
    for indices, one_process_per_item in ((pooled, False), (alone, True)):
        if not indices:
            continue
        mapped = run_in_workers(
            analyse,
            [tasks[index] for index in indices],
            1 if one_process_per_item else jobs,
            [sizes[index] for index in indices],
            timeout,
            one_process_per_item,
            sharing,
        )
        if mapped.unisolated is not None and not warned:
            _warn_unisolated(mapped.unisolated)
            warned = True
        for index, value, seconds in zip(indices, mapped.results, mapped.seconds):
            task = tasks[index]
            failure = failure_message(value)
            yield task, (value if failure is None else failed(task, failure)), seconds


def call_guarded(
    function: Callable[[T], R], argument: T, timeout: Optional[float], failed: Callable[[str], R]
) -> R:
    """``function(argument)`` in a worker process under the time limit (see ``analyse_guarded``);
    ``failed(what happened)`` when it crashed or ran out of time."""
    from bnlint.workers import run_in_workers

    mapped = run_in_workers(function, [argument], 1, None, timeout)
    if mapped.unisolated is not None:
        _warn_unisolated(mapped.unisolated)
    failure = failure_message(mapped.results[0])
    return mapped.results[0] if failure is None else failed(failure)  # type: ignore[return-value]


def failure_message(value: object) -> Optional[str]:
    """What a user reads (a BNL000 message) for a value from the workers that is a failure (a crash,
    a time-out), else None."""
    from bnlint.workers import TimedOut, WorkerCrash

    if isinstance(value, TimedOut):
        return (
            f"not analysed: analysing this file took longer than the time limit of "
            f"{value.seconds:g} s; raise it with --timeout or `timeout` in [tool.bnlint] "
            "(0 means no limit)"
        )
    if isinstance(value, WorkerCrash):
        return (
            f"not analysed: the process analysing this file crashed ({value.reason}), most likely "
            f"in LibCST's native parser; please report it at {REPORT_URL}"
        )
    return None


def _warn_unisolated(reason: str) -> None:
    import sys

    print(
        f"bnlint: warning: cannot start a worker process ({reason}); files are analysed in this "
        "process, without a time limit",
        file=sys.stderr,
    )
