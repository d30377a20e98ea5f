"""Timers: a thread and a heap per node run callbacks after a delay (send_after, statem)."""

from __future__ import annotations

import heapq
import itertools
import logging
import threading
import time
from collections.abc import Callable

log = logging.getLogger("primes_runtime.timers")


class TimerRef:
    """A handle on one pending timer; pass it to ``cancel``."""

    __slots__ = ("_done", "_fn", "deadline", "id")

    def __init__(self, ident: int, deadline: float, fn: Callable[[], None]) -> None:
        self.id = ident
        self.deadline = deadline  # time.monotonic() at which it fires
        self._fn = fn
        self._done = False

    def remaining(self) -> float:
        """Seconds left before it fires (0 if due)."""
        return max(0.0, self.deadline - time.monotonic())

    def __repr__(self) -> str:
        return f"TimerRef({self.id})"


class Timers:
    """A heap of deadlines served by a single daemon thread, started on first use."""

    def __init__(self) -> None:
        self._cond = threading.Condition(threading.Lock())
        self._heap: list[tuple[float, int, TimerRef]] = []
        self._ids = itertools.count(1)
        self._thread: threading.Thread | None = None
        self._closed = False

    def start(self, seconds: float, fn: Callable[[], None]) -> TimerRef:
        """Run ``fn()`` on the timer thread after ``seconds``."""
        ident = next(self._ids)
        ref = TimerRef(ident, time.monotonic() + max(0.0, seconds), fn)
        with self._cond:
            if self._closed:  # the node is gone: the timer never fires
                ref._done = True
                return ref
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="primes-timers", daemon=True)
                self._thread.start()
            first = not self._heap or ref.deadline < self._heap[0][0]
            heapq.heappush(self._heap, (ref.deadline, ident, ref))
            if first:
                self._cond.notify()
        return ref

    def cancel(self, ref: TimerRef) -> bool:
        """Stop a timer; True if it had not fired (and now never will)."""
        with self._cond:
            if ref._done:
                return False
            ref._done = True
            return True

    def close(self) -> None:
        """Drop every pending timer and let the timer thread exit."""
        with self._cond:
            self._closed = True
            self._heap.clear()
            self._cond.notify()

    def pending(self) -> int:
        """How many timers are armed (cancelled ones may still be counted until due)."""
        with self._cond:
            return sum(1 for _, _, ref in self._heap if not ref._done)

    def _run(self) -> None:
        while True:
            with self._cond:
                while True:
                    if self._closed:
                        return
                    if not self._heap:
                        self._cond.wait()
                        continue
                    deadline, _, ref = self._heap[0]
                    delay = deadline - time.monotonic()
                    if delay > 0:
                        self._cond.wait(delay)
                        continue
                    heapq.heappop(self._heap)
                    if ref._done:
                        continue
                    ref._done = True
                    break
            try:
                ref._fn()
            except Exception:
                log.exception("timer %d: callback raised", ref.id)
