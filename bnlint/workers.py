"""Run one function over many items on worker processes, and notice a worker that dies.

LibCST can kill the process it runs in (a segfault on pathological input). In a worker, that breaks the
pool: the items of every unfinished chunk are then run again one by one, each in a process of its own,
so that only the item that really crashes is reported as such and every other item still gets its result.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from typing import Generic, Optional, TypeVar, Union

T = TypeVar("T")
R = TypeVar("R")

#: Chunks of equal cost per worker: the last chunks are what may run while other workers idle, so
#: they are kept small (a thirty-second of a worker's share); messaging stays cheap with MAX_CHUNK.
CHUNKS_PER_WORKER = 32
MAX_CHUNK = 32


@dataclass(frozen=True)
class WorkerCrash:
    """An item whose worker process died while running it."""

    reason: str


def _context() -> multiprocessing.context.BaseContext:
    """Fork where the platform has it (cheap start, modules already imported), else the default."""
    if "fork" in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("fork")
    return multiprocessing.get_context()


@dataclass(frozen=True)
class _Chunk(Generic[T, R]):
    function: Callable[[T], R]
    items: list[T]

    def __call__(self) -> list[R]:
        return [self.function(item) for item in self.items]


def _run_chunk(chunk: _Chunk[T, R]) -> list[R]:
    return chunk()


def map_in_workers(
    function: Callable[[T], R],
    items: Sequence[T],
    jobs: int,
    costs: Optional[Sequence[int]] = None,
) -> list[Union[R, WorkerCrash]]:
    """``[function(item) for item in items]`` on ``jobs`` processes; crashed items give WorkerCrash.

    With ``costs`` (an estimate per item, such as its size), the costliest items start first and the
    chunks carry about equal costs, so that no long item is left to run alone at the end.
    """
    results: list[Union[R, WorkerCrash, None]] = [None] * len(items)
    chunks = plan_chunks(costs if costs is not None else [1] * len(items), jobs)
    suspects: list[int] = []
    context = _context()
    with ProcessPoolExecutor(max_workers=jobs, mp_context=context) as pool:
        futures = {
            pool.submit(_run_chunk, _Chunk(function, [items[i] for i in chunk])): chunk
            for chunk in chunks
        }
        for future in as_completed(futures):
            chunk = futures[future]
            try:
                values = future.result()
            except BrokenProcessPool:
                suspects.extend(chunk)
                continue
            for index, value in zip(chunk, values):
                results[index] = value
    for index in sorted(suspects):
        results[index] = run_alone(function, items[index], context)
    return results  # type: ignore[return-value]


def plan_chunks(costs: Sequence[int], jobs: int) -> list[list[int]]:
    """Item indices grouped into chunks, costliest first: about ``CHUNKS_PER_WORKER`` chunks of equal
    cost per worker (an item costlier than that is a chunk of its own), at most ``MAX_CHUNK`` items each."""
    order = sorted(range(len(costs)), key=lambda index: -costs[index])
    budget = max(1, sum(costs) // (jobs * CHUNKS_PER_WORKER))
    chunks: list[list[int]] = []
    chunk: list[int] = []
    spent = 0
    for index in order:
        chunk.append(index)
        spent += max(1, costs[index])
        if spent >= budget or len(chunk) == MAX_CHUNK:
            chunks.append(chunk)
            chunk, spent = [], 0
    if chunk:
        chunks.append(chunk)
    return chunks


def run_alone(
    function: Callable[[T], R],
    item: T,
    context: multiprocessing.context.BaseContext | None = None,
) -> Union[R, WorkerCrash]:
    """``function(item)`` in a process of its own; WorkerCrash when that process dies."""
    with ProcessPoolExecutor(max_workers=1, mp_context=context or _context()) as pool:
        try:
            return pool.submit(function, item).result()
        except BrokenProcessPool:
            return WorkerCrash("the worker process analysing this file died")
