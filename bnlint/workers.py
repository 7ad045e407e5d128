"""Run one function over many items in worker processes, with a time limit per item, and notice a worker
that dies.

LibCST's native parser can kill the process it runs in (a segfault on pathological input), and it can run
for minutes while holding the interpreter, so that nothing inside that process can interrupt it. Every
item therefore runs in a worker process that the parent watches. A worker sends each result as soon as
it has it, so the parent always knows which item a worker is running: when the worker dies, only that
item is reported as crashed (once it has crashed a second worker too); when the item runs past the time
limit, the worker is killed and replaced. The rest of its chunk goes to a worker again.
"""

from __future__ import annotations

import contextlib
import functools
import signal
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Generic, Optional, TypeVar, Union

if TYPE_CHECKING:  # processes are imported only when a worker starts
    from bnlint.processes import Channel, Worker

T = TypeVar("T")
R = TypeVar("R")

#: Chunks of equal cost per worker: the last chunks are what may run while other workers idle, so
#: they are kept small (a thirty-second of a worker's share); messaging stays cheap with MAX_CHUNK.
CHUNKS_PER_WORKER = 32
MAX_CHUNK = 32

#: How long a worker that closed its pipe may take to exit before it is killed (and said to have
#: stopped answering).
EXIT_GRACE_SECONDS = 2.0


@dataclass(frozen=True)
class WorkerCrash:
    """An item whose worker process died (or failed) while running it."""

    reason: str


@dataclass(frozen=True)
class TimedOut:
    """An item that ran longer than the time limit; its worker was killed."""

    seconds: float


#: What an item gives instead of its result when it could not run to its end.
Failure = Union[WorkerCrash, TimedOut]


@dataclass(frozen=True)
class Sharing(Generic[R]):
    """What workers learn from each other's results: ``news(result)`` is what a result holds for the
    other workers (None: nothing), and a worker ``hear``s the news of the others with its next chunk
    (such as the summaries another worker has built meanwhile)."""

    news: Callable[[R], Any]
    hear: Callable[[Any], None]


@dataclass
class Mapped(Generic[R]):
    """The result (or failure) of each item, in the items' order, and the seconds each one took.

    ``unisolated`` says why the items ran in this process instead (no worker could be started), else
    it is None.
    """

    results: list[Union[R, Failure]]
    seconds: list[float]
    unisolated: Optional[str] = None


def map_in_workers(
    function: Callable[[T], R],
    items: Sequence[T],
    jobs: int,
    costs: Optional[Sequence[int]] = None,
    timeout: Optional[float] = None,
) -> list[Union[R, Failure]]:
    """``[function(item) for item in items]`` on ``jobs`` processes (see ``run_in_workers``)."""
    return run_in_workers(function, items, jobs, costs, timeout).results


def run_in_workers(
    function: Callable[[T], R],
    items: Sequence[T],
    jobs: int,
    costs: Optional[Sequence[int]] = None,
    timeout: Optional[float] = None,
    one_process_per_item: bool = False,
    sharing: Optional[Sharing[R]] = None,
) -> Mapped[R]:
    """Run ``function`` on every item, on ``jobs`` worker processes.

    An item whose worker dies gives a WorkerCrash, one that runs longer than ``timeout`` seconds a
    TimedOut; the other items are not affected. With ``costs`` (an estimate per item, such as its
    size), the costliest items start first and the chunks carry about equal costs. With
    ``one_process_per_item``, every item gets a fresh process (for items whose memory must be given
    back before the next one starts). When the platform cannot start a process at all, the items run
    in this process and ``unisolated`` says why. With ``sharing``, the news of each result reaches
    the other workers.
    """
    pool = _Pool(function, items, max(1, jobs), timeout, one_process_per_item, sharing)
    if one_process_per_item:
        chunks = [[index] for index in range(len(items))]
    else:
        chunks = plan_chunks(costs if costs is not None else [1] * len(items), max(1, jobs))
    return pool.run(chunks)


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


