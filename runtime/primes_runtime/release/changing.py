"""The code_change runner: one worker thread for every call of an install, each call bounded
by its timeout, a gate that keeps a late result from overwriting a restored state, and
stand-ins for modules whose code_change goes through it."""

from __future__ import annotations

import inspect
import logging
import queue
import threading
import time
from collections.abc import Awaitable, Callable, Container, Mapping, Sequence
from types import ModuleType
from typing import Protocol

from primes_runtime.behaviours.server import ServerProcess
from primes_runtime.kernel import system
from primes_runtime.kernel.context import current_process, thread_record
from primes_runtime.kernel.pid import Pid
from primes_runtime.kernel.process import Process

log = logging.getLogger("primes_runtime.release")

WORKER = "primes-code-change"
"""Name prefix of the thread that runs code_change calls."""
ABANDONED = ", abandoned by the "


def lingering_code_changes() -> list[str]:
    """Abandoned code_change workers still alive, each name saying where it is stuck."""
    return sorted(
        t.name
        for t in threading.enumerate()
        if t.name.startswith(WORKER) and ABANDONED in t.name and t.is_alive()
    )


class Worker:
    """The thread that runs code_change calls, one batch after another, until closed."""

    def __init__(self) -> None:
        self.batches: queue.SimpleQueue[Callable[[], None] | None] = queue.SimpleQueue()
        self.abandoned = False
        self.thread = threading.Thread(target=self._serve, name=WORKER, daemon=True)
        try:
            self.thread.start()
        except RuntimeError as exc:
            raise RuntimeError(f"cannot start the {WORKER} thread ({exc})") from None

    def _serve(self) -> None:
        while (batch := self.batches.get()) is not None:
            batch()

    def close(self) -> None:
        """End the thread once its batch in flight (if any) returns."""
        self.batches.put(None)


LOOKS = 8
"""How often, per timeout, the waiting thread looks at which call the worker is in: a call
seen in two looks `timeout` apart took longer than `timeout` (found by 1.25x its timeout at
the latest), and the worker reads no clock for each of 10,000 calls."""


class Gate:
    """The hand-off between the code_change worker and the rollback, under one lock.

    The worker enters once a code_change returned and leaves once its result is set into
    the process (state and module); closing waits for a result being set and drops every
    later one. So the rollback, which closes it before it restores, never has its restored
    state overwritten by a code_change that returned at its deadline or after it.
    """

    __slots__ = ("held", "lock", "shut")

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.shut = False
        self.held = False

    def enter(self) -> None:
        """In the worker: hold the gate until `leave`; raise if it is closed."""
        self.lock.acquire()
        if self.shut:
            self.lock.release()
            raise TimeoutError("code_change returned after its timeout; result dropped")
        self.held = True

    def leave(self) -> None:
        """In the worker, once the result is set (or the call failed)."""
        if self.held:
            self.held = False
            self.lock.release()

    def close(self) -> None:
        """From here on no result is set; one being set when this is called is set first."""
        if not self.lock.acquire(blocking=False):
            log.info("a code_change returned as its timeout passed; its result is set, then undone")
            self.lock.acquire()
        self.shut = True
        self.lock.release()


class Shim(ModuleType):
    """A module's stand-in whose code_change goes through a `Gate`."""

    direct: Callable[..., object]
    """The module's own code_change (for a server's state: change_each sets its results)."""


_PLAIN = frozenset({dict, list, tuple, set, str, bytes, int, float, bool, type(None)})
"""Results that are never awaitable: no isawaitable call (an ABC check) for each of 10,000."""
_SETTLED = _PLAIN - {type(None)}
"""Results a server's state is set to as they are (None is refused, as the stand-in does)."""


def guarded(module: ModuleType, gate: Gate) -> ModuleType:
    """A stand-in for `module` whose code_change enters `gate` as it returns, and raises
    instead of returning once the gate is closed.

    The behaviour assigns code_change's result to the process state; a code_change that
    timed out and returns after the rollback restored the old state must not overwrite it.
    An async code_change is awaited here (on the node's loop, as its server would), so that
    its result passes the gate too.
    """
    real = getattr(module, "code_change", None)
    if real is None:
        return module
    shim = Shim(module.__name__, module.__doc__)
    lock, dropped = gate.lock, "code_change returned after its timeout; result dropped"

    def code_change(old_vsn: object, state: object, extra: object, *more: object) -> object:
        # (Gate.enter inline, and no argument tuple for the usual three: 10,000 calls)
        result = real(old_vsn, state, extra, *more) if more else real(old_vsn, state, extra)
        if type(result) not in _PLAIN and inspect.isawaitable(result):
            result = awaited(result)
        lock.acquire()
        if gate.shut:
            lock.release()
            raise TimeoutError(dropped)
        gate.held = True
        if result is None and state is not None and not more:
            raise TypeError("code_change returned None; it must return the new state")
        return result

    shim.code_change = code_change  # type: ignore[attr-defined]
    shim.direct = real
    return shim


