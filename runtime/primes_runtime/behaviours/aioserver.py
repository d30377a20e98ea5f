"""The async server behaviour: a server whose callbacks may be coroutines, run on the
node's event loop (aioloop.py) instead of a scheduler worker.

Callback module (each callback may be ``async def`` or a plain ``def``)::

    async def init(args) -> state
    async def handle_call(request, caller, state) -> Reply | NoReply | Stop
    async def handle_cast(msg, state) -> state | Stop
    async def handle_info(msg, state) -> state | Stop
    async def terminate(reason, state) -> None               # optional
    async def code_change(old_vsn, state, extra) -> state    # optional

Same semantics as the server: one message at a time (a handler that awaits keeps its
process busy, while other processes run on the loop), calls and casts from anywhere,
suspend/snapshot/code_change/resume between two messages. Inside a callback, wait for
another process with ``await async_call(...)``, never the blocking ``call``.
"""

from __future__ import annotations

import asyncio
import contextvars
import inspect
import logging
from types import ModuleType
from typing import Any

from ..kernel.caller import Caller
from ..kernel.context import task_process
from ..kernel.pid import Pid
from ..kernel.process import CALL, CAST, STOP, Exit, spawn
from ..loading.code_server import current
from .server import ServerProcess

log = logging.getLogger("primes_runtime.aio")

SLICE = 64  # messages handled in a row before the process lets the loop run others

INIT_TIMEOUT = 60.0  # seconds a blocking start waits for an async init (and code_change)


async def _settled(value: Any) -> Any:
    """``value``, awaited first if a callback returned an awaitable (an ``async def``)."""
    if inspect.isawaitable(value):
        return await value
    return value


class AsyncServerProcess(ServerProcess):
    """A process running the async server behaviour on its node's event loop."""

    behaviour = "async_server"
    __slots__ = ("_task",)

    # --- scheduling: the node's loop instead of the pool -------------------------------

    def submit(self) -> None:
        self.node.aio.submit(self)

    def __init__(self, module: str) -> None:
        super().__init__(module)
        self._task: asyncio.Task[None] | None = None  # a strong reference while it runs

    def start_drain(self) -> None:
        """(On the loop) start the task that handles this process's mail."""
        ctx = contextvars.Context()
        ctx.run(task_process.set, self)
        self._task = asyncio.get_running_loop().create_task(self._drain(), context=ctx)

    def run_slice(self) -> bool:
        raise RuntimeError("an async process runs on its node's event loop, not on a worker")

    async def _drain(self) -> None:
        lock = self.lock
        holds = self.node.processes.holds
        budget = SLICE
        while True:
            with lock:
                if not self.alive or self.suspended or not self.mailbox:
                    self.scheduled = False
                    self._task = None
                    return
                self.running = True  # before the look at the holds (system.hold_module)
                if holds and self.module in holds:
                    self._stand_down()
                    self._task = None
                    return
                msg = self.mailbox.popleft()
            try:
                if msg[0] == STOP:
                    raise Exit(msg[1], msg[2])
                await self._dispatch(msg)
            except Exit as ex:
                await self._die_async(ex.reason, ex.stopper)
                return
            except BaseException as exc:
                if not self.alive:  # killed meanwhile (node closing: its task is cancelled)
                    return
                what = f"{self.behaviour} {self.module}"
                log.error("process %s (%s) crashed: %r", self.pid, what, exc, exc_info=exc)
                await self._die_async(exc)
                return
            with lock:
                self.running = False
                if self.idle is not None:
                    self.idle.set()
                    self.idle = None
            budget -= 1
            if budget == 0:
                budget = SLICE
                await asyncio.sleep(0)  # a flooded process does not starve the others

    async def _dispatch(self, msg: tuple[Any, ...]) -> None:
        mod = current(self.module)
        tag = msg[0]
        if tag == CALL:
            caller = msg[2]
            try:
                await self._call_async(mod, msg[1], caller)
            finally:
                if not caller.answered:
                    self.track_call(caller)
            return
        name = "handle_cast" if tag == CAST else "handle_info"
        handler = getattr(mod, name, None)
        if handler is None:
            log.warning("server %s (%s) has no %s; dropped %r", self.pid, self.module, name, msg[1])
            return
        self.took_state(name, await _settled(handler(msg[1], self.state)))

    async def _call_async(self, mod: ModuleType, request: object, caller: Caller) -> None:
        self.took_call(await _settled(mod.handle_call(request, caller, self.state)), caller)

    async def _die_async(self, reason: object, stopper: Caller | None = None) -> None:
        if self.alive:
            fn = getattr(current(self.module), "terminate", None)
            try:
                if fn is not None:
                    await _settled(fn(reason, self.state))
            except Exception as exc:
                log.error(
                    "process %s (%s): terminate raised %r", self.pid, self.module, exc, exc_info=exc
                )
        self._task = None
        self.finish(reason)
        if stopper is not None:
            stopper.set_reply(None)

    # --- callbacks run from other threads (start, release handler) ---------------------

    def init(self, args: object) -> None:
        mod = current(self.module)
        self.state = self.node.aio.run(_settled(mod.init(args)), self, INIT_TIMEOUT)

    def terminate(self, reason: object) -> None:
        fn = getattr(current(self.module), "terminate", None)
        if fn is not None:
            self.node.aio.run(_settled(fn(reason, self.state)), self, INIT_TIMEOUT)

    def code_change(self, module: ModuleType, old_vsn: object, extra: object) -> None:
        fn = getattr(module, "code_change", None)
        if fn is None:
            return
        result = fn(old_vsn, self.state, extra)
        if inspect.isawaitable(result):
            result = self.node.aio.run(_settled(result), self, INIT_TIMEOUT)
        self.state = result


def start(module: str, args: object = None, *, name: str | None = None) -> Pid:
    """Start an async server running callback module ``module``; returns once its init
    returned. Call it from a thread (a supervisor, an app's start); from async code use
    ``await blocking(start_async_server, ...)``. Raises StartError if init raised."""
    return spawn(AsyncServerProcess(module), args, name)
