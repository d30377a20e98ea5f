"""Talking to processes: call, cast, send, reply, stop, monitor, timers by message.

Each function acts in the node the calling code runs in (docs/process-model.md, "The node").
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

from ..errors import CallTimeout, NoProcess, PrimesError
from .caller import Caller
from .context import current_node, current_process
from .pid import Pid
from .process import CALL, CAST, INFO, STOP
from .registry import ProcessTable
from .timers import TimerRef


def call(dest: Pid | str, request: object, timeout: float = 5.0) -> object:
    """Send a request and wait for its reply.

    Raises NoProcess at once for an unknown name or a dead pid, CallTimeout after
    ``timeout`` seconds, CallFailed if the callee dies before replying.
    """
    me = current_process()
    table = me.node.processes if me is not None else current_node().processes
    proc = table.resolve(dest)
    if proc is me:
        raise PrimesError(f"process {proc.pid} called itself (it would wait forever)")
    caller = Caller(me.pid if me is not None else None)
    if not proc.deliver((CALL, request, caller)):
        raise NoProcess(f"process {proc.pid} ({proc.module}) is not alive")
    return caller.wait(timeout, f"call to {dest} ({proc.module})")


def _post(table: ProcessTable, dest: Pid | str, msg: tuple[object, ...]) -> None:
    proc = table.lookup(dest)
    if proc is None:
        if isinstance(dest, str):
            raise NoProcess(f"no process is registered as {dest!r}")
        return
    proc.deliver(msg)


def cast(dest: Pid | str, msg: object) -> None:
    """Send a request that gets no reply (handle_cast / statem 'cast').

    A dead pid drops it silently; an unknown name raises NoProcess.
    """
    proc = current_node().processes.lookup(dest)
    if proc is None:
        if isinstance(dest, str):
            raise NoProcess(f"no process is registered as {dest!r}")
        return
    proc.deliver((CAST, msg))


def send(dest: Pid | str, msg: object) -> None:
    """Send a plain message (handle_info / statem 'info'); same failure rules as cast."""
    proc = current_node().processes.lookup(dest)
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
    stop_in(current_node().processes, dest, reason, timeout)


def stop_in(table: ProcessTable, dest: Pid | str, reason: object, timeout: float) -> None:
    """:func:`stop` for a process of ``table`` (the application controller's own node)."""
    proc = table.resolve(dest)
    caller = Caller(None)
    if not proc.deliver((STOP, reason, caller)):
        raise NoProcess(f"process {proc.pid} ({proc.module}) is not alive")
    try:
        caller.wait(timeout, f"stop of {dest} ({proc.module})")
    except CallTimeout:
        msg = f"process {proc.pid} ({proc.module}) did not stop within {timeout:g} s"
        raise CallTimeout(msg) from None


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
    table = me.node.processes
    ref = MonitorRef(table.new_ref())

    def on_exit(dead: Pid, reason: object) -> None:
        me.deliver((INFO, Down(ref, dead, reason)))

    target = table.lookup(pid)
    if target is None or not target.watch(ref, on_exit):
        on_exit(pid, "noproc")
    return ref


def demonitor(pid: Pid, ref: MonitorRef) -> None:
    """Stop a monitor (a Down already delivered stays in the mailbox)."""
    target = current_node().processes.lookup(pid)
    if target is not None:
        target.unwatch(ref)


def send_after(seconds: float, dest: Pid | str, msg: object) -> TimerRef:
    """Send ``msg`` as a plain message to ``dest`` after ``seconds`` (dropped if it is gone)."""
    node = current_node()
    table = node.processes

    def fire() -> None:
        with contextlib.suppress(NoProcess):
            _post(table, dest, (INFO, msg))

    return node.timers.start(seconds, fire)


def cancel_timer(ref: TimerRef) -> bool:
    """Cancel a ``send_after``; True if the message had not been sent yet."""
    return current_node().timers.cancel(ref)
