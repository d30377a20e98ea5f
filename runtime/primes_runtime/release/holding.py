"""The processes a script holds suspended: suspend, let run, resume, and the undo of each."""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from primes_runtime.behaviours import supervisor
from primes_runtime.errors import NoProcess
from primes_runtime.kernel import system
from primes_runtime.kernel.pid import Pid
from primes_runtime.kernel.process import Guard, Process
from primes_runtime.kernel.registry import ProcessTable
from primes_runtime.kernel.system import ProcessSnapshot

from .changing import Gate
from .reports import Pause

_T = TypeVar("_T")


@dataclass(slots=True)
class Held:
    """A process this install suspended: for which module, since when, and its old state."""

    proc: Process
    module: str
    since: float
    state: object
    """The behaviour state when it was suspended (by reference, as system.snapshot keeps it)."""
    name: str | None
    running: bool = False

    @property
    def snapshot(self) -> ProcessSnapshot:
        """What system.restore needs to put the old state back."""
        return ProcessSnapshot(self.proc.pid, self.module, self.proc.behaviour, self.state)


@dataclass
class Holding:
    """The processes one script suspends, each with its old state, and how long each paused."""

    processes: ProcessTable
    undo_log: list[tuple[str, Callable[[], None]]]
    """The evaluator's undo log: every change made here enters its undo step there."""
    held: dict[Pid, Held] = field(default_factory=dict)
    paused: list[tuple[Pid, Held, float, float]] = field(default_factory=list)
    """Each pause as it ended: process, record, since, until (monotonic seconds)."""
    guard: Guard | None = None
    """Set on every process this install resumes (probation's crash guard)."""

    @property
    def pauses(self) -> list[Pause]:
        """How long each process this install suspended stopped, in the order they resumed."""
        return [
            Pause(str(pid), held.name, held.module, (until - since) * 1000.0)
            for pid, held, since, until in self.paused
        ]

    def _log(self, what: str, undo: Callable[[], None]) -> None:
        self.undo_log.append((what, undo))

    def suspend_all(self, modules: tuple[str, ...], timeout: float) -> None:
        """Suspend every live process of `modules`; one undo step resumes them all."""
        name_of = self.processes.name_of
        fresh: list[Pid] = []
        try:
            for module in modules:
                for proc in self.processes.running(module):
                    pid = proc.pid
                    held = self.held.get(pid)
                    if held is not None:  # suspended earlier in this script: keep its snapshot
                        if held.running:
                            self._resuspend(pid, timeout)
                            self._log(f"resume {pid}", functools.partial(self._release, pid))
                        continue
                    since = time.monotonic()
                    try:
                        system.suspend(proc, timeout)
                    except NoProcess:
                        continue  # it died meanwhile; its supervisor restarts it on current code
                    state = proc.snapshot_state()
                    self.held[pid] = Held(proc, module, since, state, name_of(pid))
                    fresh.append(pid)
        finally:
            if fresh:
                self._log(f"resume {count(fresh)}", lambda: each(fresh, self._release))

    def resume_all(self, pairs: list[tuple[Pid, Held]]) -> None:
        """The resume instruction: they run again; one undo step re-suspends them all."""
        done: list[Pid] = []
        try:
            for pid, held in pairs:
                self._let_run(pid, held)
                done.append(pid)
        finally:
            if done:
                self._log(f"suspend {count(done)} again", lambda: each(done, self._resuspend))

    def upgrade_children(self, pairs: list[tuple[Pid, Held]]) -> None:
        """Once all of them run again: supervisors among them start and stop children."""
        for pid, held in pairs:
            if held.proc.behaviour != "supervisor":
                continue  # what upgrade_children would find out, without a lookup
            undo = supervisor.upgrade_children(pid)
            if undo is not None:
                self._log(f"old children of supervisor {pid}", undo)

    def _release(self, pid: Pid) -> None:
        self._let_run(pid, self.held[pid])

    def _let_run(self, pid: Pid, held: Held) -> None:
        if held.running:
            return
        if self.guard is not None:
            held.proc.guard = self.guard
        system.resume(held.proc)
        held.running = True
        self.paused.append((pid, held, held.since, time.monotonic()))

    def _resuspend(self, pid: Pid, timeout: float = 5.0) -> None:
        held = self.held[pid]
        held.since = time.monotonic()
        system.suspend(held.proc, timeout)
        held.running = False


def restorer(held: list[Held], gate: Gate) -> Callable[[], None]:
    """The undo step that puts each held process's old state back, once no code_change
    result can be set any more."""

    def undo() -> None:
        gate.close()
        each(held, lambda h: system.restore(h.proc, h.snapshot))

    return undo


def each(items: list[_T], undo: Callable[[_T], object]) -> None:
    """An undo step over many, newest first (as one step per item would be undone): every
    item is tried; the failures are raised together."""
    problems: list[str] = []
    for item in reversed(items):
        try:
            undo(item)
        except Exception as exc:
            label = item.proc.pid if isinstance(item, Held) else item
            problems.append(f"{label}: {type(exc).__name__}: {exc}")
    if problems:
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        raise RuntimeError(problems[0] + more)


def count(items: list[Any]) -> str:
    """ "process <pid>" for one, "N processes" for more."""
    return f"process {items[0]}" if len(items) == 1 else f"{len(items)} processes"
