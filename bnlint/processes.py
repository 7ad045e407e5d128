"""Worker processes and the pipes to them.

Where the platform can fork, a worker is forked directly: it starts with every module and every item
already in memory, nothing is pickled to start it, and multiprocessing (which costs a one-file run a
noticeable share of its start-up) is never imported. Elsewhere multiprocessing starts it. Either way a
worker is one object: send and receive messages, wait until it has something to say, end it, and tell
how it ended.
"""

from __future__ import annotations

import contextlib
import os
import pickle  # imported before forking, so that no worker imports it again
import select
import signal
import time
from collections.abc import Callable, Sequence
from typing import Any, Optional, Protocol

#: A worker's body: it receives its end of the pipe.
Target = Callable[["Channel"], None]


class Channel(Protocol):
    """One end of the pipe between the parent and a worker."""

    def send(self, message: Any) -> None:
        """Send a picklable message (raises OSError when the other end is gone)."""

    def recv(self) -> Any:
        """The next message (raises EOFError when the other end is gone)."""


class Worker(Protocol):
    """A started worker process, seen from the parent."""

    channel: Channel

    def fileno(self) -> int:
        """What ``wait_for_messages`` waits on."""

    def kill(self) -> None:
        """End the process now (and reap it)."""

    def exit_code(self, wait_seconds: float) -> Optional[int]:
        """Its exit code once it has exited within ``wait_seconds`` (negative: the signal that
        killed it), else None."""


def can_fork() -> bool:
    """Whether workers are forked here."""
    return hasattr(os, "fork")


def start_worker(target: Target) -> Worker:
    """Start a process running ``target`` (raises OSError when the platform refuses)."""
    _reap_exited()
    if can_fork():
        return _ForkedWorker(target)
    return _SpawnedWorker(target)


#: Workers told to stop that were still exiting: reaped when the next worker starts, or at exit.
_EXITING: list[_ForkedWorker] = []


def release(worker: Worker) -> None:
    """Let a worker that was told to stop exit in its own time. A forked one is reaped later rather
    than waited for: a process takes milliseconds to give its memory back, which a one-file run
    would otherwise add to its time."""
    if isinstance(worker, _ForkedWorker) and worker.exit_code(0) is None:
        worker.channel.close()
        if not _EXITING:
            import atexit

            atexit.register(_reap_exited, True)
        _EXITING.append(worker)
        return
    worker.exit_code(2.0)
    worker.kill()


def _reap_exited(final: bool = False) -> None:
    """Reap the released workers that have exited (at exit, end the others: none may outlive us)."""
    for worker in list(_EXITING):
        if final and worker.exit_code(0) is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(worker.pid, signal.SIGKILL)
        if worker.reaped():
            _EXITING.remove(worker)


def wait_for_messages(workers: Sequence[Worker], timeout: Optional[float]) -> list[Worker]:
    """The workers that have a message (or have exited), waiting at most ``timeout`` seconds."""
    if can_fork():
        if hasattr(select, "poll"):
            poller = select.poll()
            by_descriptor = {worker.fileno(): worker for worker in workers}
            for descriptor in by_descriptor:
                poller.register(descriptor, select.POLLIN)
            milliseconds = None if timeout is None else max(0, int(timeout * 1000) + 1)
            return [by_descriptor[fd] for fd, _ in poller.poll(milliseconds)]
        ready, _, _ = select.select(workers, [], [], timeout)
        return list(ready)
    from multiprocessing.connection import wait

    connections = {worker.fileno(): worker for worker in workers}
    ready = wait([worker.channel for worker in workers], timeout)  # type: ignore[misc]
    return [connections[connection.fileno()] for connection in ready]  # type: ignore[union-attr]


class _PipeChannel:
    """Length-prefixed pickles over a pair of pipe descriptors."""

    def __init__(self, reading: int, writing: int) -> None:
        self.reading = reading
        self.writing = writing

    def send(self, message: Any) -> None:
        data = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
        view = memoryview(len(data).to_bytes(8, "little") + data)
        while view:
            view = view[os.write(self.writing, view) :]

    def recv(self) -> Any:
        size = int.from_bytes(self._read(8), "little")
        return pickle.loads(self._read(size))

    def _read(self, size: int) -> bytes:
        chunks = []
        while size:
            chunk = os.read(self.reading, min(size, 1 << 20))
            if not chunk:
                raise EOFError("the other end of the pipe is closed")
            chunks.append(chunk)
            size -= len(chunk)
        return b"".join(chunks)

    def close(self) -> None:
        for descriptor in (self.reading, self.writing):
            with contextlib.suppress(OSError):
                os.close(descriptor)


class _ForkedWorker:
    def __init__(self, target: Target) -> None:
        import warnings

        to_child = os.pipe()
        to_parent = os.pipe()
        with warnings.catch_warnings():
            # Python 3.12+ warns when a process with threads forks. The only other thread bnlint
            # may have is its idle parsing thread, which the child never touches (it starts its own).
            warnings.simplefilter("ignore", DeprecationWarning)
            try:
                pid = os.fork()
            except OSError:
                for descriptor in (*to_child, *to_parent):
                    os.close(descriptor)
                raise
        if pid == 0:  # the worker: never returns into the parent's code
            code = 0
            try:
                os.close(to_child[1])
                os.close(to_parent[0])
                target(_PipeChannel(to_child[0], to_parent[1]))
            except BaseException:
                code = 1
            finally:
                os._exit(code)
        os.close(to_child[0])
        os.close(to_parent[1])
        self.pid = pid
        self.channel = _PipeChannel(to_parent[0], to_child[1])
        self._code: Optional[int] = None

    def fileno(self) -> int:
        return self.channel.reading

    def kill(self) -> None:
        if self._code is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, signal.SIGKILL)
            self._reap(block=True)
        self.channel.close()

    def exit_code(self, wait_seconds: float) -> Optional[int]:
        deadline = time.monotonic() + wait_seconds
        if not self._reap(block=False) and wait_seconds > 0:
            # The pipe's end closes as the process exits: wait for that rather than poll often.
            with contextlib.suppress(OSError, ValueError):
                select.select([self.channel.reading], [], [], wait_seconds)
        while not self._reap(block=False):
            if time.monotonic() >= deadline:
                return None
            time.sleep(0.0005)
        return self._code

    def reaped(self) -> bool:
        """Whether the process has exited and been reaped (without waiting)."""
        return self._reap(block=False)

    def _reap(self, block: bool) -> bool:
        if self._code is not None:
            return True
        try:
            pid, status = os.waitpid(self.pid, 0 if block else os.WNOHANG)
        except ChildProcessError:
            self._code = -signal.SIGKILL if block else 0
            return True
        if pid == 0:
            return False
        self._code = os.waitstatus_to_exitcode(status)
        return True


def _run_spawned(target: Target, connection: Any) -> None:
    target(connection)


class _SpawnedWorker:
    def __init__(self, target: Target) -> None:
        import multiprocessing

        context = multiprocessing.get_context()
        ours, theirs = context.Pipe()
        self.process = context.Process(  # type: ignore[attr-defined]
            target=_run_spawned, args=(target, theirs), name="bnlint-worker", daemon=True
        )
        try:
            self.process.start()
        finally:
            theirs.close()
        self.channel = ours

    def fileno(self) -> int:
        return self.channel.fileno()

    def kill(self) -> None:
        if self.process.is_alive():
            self.process.kill()
        self.process.join()
        self.channel.close()

    def exit_code(self, wait_seconds: float) -> Optional[int]:
        self.process.join(wait_seconds)
        return self.process.exitcode
