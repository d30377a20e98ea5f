"""Probation: the processes an install touched run its code for a while; a crash rolls it back.

While the window is open every touched process carries a crash guard
(`Process.guard`). A callback that raises is then not a crash the supervisor sees: the
process gets back the state it had before that message and stays suspended, the message is
dropped (a caller gets an error), and the whole install is rolled back in place: the down
script converts every touched process down, the crashed one from its pre-message state, or
from its pre-upgrade snapshot where converting it down fails. Without a usable down script
the install's own undo log puts every pre-upgrade snapshot back.
"""

from __future__ import annotations

import logging
import threading
from contextlib import suppress
from dataclasses import dataclass, field
from typing import Any

from primes_runtime.errors import CallFailed, NoProcess, SuspendTimeout
from primes_runtime.formats import FormatError, relup
from primes_runtime.kernel import system
from primes_runtime.kernel.pid import Pid
from primes_runtime.kernel.process import CALL, Process

from . import target as targets
from .evaluator import Evaluator, StepFailed
from .reports import Crash, Probation

log = logging.getLogger("primes_runtime.release")

CONVERTED = "converted down"
"""A crashed process's state before the message, through the down script's code_change."""
KEPT = "kept as it was"
"""... left as it was: the down script runs no code_change for its module."""
SNAPSHOT = "pre-upgrade snapshot"
"""... its state from before the install (converting down failed, or was not possible)."""

_SUSPEND_TIMEOUT = 5.0


@dataclass
class Trial:
    """One install's probation: guards on its processes, the window, the rollback."""

    evaluator: Evaluator
    seconds: float
    crashes: list[tuple[Process, Crash]] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _crashed: threading.Event = field(default_factory=threading.Event)
    _open: bool = True
    _why_not_down: str = ""
    _down_path: str = ""

    def guard(self, proc: Process, msg: tuple[Any, ...], exc: BaseException) -> bool:
        """Process.guard: claim a touched process's crash while the window is open."""
        with self._lock:
            if not self._open:
                return False
            kind = str(msg[0])
            crash = Crash(
                str(proc.pid), proc.node.processes.name_of(proc.pid), proc.module, kind,
                f"{type(exc).__name__}: {exc}",
            )  # fmt: skip
            self.crashes.append((proc, crash))
        log.error(
            "process %s (%s) crashed handling a %s during probation; rolling the install back",
            proc.pid, proc.module, kind, exc_info=exc,
        )  # fmt: skip
        if msg[0] == CALL:
            msg[2].set_error(
                CallFailed(
                    f"process {proc.pid} ({proc.module}) crashed on the new release's code "
                    f"({type(exc).__name__}: {exc}); the upgrade is rolled back, the call is "
                    "not retried"
                )
            )
        self._crashed.set()
        return True

    def passes(self) -> bool:
        """Wait out the window; False as soon as a touched process crashes in it."""
        if self.seconds > 0 and self.evaluator.held:
            self._crashed.wait(self.seconds)
        with self._lock:
            if not self.crashes:
                self._close()
                return True
        return False

    def close(self) -> None:
        """Take the guards off (a crash from now on is an ordinary crash)."""
        with self._lock:
            self._close()

    def _close(self) -> None:
        self._open = False
        for held in self.evaluator.held.values():
            held.proc.guard = None

    def report(self) -> Probation:
        """The window passed."""
        return Probation(self.seconds, len(self.evaluator.held), True)

    def roll_back(self) -> tuple[Probation, tuple[str, ...]]:
        """Bring the node back to the old release in place; the report and any problems."""
        up = self.evaluator
        touched = [h.proc for h in up.held.values() if h.proc.alive]
        for proc in touched:  # no other touched process runs new code meanwhile
            with suppress(NoProcess, SuspendTimeout):
                system.suspend(proc, _SUSPEND_TIMEOUT)
        self.close()
        crashed = {proc.pid for proc, _ in self.crashes}
        outcome = self._down(crashed)
        states: dict[Pid, str] = {}
        converted: tuple[str, ...] = ()
        if outcome is None:
            problems = tuple(up.rollback())
            how = f"the pre-upgrade snapshots ({self._why_not_down})"
        else:
            states, converted = outcome
            problems = ()
            how = f"the down script {self._down_path}"
        for proc in touched:  # a process no script resumed runs again, on the old code
            system.resume(proc)
        first_proc, first = self.crashes[0]
        crash = Crash(
            first.pid, first.name, first.module, first.kind, first.error,
            states.get(first_proc.pid, SNAPSHOT),
        )  # fmt: skip
        trial = Probation(self.seconds, len(up.held), False, crash, how, converted)
        return trial, problems

    def _down(self, crashed: set[Pid]) -> tuple[dict[Pid, str], tuple[str, ...]] | None:
        """Run the down script; None (and why) if there is none or it failed and rolled back."""
        up = self.evaluator
        rel = f"releases/{up.new.version}/down_to_{up.old.version}.relup"
        self._down_path = rel
        path = targets.release_dir(up.root, up.new.version) / f"down_to_{up.old.version}.relup"
        if not path.is_file():
            self._why_not_down = f"there is no {rel}"
            return None
        try:
            script = relup.read(path)
        except FormatError as exc:
            self._why_not_down = f"{rel} does not read: {exc}"
            return None
        fallback = {pid: up.held[pid].snapshot for pid in crashed if pid in up.held}
        down = Evaluator(up.node, script, up.new, up.old, fallback=fallback)
        try:
            down.prepare()
            down.run()
        except StepFailed as failed:
            problems = down.rollback()
            extra = f"; its rollback: {'; '.join(problems)}" if problems else ""
            self._why_not_down = f"the down script failed at {failed.step}{extra}"
            return None
        states: dict[Pid, str] = {}
        for pid in crashed:
            done = down.changed.get(pid)
            if done == "code_change":
                states[pid] = CONVERTED
            elif done == "no code_change":
                states[pid] = KEPT
            else:  # converting it failed (snapshot put back), or the script does not reach it
                if done is None and pid in fallback:
                    _restore(up.held[pid].proc, fallback[pid])
                states[pid] = SNAPSHOT
        converted = tuple(str(pid) for pid in down.changed if pid not in crashed)
        return states, converted


def _restore(proc: Process, snap: system.ProcessSnapshot) -> None:
    """Put a pre-upgrade snapshot back into a process the down script did not reach."""
    system.suspend(proc, _SUSPEND_TIMEOUT)
    system.restore(proc, snap)
