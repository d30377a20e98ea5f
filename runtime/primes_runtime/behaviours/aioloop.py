"""The node's event loop: one thread running asyncio for its async processes, and a
watchdog thread that logs where a callback blocked the loop.

Started on first use (``node.aio``); :meth:`EventLoop.close` stops both threads. The
loop's heartbeat (a ``call_later`` every quarter of the threshold) records when the loop
last ran; the watchdog checks it, and when it is older than the threshold it takes the
loop thread's stack from ``sys._current_frames()`` and logs it once per blocking episode.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextvars
import logging
import sys
import threading
import time
import traceback
from collections.abc import Coroutine
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from ..errors import PrimesError
from ..kernel.context import enter, task_process

if TYPE_CHECKING:
    from ..host.node import Node
    from ..kernel.process import Process

log = logging.getLogger("primes_runtime.aio")

T = TypeVar("T")

DEFAULT_BLOCK_THRESHOLD = 0.1
"""Seconds a callback may run on the loop without awaiting before it is logged."""


@dataclass(frozen=True)
class Blocked:
    """One episode of a callback holding the loop: for how long (so far) and where."""

    seconds: float
    stack: str


class EventLoop:
    """The event loop thread of one node, and its block watchdog."""

    def __init__(self, node: Node, block_threshold: float = DEFAULT_BLOCK_THRESHOLD) -> None:
        self.node = node
        self.block_threshold = block_threshold
        self.loop = asyncio.new_event_loop()
        self.blocked: list[Blocked] = []  # the latest episodes (at most 32), for tests/status
        self._beat = time.monotonic()
        self._closed = threading.Event()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, name="primes-aio", daemon=True)
        self._thread.start()
        self._ready.wait()
        self._watch = threading.Thread(target=self._watchdog, name="primes-aio-watch", daemon=True)
        self._watch.start()

    @property
    def thread_id(self) -> int | None:
        """The loop thread's ident."""
        return self._thread.ident

    def on_loop(self) -> bool:
        """True when the calling code runs on this loop's thread."""
        return threading.get_ident() == self._thread.ident

    def submit(self, proc: Process) -> None:
        """Let ``proc`` (an async process with mail, not yet queued) run on the loop."""
        if self._closed.is_set():
            return
        try:
            self.loop.call_soon_threadsafe(proc.start_drain)  # type: ignore[attr-defined]
        except RuntimeError:  # closed meanwhile
            return

    def run(self, coro: Coroutine[Any, Any, T], proc: Process | None, timeout: float) -> T:
        """Run ``coro`` on the loop as ``proc`` and wait for its result (from another thread)."""
        if self.on_loop():
            coro.close()
            raise PrimesError(
                "a blocking runtime call was made on the event loop: "
                "use `await primes_runtime.blocking(fn, ...)` from async code"
            )
        ctx = contextvars.Context()
        ctx.run(task_process.set, proc)
        done: concurrent.futures.Future[T] = concurrent.futures.Future()

        def begin() -> None:
            task = self.loop.create_task(coro, context=ctx)

            def finished(t: asyncio.Task[T]) -> None:
                if t.cancelled():
                    done.set_exception(PrimesError("cancelled (the event loop is closing)"))
                elif (exc := t.exception()) is not None:
                    done.set_exception(exc)
                else:
                    done.set_result(t.result())

            task.add_done_callback(finished)

        self.loop.call_soon_threadsafe(begin)
        try:
            return done.result(timeout)
        except concurrent.futures.TimeoutError:
            raise PrimesError(
                f"the event loop did not finish {coro!r} within {timeout:g} s"
            ) from None

    def close(self) -> None:
        """Stop the loop (tasks still pending are cancelled) and the watchdog."""
        if self._closed.is_set():
            return
        self._closed.set()
        if self.on_loop():
            self.loop.call_soon(self.loop.stop)
            return
        try:
            self.loop.call_soon_threadsafe(self.loop.stop)
        except RuntimeError:
            return
        self._thread.join(5.0)

    # --- the two threads --------------------------------------------------------------

    def _run(self) -> None:
        enter(self.node)
        loop = self.loop
        asyncio.set_event_loop(loop)
        loop.call_soon(self._heartbeat)
        loop.call_soon(self._ready.set)
        try:
            loop.run_forever()
        finally:
            pending = asyncio.all_tasks(loop)
            for task in pending:
                task.cancel()
            if pending:
                loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
            loop.run_until_complete(loop.shutdown_default_executor())
            loop.close()

    def _heartbeat(self) -> None:
        self._beat = time.monotonic()
        if not self._closed.is_set():
            self.loop.call_later(self.block_threshold / 4, self._heartbeat)

    def _watchdog(self) -> None:
        reported = -1.0  # the beat of the episode already logged
        step = self.block_threshold / 4
        while not self._closed.wait(step):
            beat = self._beat
            late = time.monotonic() - beat
            if reported >= 0 and beat != reported:  # the loop ran again since the report
                log.warning("event loop ran again after %.0f ms blocked", (beat - reported) * 1000)
                reported = -1.0
            if late <= self.block_threshold or beat == reported:
                continue
            reported = beat
            frame = sys._current_frames().get(self._thread.ident or -1)
            stack = "".join(traceback.format_stack(frame)) if frame is not None else "?"
            self.blocked.append(Blocked(late, stack))
            del self.blocked[:-32]
            log.warning(
                "event loop blocked for %.0f ms so far (threshold %.0f ms) by a callback "
                "that does not await; where it is:\n%s",
                late * 1000,
                self.block_threshold * 1000,
                stack,
            )
