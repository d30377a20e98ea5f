"""The processes a script holds suspended: suspend, let run, resume, and the undo of each."""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from itertools import groupby
from typing import Any, TypeVar

from primes_runtime.behaviours import supervisor
from primes_runtime.kernel import system
from primes_runtime.kernel.pid import Pid
from primes_runtime.kernel.process import Guard, Process
from primes_runtime.kernel.registry import ProcessTable
from primes_runtime.kernel.system import ProcessSnapshot

from .changing import Gate
from .pauses import PauseBatch, Pauses

_T = TypeVar("_T")


UNTAKEN = object()
"""A held record's state before its snapshot is taken (a module's hold takes it late)."""


@dataclass(slots=True)
class Held:
    """A process this install suspended: for which module, since when, and its old state."""

    proc: Process
    module: str
    since: float
    state: object
    """The behaviour state when it was suspended (by reference, as system.snapshot keeps it);
    UNTAKEN in a module's hold until its first code_change or until it runs again."""
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
    paused: list[tuple[float, list[tuple[Pid, Held, float]]]] = field(default_factory=list)
    """Each batch let run, as it was: until when (monotonic seconds), and each process with
    its record and since when it was suspended."""
    guard: Guard | None = None
    """Set on every process this install resumes (probation's crash guard)."""
    by_module: dict[str, list[tuple[Pid, Held]]] = field(default_factory=dict)
    """The records of `held` by module, in the order they were suspended."""
    ran: bool = False
    """Whether any process of `held` was let run since it was suspended."""
    holds: dict[str, list[Process]] = field(default_factory=dict)
    hold_since: dict[str, float] = field(default_factory=dict)
    """When each hold began: its records' `since` is set from it as the hold ends."""
    untaken: set[str] = field(default_factory=set)
    """Modules whose hold's records have no snapshot yet: the first code_change of each
    takes it as it reads the state (no loop over 10,000 inside the pause for it), else
    `take_snapshots` does before any of them runs again."""
    """Modules whose processes this install stopped with one flag (system.hold_module),
    each with those processes; none of them was let run while its module is here."""

    def waiting(self, modules: tuple[str, ...]) -> list[tuple[Pid, Held]]:
        """The held processes of `modules` not let run since, in the order they were
        suspended (while none ran, the records as kept: no look at 10,000 of them)."""
        if len(modules) == 1 and not self.ran:
            return list(self.by_module.get(modules[0], ()))
        return [(p, h) for p, h in self.held.items() if not h.running and h.module in modules]

    @property
    def pauses(self) -> Pauses:
        """How long each process this install suspended stopped, in the order they resumed:
        a batch for each module and start within each batch let run."""
        batches = []
        for until, group in self.paused:
            for (module, since), run in groupby(group, key=_module_and_since):
                members = list(run)
                names = tuple((str(pid), h.name) for pid, h, _ in members if h.name is not None)
                pids = tuple(map(str, [pid for pid, _, _ in members]))
                batches.append(PauseBatch(module, (until - since) * 1000.0, pids, names))
        return Pauses(tuple(batches))

    def _log(self, what: str, undo: Callable[[], None]) -> None:
        self.undo_log.append((what, undo))

    def suspend_all(self, modules: tuple[str, ...], timeout: float) -> None:
        """Suspend every live process of `modules`; one undo step resumes them all.

        The processes of a module are suspended as one batch (system.suspend_all), their
        records made before it (not in any pause) and their states taken after it; each
        one's pause is counted from the batch's start, so no pause is reported short."""
        name_of = self.processes.name_of
        held = self.held
        fresh: list[Pid] = []
        try:
            for module in modules:
                procs = self.processes.running(module)
                again = [p for p in procs if p.pid in held] if held else []
                for proc in again:  # suspended earlier in this script: keep its snapshot
                    if held[proc.pid].running:
                        self._resuspend(proc.pid, timeout)
                        self._log(f"resume {proc.pid}", functools.partial(self._release, proc.pid))
                if again:
                    procs = [p for p in procs if p.pid not in held]
                pairs = [(p.pid, Held(p, module, 0.0, None, name_of(p.pid))) for p in procs]
                table = self.processes
                one_flag = not again and procs and module not in table.holds
                since = time.monotonic()
                if one_flag:
                    suspended = system.hold_module(table, module, procs, timeout)
                    self.holds[module] = suspended
                else:
                    suspended = system.suspend_all(procs, timeout)
                if len(suspended) != len(procs):  # some died meanwhile: their records go
                    alive = {id(p) for p in suspended}
                    pairs = [(pid, h) for pid, h in pairs if id(h.proc) in alive]
                if one_flag:  # (their `since` and snapshots later: not a loop in the pause)
                    self.hold_since[module] = since
                    for _, record in pairs:
                        record.state = UNTAKEN
                    self.untaken.add(module)
                else:
                    for _, record in pairs:
                        record.state = record.proc.snapshot_state()
                        record.since = since
                held.update(pairs)
                self.by_module.setdefault(module, []).extend(pairs)
                fresh += [pid for pid, _ in pairs]
        finally:
            if fresh:
                self._log(f"resume {count(fresh)}", lambda: each(fresh, self._release))

    def resume_all(
        self, pairs: list[tuple[Pid, Held]], modules: tuple[str, ...] | None = None
    ) -> None:
        """The resume instruction: they (not let run yet) run again; one undo step
        re-suspends them all.

        One batch (system.resume_all, or the release of the holds of `modules` when they
        are all of `pairs`); each pause is counted to the batch's end."""
        waiting = pairs  # (the evaluator passes only those not let run)
        if not waiting:
            return
        if self.holds:
            held_modules = tuple(m for m in modules if m in self.holds) if modules else ()
            if held_modules and self._whole_holds(waiting, held_modules):
                self._release_holds(waiting, held_modules)
                return
            for module in {held.module for _, held in waiting} & self.holds.keys():
                self._split(module)
        self.ran = True
        guard = self.guard
        if guard is not None:
            for _, held in waiting:
                held.proc.guard = guard
        done: list[Pid] = []
        resumed = False
        try:
            system.resume_all(held.proc for _, held in waiting)
            resumed = True
        finally:  # after a resume that raised, the ones still suspended stay held
            until = time.monotonic()
            batch: list[tuple[Pid, Held, float]] = []
            for pid, held in waiting:
                if resumed or not held.proc.suspended:
                    held.running = True
                    batch.append((pid, held, held.since))
                    done.append(pid)
            if batch:
                self.paused.append((until, batch))
            if done:
                self._log(f"suspend {count(done)} again", lambda: each(done, self._resuspend))

    def _whole_holds(self, pairs: list[tuple[Pid, Held]], modules: tuple[str, ...]) -> bool:
        """Whether `pairs` (the waiting ones of a resume) are the processes of the holds of
        `modules` and no others (each hold's processes are among them, so a count says it)."""
        return sum(len(self.holds[module]) for module in modules) == len(pairs)

    def _release_holds(self, pairs: list[tuple[Pid, Held]], modules: tuple[str, ...]) -> None:
        """`resume_all` of the whole holds of `modules`: a flag each, then the few with
        mail are scheduled."""
        self.ran = True
        for module in modules:
            self.take_snapshots(module)
        guard = self.guard
        if guard is not None:
            for _, held in pairs:
                held.proc.guard = guard
        released: list[str] = []
        try:
            for module in modules:  # (an on_resume that raises leaves its module held)
                system.release_module(self.processes, module, self.holds[module])
                del self.holds[module]
                released.append(module)
        finally:
            until = time.monotonic()
            if len(released) < len(modules):
                pairs = [(pid, held) for pid, held in pairs if held.module in released]
            if pairs:
                since = self.hold_since
                only = since[modules[0]] if len(modules) == 1 else None
                for _, held in pairs:
                    held.since = since[held.module] if only is None else only
                    held.running = True
                self.paused.append((until, [(pid, held, held.since) for pid, held in pairs]))
                done = [pid for pid, _ in pairs]
                self._log(f"suspend {count(done)} again", lambda: each(done, self._resuspend))

    def snapshots_by_code_change(self, modules: set[str]) -> bool:
        """Whether a code_change of the held processes of `modules` is to take their
        snapshots as it reads each state (every one of their holds has none yet); if not,
        any still untaken are taken here first."""
        if modules and modules <= self.untaken:
            return True
        for module in modules:
            self.take_snapshots(module)
        return False

    def snapshots_taken(self, modules: set[str]) -> None:
        """A code_change that took the snapshots of `modules` reached every process."""
        self.untaken -= modules

    def take_snapshots(self, module: str) -> None:
        """The snapshot of each record of a module's hold that has none yet (before any of
        them runs again, or a code_change that does not take them)."""
        if module not in self.untaken:
            return
        for _, held in self.by_module[module]:
            if held.state is UNTAKEN:
                held.state = held.proc.snapshot_state()
        self.untaken.discard(module)

    def _split(self, module: str) -> None:
        """Each process of a module's hold suspended on its own flag (to let one run)."""
        procs = self.holds.get(module)
        if procs is None:
            return
        since = self.hold_since[module]
        for _, held in self.by_module[module]:
            if held.since == 0.0:  # (a record of the hold: its since is set as it ends)
                held.since = since
        try:
            self.take_snapshots(module)
        finally:  # (a snapshot_state that raises leaves no module held for good)
            system.hold_to_flags(self.processes, module, procs)
            del self.holds[module]

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
        self._split(held.module)
        self.ran = True
        if self.guard is not None:
            held.proc.guard = self.guard
        system.resume(held.proc)
        held.running = True
        self.paused.append((time.monotonic(), [(pid, held, held.since)]))

    def _resuspend(self, pid: Pid, timeout: float = 5.0) -> None:
        held = self.held[pid]
        self._split(held.module)
        held.since = time.monotonic()
        system.suspend(held.proc, timeout)
        held.running = False


def _module_and_since(entry: tuple[Pid, Held, float]) -> tuple[str, float]:
    return entry[1].module, entry[2]


def restorer(targets: list[tuple[Pid, Held]], gate: Gate) -> Callable[[], None]:
    """The undo step that puts each held process's old state back, once no code_change
    result can be set any more."""

    def undo() -> None:
        gate.close()
        taken = [held for _, held in targets if held.state is not UNTAKEN]  # (untaken: unchanged)
        each(taken, lambda h: system.restore(h.proc, h.snapshot))

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


def count(items: Sequence[Any]) -> str:
    """ "process <pid>" for one (its pid first, or alone), "N processes" for more."""
    if len(items) != 1:
        return f"{len(items)} processes"
    first = items[0]
    return f"process {first[0] if isinstance(first, tuple) else first}"
