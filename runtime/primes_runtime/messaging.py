"""Talking to processes: call, cast, send, reply, stop, monitor, timers by message."""

from __future__ import annotations

import contextlib
import itertools
from dataclasses import dataclass

from . import registry, timers
from .caller import Caller
from .errors import CallTimeout, NoProcess, PrimesError
from .pid import Pid
from .process import CALL, CAST, INFO, STOP, current_process
from .timers import TimerRef


def call(dest: Pid | str, request: object, timeout: float = 5.0) -> object:
    """Send a request and wait for its reply.

    Raises NoProcess at once for an unknown name or a dead pid, CallTimeout after
    ``timeout`` seconds, CallFailed if the callee dies before replying.
    """
    proc = registry.resolve(dest)
    me = current_process()
    if proc is me:
        raise PrimesError(f"process {proc.pid} called itself (it would wait forever)")
    caller = Caller(me.pid if me is not None else None)
    if not proc.deliver((CALL, request, caller), urgent=me is not None):
        raise NoProcess(f"process {proc.pid} ({proc.module}) is not alive")
    return caller.wait(timeout, f"call to {dest} ({proc.module})")


def cast(dest: Pid | str, msg: object) -> None:
    """Send a request that gets no reply (handle_cast / statem 'cast').

    A dead pid drops it silently; an unknown name raises NoProcess.
    """
    proc = registry.lookup(dest)
    if proc is None:
        if isinstance(dest, str):
            raise NoProcess(f"no process is registered as {dest!r}")
        return
    proc.deliver((CAST, msg))


def send(dest: Pid | str, msg: object) -> None:
    """Send a plain message (handle_info / statem 'info'); same failure rules as cast."""
    proc = registry.lookup(dest)
    if proc is None:
        if isinstance(dest, str):
            raise NoProcess(f"no process is registered as {dest!r}")
        return
    proc.deliver((INFO, msg))


def reply(caller: Caller, value: object) -> None:
    """Answer a call later (after handle_call returned NoReply)."""
    caller.set_reply(value)


def stop(dest: Pid | str, reason: object = "normal", timeout: float = 5.0) -> None:
    """Ask a process to end (after the messages before this request); waits for its end.

    Its terminate runs with ``reason``. Raises NoProcess if it is not alive and
    CallTimeout if it has not ended within ``timeout``.
    """
    proc = registry.resolve(dest)
    caller = Caller(None)
    if not proc.deliver((STOP, reason, caller), urgent=current_process() is not None):
        raise NoProcess(f"process {proc.pid} ({proc.module}) is not alive")
    try:
        caller.wait(timeout, f"stop of {dest} ({proc.module})")
    except CallTimeout:
        msg = f"process {proc.pid} ({proc.module}) did not stop within {timeout:g} s"
        raise CallTimeout(msg) from None


_refs = itertools.count(1)


@dataclass(frozen=True, slots=True)
class MonitorRef:
    """Identifies one monitor; it comes back in the Down message."""

    id: int


@dataclass(frozen=True, slots=True)
class Down:
    """Info message a monitoring process gets when the monitored one exits."""

    ref: MonitorRef
    pid: Pid
    reason: object


def monitor(pid: Pid) -> MonitorRef:
    """The calling process gets ``Down(ref, pid, reason)`` as an info message when ``pid``
    exits (reason ``"noproc"`` at once if it is not alive)."""
    me = current_process()
    if me is None:
        raise PrimesError("monitor() must be called from inside a process")
    ref = MonitorRef(next(_refs))
    watcher = me.pid

    def on_exit(dead: Pid, reason: object) -> None:
        send(watcher, Down(ref, dead, reason))

    target = registry.lookup(pid)
    if target is None or not target.watch(ref, on_exit):
        on_exit(pid, "noproc")
    return ref


def demonitor(pid: Pid, ref: MonitorRef) -> None:
    """Stop a monitor (a Down already delivered stays in the mailbox)."""
    target = registry.lookup(pid)
    if target is not None:
        target.unwatch(ref)


def send_after(seconds: float, dest: Pid | str, msg: object) -> TimerRef:
    """Send ``msg`` as a plain message to ``dest`` after ``seconds`` (dropped if it is gone)."""

    def fire() -> None:
        with contextlib.suppress(NoProcess):
            send(dest, msg)

    return timers.get().start(seconds, fire)


def cancel_timer(ref: TimerRef) -> bool:
    """Cancel a ``send_after``; True if the message had not been sent yet."""
    return timers.get().cancel(ref)