def awaited(awaitable: Awaitable[object]) -> object:
    """What an async code_change's awaitable gives, run on the node's loop as its process."""
    from primes_runtime.behaviours.aioserver import INIT_TIMEOUT  # asyncio: only when async

    async def settle() -> object:
        return await awaitable

    proc = current_process()
    assert proc is not None  # system.change_code runs code_change as its process
    return proc.node.aio.run(settle(), proc, INIT_TIMEOUT)


class Target(Protocol):
    """A held process as change_each reads it (release/holding.Held)."""

    proc: Process
    module: str
    state: object
    """Its snapshot: set here, as the state is read, when change_each is told to take it."""


_UNSET = object()
"""No new state for this process (yet): its code_change did not return."""


def change_each(
    worker: Worker,
    targets: Sequence[tuple[Pid, Target]],
    shims: Mapping[str, ModuleType],
    gate: Gate,
    old_vsn: object,
    extra: object,
    timeout: float,
    fallback: Container[Pid],
    snapshot: bool = False,
) -> tuple[dict[int, BaseException], int | None]:
    """code_change each target with its module's stand-in (`shims`, by module), one after
    another on `worker`.

    Returns what each failed call raised, by index (after a failure the rest are not called,
    unless the failed process is in `fallback`), and the index of a call that took longer
    than `timeout` (None if none did): then `gate` is closed and the worker stops before the
    next call, though Python cannot stop the late one. This thread wakes only when the
    current call may have run out of time (LOOKS times per timeout) or all are done.

    A server's new state (its code_change takes the state and returns the new one) is
    kept aside by the worker and set by this thread once every call returned: no gate to
    pass for each of 10,000 (a late result is never set: this thread has gone on). With
    `snapshot`, each target's snapshot is taken as its call begins (a module's hold).
    """
    if not targets:
        return {}, None
    finished = threading.Event()
    errors: dict[int, BaseException] = {}
    stopping = False  # set when a call ran late: the worker stops before its next
    change = system.change_held  # (the evaluator holds them)
    news: list[object] = []  # one entry per call done (its count: the call in progress)
    plan = {name: (shim, _direct(shim)) for name, shim in shims.items()}
    many = len(plan) > 1

    def work() -> None:
        release = gate.lock.release
        here = thread_record()  # (its process set directly: swap_process costs 2x)
        before = here.proc
        server, keep, unset, settled = ServerProcess, news.append, _UNSET, _SETTLED
        shim, direct = next(iter(plan.values()))
        try:
            for pid, held in targets:
                if stopping:
                    return
                proc = held.proc
                if many:
                    shim, direct = plan[held.module]
                if direct is not None and type(proc) is server:  # the state in and out
                    here.proc = proc
                    state = proc.state
                    if snapshot:
                        held.state = state  # (a server's snapshot_state: by reference)
                    try:
                        new = direct(old_vsn, state, extra)
                        if type(new) not in settled:
                            new = _settled(new, state)
                    except BaseException as exc:
                        errors[len(news)] = _failed(proc, shim, old_vsn, extra, exc)
                        if pid not in fallback:
                            return
                        new = unset
                    keep(new)
                    continue
                try:
                    if snapshot:
                        held.state = proc.snapshot_state()
                    if type(shim) is not Shim:  # no code_change: only its module is set
                        gate.enter()
                    change(proc, shim, old_vsn, extra)
                except BaseException as exc:
                    errors[len(news)] = exc
                    if pid not in fallback:
                        return
                finally:
                    if gate.held:  # (Gate.leave inline)
                        gate.held = False
                        release()
                keep(unset)
        finally:
            here.proc = before
            finished.set()

    worker.batches.put(work)
    seen, since = -1, time.monotonic()
    while not finished.wait(timeout / LOOKS):
        index, now = len(news), time.monotonic()  # the call the worker is in
        if index != seen:  # a call seen for the first time: it began at most a look ago
            seen, since = index, now
        elif index < len(targets) and now - since >= timeout:
            gate.close()  # if it ever returns, its result is dropped: state stays restored
            stopping = True
            return errors, index
    if not gate.shut:
        unset = _UNSET
        for (_, held), new in zip(targets, news, strict=False):  # (fewer after a failure)
            if new is not unset:
                held.proc.state = new  # type: ignore[attr-defined]
    return errors, None


def _direct(shim: ModuleType) -> Callable[..., object] | None:
    """The module's own code_change behind a stand-in, or None (no stand-in: none to call)."""
    return shim.direct if type(shim) is Shim else None


def _failed(
    proc: Process, shim: ModuleType, old_vsn: object, extra: object, exc: BaseException
) -> BaseException:
    """What a failed code_change is reported as (as system.change_held raises it)."""
    if not isinstance(exc, Exception):
        return exc
    error = system.change_failed(proc, shim, old_vsn, extra, exc)
    error.__cause__ = exc
    return error


def _settled(result: object, state: object) -> object:
    """A server's code_change result that is not a plain value: awaited if it is an
    awaitable, refused if it is None (as the gate's stand-in does)."""
    if inspect.isawaitable(result):
        result = awaited(result)
    if result is None and state is not None:
        raise TypeError("code_change returned None; it must return the new state")
    return result
