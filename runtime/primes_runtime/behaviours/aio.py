"""What async code calls: an awaitable ``call`` and a way to run blocking runtime calls.

Async processes (aioserver.py) and any coroutine on a node's event loop use these so the
loop is never blocked while they wait for another process.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
from collections.abc import Callable
from typing import TypeVar

from ..errors import CallTimeout, NoProcess, PrimesError
from ..kernel.caller import Caller
from ..kernel.context import current_node, current_process, entered, running_as
from ..kernel.pid import Pid
from ..kernel.process import CALL

T = TypeVar("T")


class AsyncCaller(Caller):
    """A reply slot that also wakes an asyncio future (the callee may be any thread)."""

    __slots__ = ("_future", "_loop")

    def __init__(self, pid: Pid | None, loop: asyncio.AbstractEventLoop) -> None:
        super().__init__(pid)
        self._loop = loop
        self._future: asyncio.Future[None] = loop.create_future()

    def wake(self) -> None:
        """Wake the awaiting task too (however the call was settled: at once or quietly)."""
        super().wake()
        with contextlib.suppress(RuntimeError):  # a closed loop: nobody waits any more
            self._loop.call_soon_threadsafe(self._wake)

    def _wake(self) -> None:
        if not self._future.done():
            self._future.set_result(None)

    async def wait_async(self, timeout: float, what: str) -> object:
        """Await the answer without blocking the loop; return the reply or raise."""
        if not self._answers:
            try:
                await asyncio.wait_for(asyncio.shield(self._future), timeout)
            except TimeoutError:
                self._answers.append((True, CallTimeout(f"{what}: no reply within {timeout:g} s")))
        is_error, value = self._answers[0]
        if is_error:
            assert isinstance(value, BaseException)
            raise value
        return value


async def async_call(dest: Pid | str, request: object, timeout: float = 5.0) -> object:
    """``call`` for async code: send a request and await its reply (the loop keeps running).

    Raises NoProcess, CallTimeout and CallFailed as ``call`` does.
    """
    me = current_process()
    table = me.node.processes if me is not None else current_node().processes
    proc = table.resolve(dest)
    if proc is me:
        raise PrimesError(f"process {proc.pid} called itself (it would wait forever)")
    caller = AsyncCaller(me.pid if me is not None else None, asyncio.get_running_loop())
    if not proc.deliver((CALL, request, caller)):
        raise NoProcess(f"process {proc.pid} ({proc.module}) is not alive")
    return await caller.wait_async(timeout, f"call to {dest} ({proc.module})")


async def blocking(fn: Callable[..., T], *args: object, **kwargs: object) -> T:
    """Run a blocking function (``start_server``, ``stop``, file I/O) in a thread, as the
    calling process, and await its result: the loop keeps running meanwhile."""
    me = current_process()
    node = me.node if me is not None else current_node()

    def as_caller() -> T:
        with entered(node), running_as(me):
            return fn(*args, **kwargs)

    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(None, functools.partial(as_caller))
