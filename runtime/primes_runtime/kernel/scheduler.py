"""The scheduler pool: a few worker threads run whichever processes have mail.

A process is handed to the pool with :meth:`Scheduler.submit` when it gets mail and is
neither running nor suspended; a worker calls its ``run_slice()``, which handles a bounded
number of messages and says whether the process still has work (then it is queued again
at the back, so one busy process cannot starve the others). A process is never in the
queue twice and never run by two workers at once: the process itself keeps that
invariant with its ``scheduled`` flag.

The pool grows when runnable processes wait and no worker made progress for a few
milliseconds (every worker is busy or blocked, e.g. in a ``call`` made from inside a
handler); a watchdog thread checks that, like Go's sysmon. Workers idle for longer than
``idle_timeout`` exit until ``min_workers`` are left.
"""

from __future__ import annotations

import logging
import os
import queue
import threading
import time
from typing import Protocol

from . import threadstart

log = logging.getLogger("primes_runtime.scheduler")


class Runnable(Protocol):
    """What the pool runs: a process's slice of work."""

    def run_slice(self) -> bool:
        """Handle some messages; return True if the process must be queued again."""
        ...


class Scheduler:
    """A growing and shrinking pool of worker threads over one run queue.

    The run queue is a C ``SimpleQueue``: putting a process and waking a worker blocked
    on it is the cheapest hand-off CPython offers (a call round trip is two of them).
    """

    def __init__(
        self,
        min_workers: int = 2,
        max_workers: int = 1024,
        stall: float = 0.004,
        idle_timeout: float = 10.0,
    ) -> None:
        self.min_workers = min_workers
        self.max_workers = max_workers
        self.stall = stall
        self.idle_timeout = idle_timeout
        self._queue: queue.SimpleQueue[Runnable | None] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._workers = 0
        self._progress = 0
        self._started = False
        self._closed = threading.Event()

    @property
    def workers(self) -> int:
        """How many worker threads exist now."""
        return self._workers

    def submit(self, proc: Runnable) -> None:
        """Queue a process that has mail (its caller guarantees it is not queued yet)."""
        if not self._started:
            self._start()
        self._queue.put(proc)

    def start(self) -> None:
        """Start the workers now rather than at the first message (a node does at boot)."""
        self._start()

    def close(self) -> None:
        """Let every worker and the watchdog exit once the queue ahead of them is done."""
        with self._lock:
            self._closed.set()
            for _ in range(self._workers):
                self._queue.put(None)

    def _start(self) -> None:
        with self._lock:
            if self._started or self._closed.is_set():
                return
            self._started = True
            for _ in range(self.min_workers):
                self._spawn_locked()
            watchdog = threading.Thread(target=self._watchdog, name="primes-sysmon", daemon=True)
            threadstart.started(watchdog, "the pool will not grow when its workers block")

    def _spawn_locked(self) -> bool:
        """Start one more worker; False when no thread can start (those running do the work)."""
        self._workers += 1
        name = f"primes-worker-{self._workers}"
        worker = threading.Thread(target=self._work, name=name, daemon=True)
        if threadstart.started(worker, "the workers started so far do the work"):
            return True
        self._workers -= 1
        return False

    def _work(self) -> None:
        get = self._queue.get
        while True:
            try:
                proc = get(timeout=self.idle_timeout)
            except queue.Empty:
                with self._lock:
                    if self._workers > self.min_workers:
                        self._workers -= 1
                        return
                continue
            if proc is None:  # close(): one sentinel per worker
                with self._lock:
                    self._workers -= 1
                return
            try:
                again = proc.run_slice()
            except BaseException:  # a bug in the runtime itself; keep the worker alive
                log.exception("scheduler: run_slice raised")
                again = False
            self._progress += 1
            if again:
                self._queue.put(proc)

    def _watchdog(self) -> None:
        while not self._closed.is_set():
            pending = not self._queue.empty()
            before = self._progress
            time.sleep(self.stall if pending else self.stall * 5)
            # Runnable processes waited a whole interval and no worker finished a slice:
            # every worker is blocked. Add one.
            if pending and not self._queue.empty() and self._progress == before:
                with self._lock:
                    room = self._workers < self.max_workers and not self._closed.is_set()
                    if room and self._spawn_locked():
                        log.debug("scheduler: grew to %d workers", self._workers)


def default_min_workers() -> int:
    """Workers kept even when idle: the CPU count, at least 2 and at most 8."""
    return max(2, min(8, os.cpu_count() or 2))
