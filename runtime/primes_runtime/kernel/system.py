"""What the release handler does to a process (OTP's ``sys``): suspend, snapshot, change
its code, restore, resume.

``suspend`` is a flag under the process lock; it waits only if a message is being
handled. Mail that arrives meanwhile is kept, in order; ``resume`` lets it be handled.
``hold_module`` stops every process of one callback module with a single flag (the
release handler's pause of 10,000 processes: no lock taken per process).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from operator import attrgetter
from types import ModuleType

from ..errors import CodeChangeError, NoProcess, NotSuspended, SuspendTimeout
from .context import current_node, swap_process
from .pid import Pid
from .process import Process
from .registry import ProcessTable

_ALIVE = attrgetter("alive")


def _process(target: Process | Pid) -> Process:
    """A process, or the live process of a pid in the calling code's node."""
    if type(target) is Pid:
        return current_node().processes.resolve(target)
    assert isinstance(target, Process)
    return target


@dataclass(frozen=True)
class ProcessSnapshot:
    """Opaque copy of a suspended process's code reference and behaviour state.

    The state is kept by reference: a snapshot costs O(1) whatever the state's size (a
    deep copy of 2,000,000 primes takes ~1 s). The app author's rule that pays for it:
    ``code_change`` builds a new state and never mutates the one it gets
    (docs/release-handling.md, rule 6)."""

    pid: Pid
    module: str
    behaviour: str
    state: object


def suspend(target: Process | Pid, timeout: float) -> float:
    """Stop ``proc`` between two messages; return the seconds waited for its current one.

    An idle process is suspended at once without waking any thread. Raises NoProcess if
    it is dead, SuspendTimeout (and leaves it running) if its current message takes
    longer than ``timeout``.
    """
    proc = _process(target)
    with proc.lock:
        if not proc.alive:
            raise NoProcess(f"process {proc.pid} is not alive")
        proc.suspended = True
        if not proc.running:
            return 0.0
        idle = _idle_event(proc)
    start = time.monotonic()
    if not idle.wait(timeout):
        resume(proc)
        raise _too_long(proc, timeout)
    return time.monotonic() - start


def _idle_event(proc: Process) -> threading.Event:
    """(Under its lock, while it handles a message) what is set once that message is done."""
    idle = proc.idle
    if idle is None:
        idle = proc.idle = threading.Event()
    return idle


def _too_long(proc: Process, timeout: float) -> SuspendTimeout:
    return SuspendTimeout(
        f"process {proc.pid} ({proc.module}) is still handling a message after {timeout:g} s"
    )


def resume(target: Process | Pid) -> None:
    """Let a suspended process run again; buffered messages are then handled in order."""
    proc = _process(target)
    if proc.suspended and type(proc).on_resume is not Process.on_resume:
        _run_on_resume(proc)
    with proc.lock:
        if not proc.suspended:
            return
        proc.suspended = False
        go = proc.alive and not proc.scheduled and bool(proc.mailbox)
        if go:
            proc.scheduled = True
    if go:
        proc.submit()


def suspend_all(procs: Iterable[Process], timeout: float) -> list[Process]:
    """Suspend every live process of ``procs`` (one that died is left out); return them.

    Each is flagged at once under its lock, then each one in the middle of a message is
    waited for (up to ``timeout`` each): the batch's cost is the flags, not a call per
    process. Raises SuspendTimeout, after resuming every process it suspended, if a
    message takes longer.
    """
    done: list[Process] = []
    busy: list[tuple[Process, threading.Event]] = []
    for proc in procs:
        with proc.lock:
            if proc.alive:
                proc.suspended = True
                done.append(proc)
                if proc.running:
                    busy.append((proc, _idle_event(proc)))
    for proc, idle in busy:
        if not idle.wait(timeout):
            resume_all(done)
            raise _too_long(proc, timeout)
    return done


def resume_all(procs: Iterable[Process]) -> None:
    """`resume` each of ``procs``, in order (a behaviour's on_resume looked up once per
    class, not once per process)."""
    hooked: dict[type, bool] = {}
    for proc in procs:
        kind = type(proc)
        hook = hooked.get(kind)
        if hook is None:
            hook = hooked[kind] = kind.on_resume is not Process.on_resume
        if hook:
            resume(proc)
            continue
        go = False  # (`resume`'s flag flip written out: see `change_held`)
        with proc.lock:
            if proc.suspended:
                proc.suspended = False
                go = proc.alive and not proc.scheduled and bool(proc.mailbox)
                if go:
                    proc.scheduled = True
        if go:
            proc.submit()