def _serve(
    function: Callable[[Any], Any],
    items: Sequence[Any],
    hear: Optional[Callable[[Any], None]],
    channel: Channel,
) -> None:
    """A worker's loop: hear the news that comes with each chunk, run the chunk's items, send each
    result as soon as it is known."""
    # Ctrl-C is the parent's to handle (it stops its workers); only a main thread may say so.
    with contextlib.suppress(ValueError):
        signal.signal(signal.SIGINT, signal.SIG_IGN)
    while True:
        try:
            message = channel.recv()
        except (EOFError, OSError):
            return
        if message is None:
            return
        chunk, news = message
        for told in news if hear is not None else ():
            with contextlib.suppress(Exception):  # news only saves work: without it, work is redone
                hear(told)
        for index in chunk:
            started = time.perf_counter()
            try:
                value = function(items[index])
            except Exception as error:  # the function should not raise; if it does, say what
                value = WorkerCrash(f"{type(error).__name__}: {error}")
            seconds = time.perf_counter() - started
            try:
                channel.send((index, value, seconds))
            except (OSError, EOFError):
                return
            except Exception as error:  # a result that cannot be pickled
                failure = WorkerCrash(f"its result could not be sent back ({error})")
                channel.send((index, failure, seconds))


class _Worker:
    """One worker process and the items it was given and has not answered yet."""

    def __init__(
        self,
        function: Callable[[Any], Any],
        items: Sequence[Any],
        hear: Optional[Callable[[Any], None]] = None,
    ) -> None:
        from bnlint.processes import start_worker

        self.process: Worker = start_worker(functools.partial(_serve, function, items, hear))
        self.channel = self.process.channel
        self.running: deque[int] = deque()
        self.since = time.monotonic()
        #: How much of the pool's news this worker has been told.
        self.heard = 0

    def fileno(self) -> int:
        """What the pool waits on."""
        return self.process.fileno()

    def give(self, chunk: list[int], news: Sequence[Any] = ()) -> bool:
        """Send a chunk, with the news it has not heard yet (from ``news``, all the news so far);
        False when the worker can no longer take it."""
        try:
            self.channel.send((chunk, list(news[self.heard :])))
        except (OSError, ValueError):
            return False
        self.heard = len(news)
        self.running.extend(chunk)
        self.since = time.monotonic()
        return True

    def stop(self) -> None:
        """Ask the worker to exit once idle (then ``release`` it)."""
        with contextlib.suppress(OSError, ValueError):
            self.channel.send(None)

    def kill(self) -> None:
        """End the worker now."""
        self.process.kill()

    def release(self) -> None:
        """Let a stopped worker exit in its own time (see ``processes.release``)."""
        from bnlint.processes import release

        release(self.process)

    def death(self) -> str:
        """Why the worker is gone, in words (its signal or exit status)."""
        code = self.process.exit_code(EXIT_GRACE_SECONDS)
        self.process.kill()
        if code is None:
            return "the worker process stopped answering"
        if code < 0:
            try:
                name = signal.Signals(-code).name
            except ValueError:
                return f"the worker process was killed by signal {-code}"
            description = signal.strsignal(-code)
            return f"the worker process was killed by {name}" + (
                f" ({description.lower()})" if description else ""
            )
        return f"the worker process exited with status {code}"


