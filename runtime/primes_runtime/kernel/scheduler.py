"""The scheduler pool: a few worker threads run whichever processes have mail.

A process is handed to the pool with :meth:`Scheduler.submit` when it gets mail and is
neither running nor suspended; a worker calls its ``run_slice()``, which handles a bounded
number of messages and says whether the process still has work (then it is queued again
at the back, so one busy process cannot starve the others). A process is never in the
queue twice and never run by two workers at once: the process itself keeps that
invariant with its ``scheduled`` flag.

A worker with nothing to run parks on a lock of its own; ``submit`` hands the process to
the most recently parked worker and wakes that one only (one thread hand-off). Waiting
on one shared queue instead would wake a second, idle worker at every hand-off (a
``SimpleQueue`` with two blocked readers passes its lock from one to the other), and that
worker would compete for the GIL with the one doing the work.

The pool grows when runnable processes wait and no worker made progress for a few
milliseconds (every worker is busy or blocked, e.g. in a ``call`` made from inside a
handler); a watchdog thread checks that, like Go's sysmon. While no process waits for a
worker, the watchdog sleeps until ``submit`` queues one (an idle node wakes no thread).
Workers idle for longer than ``idle_timeout`` exit until ``min_workers`` are left.
"""

from __future__ import annotations

import _thread
import logging
import os
import threading
import time
from collections import deque
from typing import Protocol

from . import threadstart

log = logging.getLogger("primes_runtime.scheduler")


class Runnable(Protocol):
    """What the pool runs: a process's slice of work."""

    def run_slice(self) -> bool:
        """Handle some messages; return True if the process must be queued again."""
        ...


class _Parked:
    """One worker's parking place: ``wake`` is held while it sleeps, released to wake it
    with ``proc`` to run (None: look at the run queue, or exit if the pool closed)."""

    __slots__ = ("proc", "wake")

    def __init__(self) -> None:
        self.wake = _thread.allocate_lock()
        self.wake.acquire()
        self.proc: Runnable | None = None


class Scheduler:
    """A growing and shrinking pool of worker threads over one run queue.

    ``_runq`` holds the processes that wait for a worker, ``_idle`` the workers that wait
    for a process; at most one of them is non-empty, and ``_lock`` guards both.
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
        self._runq: deque[Runnable] = deque()
        self._idle: list[_Parked] = []
        self._lock = _thread.allocate_lock()
        self._workers = 0
        self._progress = 0
        self._started = False
        self._closed = False
        self._closing = threading.Event()
        self._queued = threading.Event()
        """Set when a process is queued for want of a worker (the watchdog waits on it)."""

    @property
    def workers(self) -> int:
        """How many worker threads exist now."""
        return self._workers

    def submit(self, proc: Runnable) -> None:
        """Queue a process that has mail (its caller guarantees it is not queued yet)."""
        if not self._started:
            self._start()
        with self._lock:
            if not self._idle:
                self._runq.append(proc)
                if not self._queued.is_set():  # a read; set() takes the event's lock
                    self._queued.set()
                return
            parked = self._idle.pop()  # the latest parked: its thread is the warmest
            parked.proc = proc
        parked.wake.release()

    def start(self) -> None:
        """Start the workers now rather than at the first message (a node does at boot)."""
        self._start()

    def close(self) -> None:
        """Let every worker and the watchdog exit once the queue ahead of them is done."""
        with self._lock:
            self._closed = True
            parked, self._idle = self._idle, []
        self._closing.set()
        self._queued.set()
        for place in parked:
            place.wake.release()

    def _start(self) -> None:
        with self._lock:
            if self._started or self._closed:
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

    def _next(self, place: _Parked) -> Runnable | None:
        """The next process to run, parking until there is one; None: this worker exits."""
        lock = self._lock
        while True:
            with lock:
                if self._runq:
                    return self._runq.popleft()
                if self._closed:
                    self._workers -= 1
                    return None
                self._idle.append(place)
            while not place.wake.acquire(timeout=self.idle_timeout):
                with lock:
                    if place in self._idle:  # nobody is about to wake it
                        if self._workers > self.min_workers:
                            self._idle.remove(place)
                            self._workers -= 1
                            return None
                        continue  # stays parked, in the one place it holds in _idle
                place.wake.acquire()  # a submit took it: its release is on the way
                break
            proc, place.proc = place.proc, None
            if proc is not None:
                return proc

    def _work(self) -> None:
        place = _Parked()
        lock = self._lock
        runq = self._runq
        proc = self._next(place)
        while proc is not None:
            try:
                again = proc.run_slice()
            except BaseException:  # a bug in the runtime itself; keep the worker alive
                log.exception("scheduler: run_slice raised")
                again = False
            self._progress += 1
            if again:
                with lock:
                    if runq:  # the others first: it goes to the back
                        runq.append(proc)
                        proc = runq.popleft()
                continue
            proc = self._next(place)

    def _watchdog(self) -> None:
        closing = self._closing
        while not closing.is_set():
            self._queued.clear()  # before the look: a process queued after it sets it again
            if not self._runq:
                self._queued.wait(1.0)
                continue
            before = self._progress
            time.sleep(self.stall)
            # Runnable processes waited a whole interval and no worker finished a slice:
            # every worker is blocked. Add one.
            if self._runq and self._progress == before:
                with self._lock:
                    room = self._workers < self.max_workers and not self._closed
                    if room and self._spawn_locked():
                        log.debug("scheduler: grew to %d workers", self._workers)


def default_min_workers() -> int:
    """Workers kept even when idle: the CPU count, at least 2 and at most 8."""
    return max(2, min(8, os.cpu_count() or 2))