def hold_module(
    table: ProcessTable, module: str, procs: list[Process], timeout: float
) -> list[Process]:
    """Stop every process of callback module ``module`` between two messages; return those
    of ``procs`` (its processes) still alive.

    One flag for all of them: ``module`` enters the table's holds, and a process looks
    there before each message. A process marks itself running *before* it looks and this
    looks at each one's running flag *after* the flag is up, so (each step one bytecode
    under the GIL) either it sees the hold and stands down, or it is seen running and
    waited for (up to ``timeout`` each). A process of ``module`` started meanwhile stands
    still too. Raises SuspendTimeout, after letting them all run, if a message takes longer.
    """
    holds = table.holds
    if module in holds:
        raise RuntimeError(f"the processes of {module} are held already")
    holds.add(module)
    try:
        for proc in procs:
            if not proc.running:
                continue
            with proc.lock:
                if not proc.running:
                    continue
                idle = _idle_event(proc)
            if not idle.wait(timeout):
                raise _too_long(proc, timeout)
    except BaseException:
        release_module(table, module)
        raise
    if all(map(_ALIVE, procs)):  # (a look at each in C: the usual case)
        return procs
    return [proc for proc in procs if proc.alive]


def release_module(table: ProcessTable, module: str, procs: Sequence[Process] = ()) -> None:
    """Let the processes of a held module run again: first each of ``procs`` (those held)
    whose behaviour has an ``on_resume`` runs it, as `resume` does; then each one with
    mail is scheduled."""
    _on_resume(procs)
    table.holds.discard(module)
    for proc in table.with_mail(module):  # (mail from now on schedules its process itself)
        with proc.lock:  # not a look at `scheduled` alone: it may be standing down now
            go = proc.alive and not proc.scheduled and not proc.suspended and bool(proc.mailbox)
            if go:
                proc.scheduled = True
        if go:
            proc.submit()


def _on_resume(procs: Sequence[Process]) -> None:
    kinds: set[type[Process]] = set(map(type, procs))
    hooked = {kind for kind in kinds if kind.on_resume is not Process.on_resume}
    if not hooked:
        return  # (one look at each, in C: the usual case)
    for proc in procs:
        if type(proc) in hooked:
            _run_on_resume(proc)


def _run_on_resume(proc: Process) -> None:
    """A behaviour's on_resume, run as its process."""
    prev = swap_process(proc)
    try:
        proc.on_resume()
    finally:
        swap_process(prev)


def hold_to_flags(table: ProcessTable, module: str, procs: list[Process]) -> None:
    """Turn a module's hold into each process's own suspend flag (then one of them can be
    let run alone); none of them runs in between. One started while it was held, not in
    ``procs``, is let run."""
    for proc in procs:
        with proc.lock:
            if proc.alive:
                proc.suspended = True
    release_module(table, module)


def _suspended(proc: Process) -> Process:
    held = proc.suspended or proc.module in proc.node.processes.holds
    if not held or proc.running:
        raise NotSuspended(f"process {proc.pid} ({proc.module}) must be suspended first")
    return proc


def snapshot(target: Process | Pid) -> ProcessSnapshot:
    """Copy a suspended process's module name and behaviour state (for rollback)."""
    proc = _process(target)
    _suspended(proc)
    return ProcessSnapshot(proc.pid, proc.module, proc.behaviour, proc.snapshot_state())


def restore(target: Process | Pid, snap: ProcessSnapshot) -> None:
    """Put a snapshot back into the (suspended) process it was taken from."""
    proc = _process(target)
    _suspended(proc)
    if snap.pid != proc.pid:
        raise NotSuspended(f"snapshot of {snap.pid} cannot be restored into {proc.pid}")
    proc.module = snap.module
    proc.restore_state(snap.state)


def change_code(target: Process | Pid, module: ModuleType, old_vsn: object, extra: object) -> None:
    """Transform a suspended process's state with ``module``'s code_change; it then runs
    ``module`` (by name) when resumed. Raises CodeChangeError if code_change raises."""
    proc = _process(target)
    _suspended(proc)
    prev = swap_process(proc)
    try:
        proc.code_change(module, old_vsn, extra)
    except Exception as exc:
        raise change_failed(proc, module, old_vsn, extra, exc) from exc
    finally:
        swap_process(prev)
    proc.module = module.__name__


def change_held(proc: Process, module: ModuleType, old_vsn: object, extra: object) -> None:
    """`change_code` for a process the caller suspended and holds so (a batch's loop over
    10,000 of them: no lookup and no check of each). Its body is written out again, not
    called from `change_code`: a call more there would cost every caller of the public
    function one per process, the in-process primitive the node's pause is compared with
    among them."""
    prev = swap_process(proc)
    try:
        proc.code_change(module, old_vsn, extra)
    except Exception as exc:
        raise change_failed(proc, module, old_vsn, extra, exc) from exc
    finally:
        swap_process(prev)
    proc.module = module.__name__


def change_failed(
    proc: Process, module: ModuleType, old_vsn: object, extra: object, exc: Exception
) -> CodeChangeError:
    """The error a failed code_change of ``proc`` is reported as (its cause: ``exc``)."""
    return CodeChangeError(
        f"{module.__name__}.code_change({old_vsn!r}, ..., {extra!r}) raised {exc!r} "
        f"in process {proc.pid}"
    )
