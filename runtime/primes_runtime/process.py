"""Processes: a mailbox, a callback module reached by name, one message at a time.

A :class:`Process` is a plain object, not a thread. When it gets mail it is handed to
the scheduler pool; a worker handles its messages one at a time. Behaviours (server,
statem, supervisor) subclass it and implement ``init``/``dispatch``/``terminate``/
``code_change``. This module also holds what the release handler uses: ``suspend``
(a flag under the process lock; waits only if a message is being handled), ``resume``,
``snapshot``/``restore`` and ``change_code``.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from types import ModuleType
from typing import Any, ClassVar

from . import registry, scheduler
from .caller import Caller, failed
from .errors import CodeChangeError, NoProcess, NotSuspended, StartError, SuspendTimeout
from .pid import Pid, new_pid

log = logging.getLogger("primes_runtime.process")

# Message tags: every mailbox entry is a tuple whose first item is one of these.
CALL = "call"  # (CALL, request, caller)
CAST = "cast"  # (CAST, msg)
INFO = "info"  # (INFO, msg)
STOP = "stop"  # (STOP, reason, caller)
TIMER = "timer"  # (TIMER, kind, content, token): a behaviour's own timeout

SLICE = 64  # messages a worker handles for one process before it takes the next one

Watcher = Callable[[Pid, object], None]

_tls = threading.local()


def current_process() -> Process | None:
    """The process whose code this thread is running now (None outside processes)."""
    proc: Process | None = getattr(_tls, "proc", None)
    return proc


def self_pid() -> Pid | None:
    """The pid of the process this thread is running now, or None."""
    proc = current_process()
    return proc.pid if proc is not None else None


def current_app() -> str | None:
    """The application a process started now would belong to."""
    proc = current_process()
    if proc is not None:
        return proc.app
    app: str | None = getattr(_tls, "app", None)
    return app


@contextmanager
def app_context(app: str | None) -> Iterator[None]:
    """Run a block (an application's start) so that processes it starts belong to ``app``."""
    prev_app = getattr(_tls, "app", None)
    prev_proc = getattr(_tls, "proc", None)
    _tls.app, _tls.proc = app, None
    try:
        yield
    finally:
        _tls.app, _tls.proc = prev_app, prev_proc


@contextmanager
def running_as(proc: Process | None) -> Iterator[None]:
    """Make ``self_pid()`` return ``proc`` for the block (init, code_change)."""
    prev = getattr(_tls, "proc", None)
    _tls.proc = proc
    try:
        yield
    finally:
        _tls.proc = prev


class Exit(Exception):
    """Raised inside a behaviour to end its process with ``reason``."""

    def __init__(self, reason: object, stopper: Caller | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.stopper = stopper


def is_normal(reason: object) -> bool:
    """True for exit reasons that are not failures: normal, shutdown, ('shutdown', _)."""
    if reason in ("normal", "shutdown"):
        return True
    return isinstance(reason, tuple) and len(reason) == 2 and reason[0] == "shutdown"


class Process:
    """Base of every behaviour: mailbox, scheduling flags, life and death."""

    behaviour: ClassVar[str] = "process"

    __slots__ = (
        "__weakref__",
        "_idle",
        "_pending_calls",
        "_watchers",
        "alive",
        "app",
        "lock",
        "mailbox",
        "module",
        "name",
        "pid",
        "reason",
        "running",
        "scheduled",
        "suspended",
    )

    def __init__(self, module: str) -> None:
        self.pid = new_pid()
        self.name: str | None = None
        self.module = module
        self.app = current_app()
        self.mailbox: deque[tuple[Any, ...]] = deque()
        self.lock = threading.Lock()
        self.alive = True
        self.scheduled = False  # in the run queue or being run by a worker
        self.running = False  # a worker is inside a callback right now
        self.suspended = False
        self.reason: object = None
        self._watchers: dict[object, Watcher] | None = None
        self._idle: threading.Event | None = None  # set when the current message is done
        self._pending_calls: set[Caller] | None = None

    def __repr__(self) -> str:
        return f"<{self.behaviour} {self.pid} {self.module}>"

    # --- what behaviours implement -------------------------------------------------

    def init(self, args: object) -> None:
        """Run the callback module's init (in the starting thread, as this process)."""
        raise NotImplementedError

    def dispatch(self, msg: tuple[Any, ...]) -> None:
        """Handle one mailbox entry; raise Exit to end the process."""
        raise NotImplementedError

    def terminate(self, reason: object) -> None:
        """Run the callback module's terminate, if any."""

    def code_change(self, module: ModuleType, old_vsn: object, extra: object) -> None:
        """Transform the state with ``module``'s code_change (process is suspended)."""

    def snapshot_state(self) -> object:
        """The behaviour's state, as a value ``restore_state`` accepts."""
        return None

    def restore_state(self, state: object) -> None:
        """Put back a value from ``snapshot_state``."""

    def on_resume(self) -> None:
        """Called by ``resume`` before the process runs again."""

    def on_exit(self) -> None:
        """Called once the process is dead (cancel timers etc.)."""

    # --- mailbox and scheduling ----------------------------------------------------

    def deliver(self, msg: tuple[Any, ...], urgent: bool = False) -> bool:
        """Append to the mailbox and make the process runnable; False if it is dead.

        ``urgent``: the sender is a process about to block waiting for this one (a call
        from inside a handler), so a free worker must take it now."""
        with self.lock:
            if not self.alive:
                return False
            self.mailbox.append(msg)
            if self.scheduled or self.suspended:
                return True
            self.scheduled = True
        scheduler.get().submit(self, urgent)
        return True

    def run_slice(self) -> bool:
        """Handle up to SLICE messages (called by a scheduler worker)."""
        prev = getattr(_tls, "proc", None)
        _tls.proc = self
        lock = self.lock
        budget = SLICE
        try:
            lock.acquire()
            while True:
                if not self.alive or self.suspended or not self.mailbox:
                    self.scheduled = False
                    lock.release()
                    return False
                if budget == 0:
                    lock.release()
                    return True
                budget -= 1
                msg = self.mailbox.popleft()
                self.running = True
                lock.release()
                try:
                    if msg[0] == STOP:
                        raise Exit(msg[1], msg[2])
                    self.dispatch(msg)
                except Exit as ex:
                    self._die(ex.reason, ex.stopper)
                    return False
                except BaseException as exc:
                    what = f"{self.behaviour} {self.module}"
                    log.error("process %s (%s) crashed: %r", self.pid, what, exc, exc_info=exc)
                    self._die(exc)
                    return False
                lock.acquire()
                self.running = False
                if self._idle is not None:
                    self._idle.set()
                    self._idle = None
        finally:
            _tls.proc = prev

    def track_call(self, caller: Caller) -> None:
        """Remember a call answered later (NoReply), to fail it if the process dies first."""
        with self.lock:
            if self.alive:
                calls = self._pending_calls
                if calls is None:
                    calls = self._pending_calls = set()
                elif len(calls) >= 64:
                    calls = self._pending_calls = {c for c in calls if not c.answered}
                calls.add(caller)
                return
        caller.set_error(failed(f"process {self.pid} ({self.module})", self.reason))

    # --- life and death ------------------------------------------------------------

    def watch(self, key: object, fn: Watcher) -> bool:
        """Call ``fn(pid, reason)`` when this process dies; False if it is dead already."""
        with self.lock:
            if not self.alive:
                return False
            if self._watchers is None:
                self._watchers = {}
            self._watchers[key] = fn
            return True

    def unwatch(self, key: object) -> None:
        """Forget a watcher added with :meth:`watch`."""
        with self.lock:
            if self._watchers is not None:
                self._watchers.pop(key, None)

    def _die(self, reason: object, stopper: Caller | None = None) -> None:
        if self.alive:
            try:
                with running_as(self):
                    self.terminate(reason)
            except Exception as exc:
                log.error(
                    "process %s (%s): terminate raised %r", self.pid, self.module, exc, exc_info=exc
                )
        self.finish(reason)
        if stopper is not None:
            stopper.set_reply(None)

    def finish(self, reason: object) -> bool:
        """Mark dead, answer queued calls with CallFailed, tell watchers; False if dead."""
        with self.lock:
            if not self.alive:
                return False
            self.alive = False
            self.running = False
            self.reason = reason
            pending = list(self.mailbox)
            self.mailbox.clear()
            watchers, self._watchers = self._watchers, None
            calls, self._pending_calls = self._pending_calls, None
            idle, self._idle = self._idle, None
        if idle is not None:
            idle.set()
        registry.drop(self)
        try:
            self.on_exit()
        except Exception:
            log.exception("process %s: cleanup failed", self.pid)
        what = f"process {self.pid} ({self.module})"
        for msg in pending:
            if msg[0] == CALL:
                msg[2].set_error(failed(what, reason))
            elif msg[0] == STOP:
                msg[2].set_reply(None)
        for caller in calls or ():
            caller.set_error(failed(what, reason))
        if not is_normal(reason) and not isinstance(reason, BaseException):
            log.error(
                "process %s (%s %s) exited: %r", self.pid, self.behaviour, self.module, reason
            )
        for fn in (watchers or {}).values():
            try:
                fn(self.pid, reason)
            except Exception:
                log.exception("process %s: exit watcher raised", self.pid)
        return True

    @property
    def status(self) -> str:
        """'running' or 'suspended' ('dead' once it has exited)."""
        if not self.alive:
            return "dead"
        return "suspended" if self.suspended else "running"


def spawn(proc: Process, args: object, name: str | None) -> Pid:
    """Register ``proc``, run its init synchronously, then let it receive mail."""
    proc.scheduled = True  # mail that arrives during init waits until init returned
    registry.add(proc)
    if name is not None:
        try:
            registry.register(name, proc.pid)
        except Exception as exc:
            proc.finish("normal")
            raise StartError(f"cannot start {proc.behaviour} {proc.module}: {exc}") from exc
    try:
        with running_as(proc):
            proc.init(args)
    except Exception as exc:
        proc.finish("normal")
        where = f" as {name!r}" if name else ""
        raise StartError(
            f"{proc.behaviour} {proc.module}{where} failed to start: init raised {exc!r}"
        ) from exc
    with proc.lock:
        go = proc.alive and not proc.suspended and bool(proc.mailbox)
        proc.scheduled = go
    if go:
        scheduler.get().submit(proc)
    return proc.pid


# --- what the release handler uses ---------------------------------------------------


@dataclass(frozen=True)
class ProcessSnapshot:
    """Opaque copy of a suspended process's code reference and behaviour state."""

    pid: Pid
    module: str
    behaviour: str
    state: object


def _get(pid: Pid) -> Process:
    return registry.resolve(pid)


def suspend(pid: Pid, timeout: float) -> float:
    """Stop ``pid`` between two messages; return the seconds waited for its current one.

    Mail that arrives while it is suspended is kept, in order. An idle process is
    suspended at once without waking any thread. Raises SuspendTimeout (and leaves the
    process running) if its current message takes longer than ``timeout``.
    """
    proc = _get(pid)
    with proc.lock:
        if not proc.alive:
            raise NoProcess(f"process {pid} is not alive")
        proc.suspended = True
        if not proc.running:
            return 0.0
        idle = proc._idle
        if idle is None:
            idle = proc._idle = threading.Event()
    start = time.monotonic()
    if not idle.wait(timeout):
        resume(pid)
        raise SuspendTimeout(
            f"process {pid} ({proc.module}) is still handling a message after {timeout:g} s"
        )
    return time.monotonic() - start


def resume(pid: Pid) -> None:
    """Let a suspended process run again; buffered messages are then handled in order."""
    proc = _get(pid)
    if proc.suspended:
        with running_as(proc):
            proc.on_resume()
    with proc.lock:
        if not proc.suspended:
            return
        proc.suspended = False
        go = proc.alive and not proc.scheduled and bool(proc.mailbox)
        if go:
            proc.scheduled = True
    if go:
        scheduler.get().submit(proc)


def _suspended(pid: Pid) -> Process:
    proc = _get(pid)
    if not proc.suspended or proc.running:
        raise NotSuspended(f"process {pid} ({proc.module}) must be suspended first")
    return proc


def snapshot(pid: Pid) -> ProcessSnapshot:
    """Copy a suspended process's module name and behaviour state (for rollback)."""
    proc = _suspended(pid)
    return ProcessSnapshot(pid, proc.module, proc.behaviour, proc.snapshot_state())


def restore(pid: Pid, snap: ProcessSnapshot) -> None:
    """Put a snapshot back into the (suspended) process it was taken from."""
    proc = _suspended(pid)
    if snap.pid != pid:
        raise NotSuspended(f"snapshot of {snap.pid} cannot be restored into {pid}")
    proc.module = snap.module
    proc.restore_state(snap.state)


def change_code(pid: Pid, module: ModuleType, old_vsn: object, extra: object) -> None:
    """Transform a suspended process's state with ``module``'s code_change; it then runs
    ``module`` (by name) when resumed. Raises CodeChangeError if code_change raises."""
    proc = _suspended(pid)
    try:
        with running_as(proc):
            proc.code_change(module, old_vsn, extra)
    except Exception as exc:
        raise CodeChangeError(
            f"{module.__name__}.code_change({old_vsn!r}, ..., {extra!r}) raised {exc!r} "
            f"in process {pid}"
        ) from exc
    proc.module = module.__name__


def pids_using(module_name: str) -> list[Pid]:
    """Pids of the live processes whose callback module is ``module_name``."""
    return [p.pid for p in registry.all_processes() if p.module == module_name and p.alive]


def kill(pid: Pid, reason: object = "killed") -> bool:
    """End a process at once, without terminate (its current callback runs to its end
    but its result is dropped). False if it was already dead."""
    proc = registry.lookup(pid)
    return proc.finish(reason) if proc is not None else False


def copy_state(value: object) -> object:
    """The state itself, by reference: a snapshot costs O(1) whatever the state's size.

    A deep copy would make every upgrade's pause grow with the state (2,000,000 primes
    take ~1 s to copy). The price is the app author's rule: `code_change` builds a new
    state and never mutates the one it gets (docs/release-handling.md, rule 6).
    """
    return value
