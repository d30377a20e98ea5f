"""Processes: a mailbox, a callback module reached by name, one message at a time.

A :class:`Process` is a plain object, not a thread, and belongs to one node (``proc.node``).
When it gets mail it is handed to its node's scheduler pool; a worker handles its messages
one at a time. Behaviours (server, statem, supervisor) subclass it and implement
``init``/``dispatch``/``terminate``/``code_change``. Suspend, snapshot, code change and
resume (what the release handler uses) are in :mod:`primes_runtime.system`.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Callable
from types import ModuleType
from typing import TYPE_CHECKING, Any, ClassVar

from ..errors import StartError
from .caller import Caller, failed
from .context import current_app, current_node, current_process, running_as, swap_process
from .pid import Pid

if TYPE_CHECKING:
    from ..host.node import Node

log = logging.getLogger("primes_runtime.process")

# Message tags: every mailbox entry is a tuple whose first item is one of these.
CALL = "call"  # (CALL, request, caller)
CAST = "cast"  # (CAST, msg)
INFO = "info"  # (INFO, msg)
STOP = "stop"  # (STOP, reason, caller)
TIMER = "timer"  # (TIMER, kind, content, token): a behaviour's own timeout

SLICE = 64  # messages a worker handles for one process before it takes the next one

Watcher = Callable[[Pid, object], None]

Guard = Callable[["Process", tuple[Any, ...], BaseException], bool]
"""Asked when a callback raises: True claims the crash (the process is held, not killed)."""


def self_pid() -> Pid | None:
    """The pid of the process this thread is running now, or None."""
    proc = current_process()
    return proc.pid if proc is not None else None


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
        "_pending_calls",
        "_watchers",
        "alive",
        "app",
        "guard",
        "idle",
        "lock",
        "mailbox",
        "module",
        "node",
        "pid",
        "reason",
        "running",
        "scheduled",
        "suspended",
        "waking",
    )

    def __init__(self, module: str, node: Node | None = None) -> None:
        self.node = node if node is not None else current_node()
        self.pid = self.node.processes.new_pid()
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
        self.idle: threading.Event | None = None  # set when the current message is done
        self._pending_calls: set[Caller] | None = None
        self.guard: Guard | None = None  # set while an upgrade is on probation
        self.waking: Caller | None = None  # answered by the message just handled, to wake

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

    def submit(self) -> None:
        """Hand the process (just marked scheduled) to what runs it: the scheduler pool."""
        self.node.scheduler.submit(self)

    def deliver(self, msg: tuple[Any, ...]) -> bool:
        """Append to the mailbox and make the process runnable; False if it is dead."""
        with self.lock:
            if not self.alive:
                return False
            self.mailbox.append(msg)
            if self.scheduled or self.suspended:
                return True
            holds = self.node.processes.holds
            if holds and self.module in holds:  # its hold's release schedules it
                return True
            self.scheduled = True
        self.submit()
        return True

    def run_slice(self) -> bool:
        """Handle up to SLICE messages (called by a scheduler worker).

        A caller a message answered with ``set_reply_quiet`` (``waking``) is woken once that
        message is done: before the next message, or as the slice's last step. The worker's
        bookkeeping is then behind it, and the caller's thread, woken on the other core,
        does not have to wait for the GIL until the worker parks.
        """
        prev = swap_process(self)
        lock = self.lock
        mailbox = self.mailbox
        holds = self.node.processes.holds
        budget = SLICE
        try:
            lock.acquire()
            while True:
                if not self.alive or self.suspended or not mailbox:
                    self.scheduled = False
                    lock.release()
                    return False
                if budget == 0:
                    lock.release()
                    return True
                self.running = True  # before the look at the holds (see system.hold_module)
                if holds and self.module in holds:
                    self._stand_down()
                    lock.release()
                    return False
                budget -= 1
                msg = mailbox.popleft()
                guard = self.guard
                before = self.snapshot_state() if guard is not None else None
                lock.release()
                waking = self.waking
                if waking is not None:
                    self.waking = None
                    waking.wake()
                try:
                    if msg[0] == STOP:
                        raise Exit(msg[1], msg[2])
                    self.dispatch(msg)
                except Exit as ex:
                    self._die(ex.reason, ex.stopper)
                    return False
                except BaseException as exc:
                    if guard is not None and self._held_by(guard, msg, before, exc):
                        return False
                    what = f"{self.behaviour} {self.module}"
                    log.error("process %s (%s) crashed: %r", self.pid, what, exc, exc_info=exc)
                    self._die(exc)
                    return False
                lock.acquire()
                self.running = False
                if self.idle is not None:
                    self.idle.set()
                    self.idle = None
        finally:
            swap_process(prev)
            waking = self.waking
            if waking is not None:
                self.waking = None
                waking.wake()

    def _stand_down(self) -> None:
        """(Under its lock) not run after all: its module is held; the hold's release
        schedules it again."""
        self.running = False
        self.scheduled = False
        if self.idle is not None:
            self.idle.set()
            self.idle = None

    def _held_by(
        self, guard: Guard, msg: tuple[Any, ...], before: object, exc: BaseException
    ) -> bool:
        """Offer a crash to `guard`; if it claims it, the process gets back the state it had
        before `msg` and stays suspended (not killed, so no supervisor restarts it)."""
        claimed = False
        try:
            claimed = guard(self, msg, exc)
        except Exception:
            log.exception("process %s: crash guard raised", self.pid)
        if not claimed:
            return False
        self.restore_state(before)  # still `running`: no other worker touches it meanwhile
        with self.lock:
            self.suspended = True
            self.scheduled = False
            self.running = False
            if self.idle is not None:
                self.idle.set()
                self.idle = None
        return True

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
            idle, self.idle = self.idle, None
        if idle is not None:
            idle.set()
        self.node.processes.exited(self)
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
        if self.suspended or self.module in self.node.processes.holds:
            return "suspended"
        return "running"


def spawn(proc: Process, args: object, name: str | None) -> Pid:
    """Register ``proc``, run its init synchronously, then let it receive mail.

    While its init runs it counts as running (a suspend or a module's hold waits for it as
    for a message in hand: its state is not made yet)."""
    proc.scheduled = True  # mail that arrives during init waits until init returned
    proc.running = True
    table = proc.node.processes
    table.add(proc)
    if name is not None:
        try:
            table.register(name, proc.pid)
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
    finally:  # (however init ended: a suspend waiting for it goes on)
        with proc.lock:
            proc.running = False
            idle, proc.idle = proc.idle, None
        if idle is not None:
            idle.set()
    with proc.lock:
        go = proc.alive and not proc.suspended and bool(proc.mailbox)
        proc.scheduled = go
    if go:
        proc.submit()
    return proc.pid


def kill(proc: Process, reason: object = "killed") -> bool:
    """End a process at once, without terminate (its current callback runs to its end
    but its result is dropped). False if it was already dead."""
    return proc.finish(reason)