@dataclass
class _Pool(Generic[T, R]):
    """The parent's side: hands out chunks, collects results, enforces the time limit."""

    function: Callable[[T], R]
    items: Sequence[T]
    jobs: int
    timeout: Optional[float]
    one_process_per_item: bool
    sharing: Optional[Sharing[R]] = None
    results: list[Any] = field(init=False)
    seconds: list[float] = field(init=False)
    refusal: str = field(init=False, default="")
    retried: set[int] = field(init=False, default_factory=set)
    news: list[Any] = field(init=False, default_factory=list)

    def __post_init__(self) -> None:
        self.results = [None] * len(self.items)
        self.seconds = [0.0] * len(self.items)

    def run(self, chunks: list[list[int]]) -> Mapped[R]:
        pending = deque(chunk for chunk in chunks if chunk)
        workers: list[_Worker] = []
        stopped: list[_Worker] = []
        unisolated: Optional[str] = None
        try:
            while pending or workers:
                while pending and len(workers) < self.jobs:
                    worker = self._start(pending)
                    if worker is not None:
                        workers.append(worker)
                    elif workers:
                        self.jobs = len(workers)  # run on with the workers there are
                    else:
                        unisolated = self.refusal
                        self._run_here(pending)
                if not workers:
                    continue
                ready = self._ready(workers)
                now = time.monotonic()
                for worker in ready:
                    if not self._receive(worker, now, pending):
                        workers.remove(worker)
                    elif not worker.running:
                        if (
                            pending
                            and not self.one_process_per_item
                            and worker.give(pending[0], self.news)
                        ):
                            pending.popleft()
                            continue
                        worker.stop()
                        workers.remove(worker)
                        stopped.append(worker)
                for worker in list(workers):
                    if self._overran(worker, now, pending):
                        workers.remove(worker)
        finally:
            for worker in workers:
                worker.kill()
            for worker in stopped:
                worker.release()
        return Mapped(self.results, self.seconds, unisolated)

    def _start(self, pending: deque[list[int]]) -> Optional[_Worker]:
        """A new worker running the first pending chunk, or None when no process can be started
        (``refusal`` says why)."""
        hear = self.sharing.hear if self.sharing is not None else None
        for _ in range(3):
            try:
                worker = _Worker(self.function, self.items, hear)
            except OSError as error:
                self.refusal = error.strerror or str(error)
                return None
            if worker.give(pending[0], self.news):
                pending.popleft()
                return worker
            worker.kill()
        self.refusal = "worker processes exit as soon as they start"
        return None

    def _ready(self, workers: list[_Worker]) -> list[_Worker]:
        """The workers with a message, waiting at most until the first one's item runs out of time."""
        from bnlint.processes import wait_for_messages

        timeout = None
        if self.timeout:
            now = time.monotonic()
            timeout = max(0.0, min(self.timeout - (now - worker.since) for worker in workers))
        return wait_for_messages(workers, timeout)  # type: ignore[arg-type, return-value]

    def _receive(self, worker: _Worker, now: float, pending: deque[list[int]]) -> bool:
        """Take one message from a worker; False when the worker is gone (its item then crashed)."""
        try:
            index, value, seconds = worker.channel.recv()
        except (EOFError, OSError):  # the process died
            self._fail(worker, WorkerCrash(worker.death()), now, pending)
            return False
        except Exception as error:  # it sent something that cannot be read
            worker.kill()
            reason = f"its result could not be read ({type(error).__name__}: {error})"
            self._fail(worker, WorkerCrash(reason), now, pending)
            return False
        if worker.running and worker.running[0] == index:
            worker.running.popleft()
        self.results[index] = value
        self.seconds[index] = seconds
        worker.since = now
        if self.sharing is not None and not isinstance(value, WorkerCrash):
            news = self.sharing.news(value)
            if news is not None:
                self.news.append(news)
        return True

    def _overran(self, worker: _Worker, now: float, pending: deque[list[int]]) -> bool:
        """Kill a worker whose item has run past the time limit; True when it was killed."""
        if not self.timeout or not worker.running or now - worker.since <= self.timeout:
            return False
        worker.kill()
        self._fail(worker, TimedOut(self.timeout), now, pending)
        return True

    def _fail(self, worker: _Worker, failure: Failure, now: float, pending: deque) -> None:
        """Record the failure of the item a worker was running; its other items go back in line.

        A crash is blamed on the item only when it happens again in another worker: a process may
        also die of something else (the system's out-of-memory killer, a signal sent to it).
        """
        if not worker.running:
            return
        index = worker.running.popleft()
        if worker.running:
            pending.appendleft(list(worker.running))
            worker.running.clear()
        if isinstance(failure, WorkerCrash) and index not in self.retried:
            self.retried.add(index)
            pending.appendleft([index])
            return
        self.results[index] = failure
        self.seconds[index] = now - worker.since

    def _run_here(self, pending: deque[list[int]]) -> None:
        """Run the pending items in this process (no worker could be started)."""
        while pending:
            for index in pending.popleft():
                started = time.perf_counter()
                self.results[index] = self.function(self.items[index])
                self.seconds[index] = time.perf_counter() - started
