"""Run a parsed .relup against the running node: one `match` arm per instruction, an undo log."""

from __future__ import annotations

import contextlib
import functools
import gc
import logging
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any, Protocol, TypeVar

from primes_runtime.behaviours import supervisor
from primes_runtime.errors import NoProcess
from primes_runtime.formats.relup import (
    Apply,
    CodeChange,
    Instruction,
    Load,
    LoadObjectCode,
    PointOfNoReturn,
    Relup,
    Remove,
    Resume,
    StartApp,
    StopApp,
    Suspend,
    SwitchAppPath,
    describe,
)
from primes_runtime.host.application import Applications
from primes_runtime.kernel import system
from primes_runtime.kernel.pid import Pid
from primes_runtime.kernel.process import Guard, Process
from primes_runtime.kernel.registry import ProcessTable
from primes_runtime.kernel.system import ProcessSnapshot
from primes_runtime.loading import code_server
from primes_runtime.swap import distribution, stale
from primes_runtime.swap.journal import Journal

from .changing import (
    ABANDONED,
    WORKER,
    Gate,
    Worker,
    change_each,
    guarded,
)
from .preparing import NotPrepared, Preparation
from .reports import FailedStep, Pause
from .target import Release

_T = TypeVar("_T")


class StepFailed(Exception):
    """An instruction failed; carries where and why (the handler turns it into a report)."""

    def __init__(self, step: FailedStep) -> None:
        super().__init__(str(step))
        self.step = step


log = logging.getLogger("primes_runtime.release")


class Kernel(Protocol):
    """What the evaluator needs of the node it changes."""

    root: Path
    processes: ProcessTable
    applications: Applications


@dataclass(slots=True)
class _Held:
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
class Evaluator:
    """Applies one script, from release `old` to release `new`, in `node`."""

    node: Kernel
    script: Relup
    old: Release
    new: Release
    journals: dict[str, Journal] = field(default_factory=dict)
    """Each distribution swapped in, and how to undo it."""
    held: dict[Pid, _Held] = field(default_factory=dict)
    paused: list[tuple[Pid, _Held, float, float]] = field(default_factory=list)
    """Each pause as it ended: process, record, since, until (monotonic seconds)."""
    undo_log: list[tuple[str, Callable[[], None]]] = field(default_factory=list)
    fallback: dict[Pid, ProcessSnapshot] = field(default_factory=dict)
    """Processes whose failing code_change puts this snapshot back instead of failing."""
    changed: dict[Pid, str] = field(default_factory=dict)
    """What code_change did to each process: "code_change", "no code_change", "snapshot"."""
    guard: Guard | None = None
    """Set on every process this install resumes (probation's crash guard)."""
    worker: Worker | None = None
    """The thread code_change calls run on, started before the first suspend."""
    preparation: Preparation = field(init=False)
    """The new code this script brings, prepared before the point of no return."""

    def __post_init__(self) -> None:
        self.preparation = Preparation(self.root, self.old, self.script)

    @property
    def pauses(self) -> list[Pause]:
        """How long each process this install suspended stopped, in the order they resumed."""
        return [
            Pause(str(pid), held.name, held.module, (until - since) * 1000.0)
            for pid, held, since, until in self.paused
        ]

    @property
    def root(self) -> Path:
        """The node's tree."""
        return Path(self.node.root)

    def running(self, module: str) -> list[Process]:
        """The node's live processes running callback module ``module``, in table order."""
        return self.node.processes.running(module)

    # -- phases ---------------------------------------------------------------------------

    def split(self) -> tuple[tuple[Instruction, ...], tuple[Instruction, ...]]:
        """The instructions before the point of no return and those after it."""
        body = self.script.instructions
        for index, instruction in enumerate(body):
            if isinstance(instruction, PointOfNoReturn):
                return body[:index], body[index + 1 :]
        lead = 0
        while lead < len(body) and isinstance(body[lead], LoadObjectCode):
            lead += 1
        return body[:lead], body[lead:]

    def prepare(self) -> None:
        """Everything before the point of no return: read, check and prepare the new code."""
        before, _ = self.split()
        for instruction in before:
            if not isinstance(instruction, LoadObjectCode):
                self._fail(instruction, "only load_object_code may come before point_of_no_return")
            self._step(instruction)

    def run(self) -> None:
        """Everything after the point of no return; on failure raise StepFailed (no rollback).

        The collector is off meanwhile: a full collection of a node holding 10,000 processes
        takes tens of milliseconds, and each one during the script lengthens every pause.
        """
        _, after = self.split()
        apps = self.node.applications
        apps.configure(self.root, self.new.env_overrides)  # apps started now get its env
        self._log("node config env", lambda: apps.configure(self.root, self.old.env_overrides))
        if any(isinstance(instruction, CodeChange) for instruction in after):
            with contextlib.suppress(RuntimeError):  # else the first code_change starts it
                self.worker = Worker()  # its start (~1 ms) is then not in any pause
        collecting = gc.isenabled()
        gc.disable()
        try:
            for instruction in after:
                self._step(instruction)
            forgotten = [(pid, held) for pid, held in self.held.items() if not held.running]
            self._resume_all(forgotten)  # a script without its resume never leaves one frozen
        finally:
            if collecting:
                gc.enable()
            if self.worker is not None:
                self.worker.close()

    def forget(self) -> None:
        """Drop the undo log once the install stands: what it kept (old code, old states)
        is no longer held, though a process's probation guard may keep this object."""
        self.undo_log.clear()
        for journal in self.journals.values():
            journal.forget()
        self.journals.clear()
        self.preparation.dists.clear()
        for held in self.held.values():
            held.state = None

    def rollback(self) -> list[str]:
        """Undo every change made so far, newest first; return what could not be undone."""
        problems: list[str] = []
        while self.undo_log:
            what, undo = self.undo_log.pop()
            try:
                undo()
            except Exception as exc:
                problems.append(f"{what}: {type(exc).__name__}: {exc}")
        return problems

    # -- one arm per instruction ----------------------------------------------------------

    def _step(self, instruction: Instruction) -> None:
        try:
            self._execute(instruction)
        except StepFailed:
            raise
        except Exception as exc:
            self._fail(instruction, f"{type(exc).__name__}: {_cause(exc)}")

    def _execute(self, instruction: Instruction) -> None:
        match instruction:
            case LoadObjectCode():
                try:
                    self.preparation.load_object_code(instruction, self.owners)
                except NotPrepared as exc:
                    self._fail(instruction, str(exc))
            case PointOfNoReturn():
                pass
            case Suspend(modules=modules, timeout=timeout):
                self._suspend_all(modules, timeout)
            case SwitchAppPath():
                self._switch_app_path(instruction)
            case Load(module=module):
                owner = self.preparation.owner
                if module not in owner:
                    self._fail(instruction, f"{module} was not prepared by load_object_code")
                self._swap(owner[module])
            case CodeChange(modules=modules, old_vsn=old_vsn, extra=extra, timeout=timeout):
                targets = [
                    (pid, held)
                    for pid, held in list(self.held.items())
                    if held.module in modules and not held.running
                ]
                self._code_change(instruction, targets, old_vsn, extra, timeout)
            case Resume(modules=modules):
                pairs = [
                    (p, h) for p, h in self.held.items() if h.module in modules and not h.running
                ]
                self._resume_all(pairs)
                self._upgrade_children(pairs)
            case Remove(module=module):
                if module in sys.modules and not self._swapped_in(module):
                    self._log(f"remove {module}", code_server.remove(module).undo)
            case StartApp(app=app):
                self._start_app(instruction, app)
            case StopApp(app=app):
                self._stop_app(app)
            case Apply(module=module, function=function, args=args):
                getattr(code_server.current(module), function)(*args)

    # -- helpers --------------------------------------------------------------------------

    def _fail(self, instruction: Instruction, reason: str) -> Any:
        step = FailedStep(_display(self.root, self.script.path), instruction.line,
                          describe(instruction), reason)  # fmt: skip
        raise StepFailed(step)

    def _log(self, what: str, undo: Callable[[], None]) -> None:
        self.undo_log.append((what, undo))

    def owners(self) -> list[tuple[str, object]]:
        """The node's processes, as roots that hold state (for naming holders)."""
        return stale.process_owners(self.node.processes)

    def _swap(self, name: str) -> None:
        """Put a prepared distribution's new code behind every reference (once)."""
        prepared = self.preparation.dists.get(name)
        if prepared is None or name in self.journals:
            return
        journal = self.journals[name] = Journal()
        try:
            distribution.install(prepared, journal)
        finally:
            self._log(f"swap of {name} back to {prepared.old_dir}", _undoing(journal))

    def _swapped_in(self, module: str) -> bool:
        """Whether ``module`` is one a swap of this install loaded from its new dir (a
        compiled extension loaded anew under a restart): a `remove` leaves it."""
        where = getattr(sys.modules.get(module), "__file__", None)
        if not isinstance(where, str):
            return False
        swapped = (d.new_dir for d in self.preparation.dists.values() if d.name in self.journals)
        return any(Path(where).is_relative_to(new_dir) for new_dir in swapped)

    def stale_code(self) -> list[stale.Stale]:
        """What still runs code of the old dirs this install swapped (empty when whole)."""
        dirs = {
            d.old_dir: d.new_dir for d in self.preparation.dists.values() if d.name in self.journals
        }
        ignore: list[object] = []
        for journal in self.journals.values():
            ignore.extend(journal.containers())
        return stale.find(self.root, dirs, self.owners(), ignore)

    def verify(self, wait: float = 2.0) -> None:
        """Fail (StepFailed) if anything still runs the old code of a swapped distribution.

        A coroutine in progress (a request, a stream) finishes on the code it started on, as
        an OTP process in old code does until it returns; the web host lists such connections
        as old code in the report. A thread in old code gets ``wait`` seconds to leave it.
        """
        deadline = time.monotonic() + wait
        while True:
            found = [s for s in self.stale_code() if s.kind != "coroutine"]
            if not found:
                return
            if any(s.kind != "thread" for s in found) or time.monotonic() >= deadline:
                break
            time.sleep(0.1)
        more = f" (and {len(found) - 1} more)" if len(found) > 1 else ""
        step = FailedStep(
            _display(self.root, self.script.path), 0, "check-code",
            f"old code still runs after the swap: {found[0].line()}{more}",
        )  # fmt: skip
        raise StepFailed(step)

    def _suspend_all(self, modules: tuple[str, ...], timeout: float) -> None:
        """Suspend every live process of `modules`; one undo step resumes them all."""
        name_of = self.node.processes.name_of
        fresh: list[Pid] = []
        try:
            for module in modules:
                for proc in self.running(module):
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
                    self.held[pid] = _Held(proc, module, since, state, name_of(pid))
                    fresh.append(pid)
        finally:
            if fresh:
                self._log(f"resume {_count(fresh)}", lambda: _each(fresh, self._release))

    def _resume_all(self, pairs: list[tuple[Pid, _Held]]) -> None:
        """The resume instruction: they run again; one undo step re-suspends them all."""
        done: list[Pid] = []
        try:
            for pid, held in pairs:
                self._let_run(pid, held)
                done.append(pid)
        finally:
            if done:
                self._log(f"suspend {_count(done)} again", lambda: _each(done, self._resuspend))

    def _upgrade_children(self, pairs: list[tuple[Pid, _Held]]) -> None:
        """Once all of them run again: supervisors among them start and stop children."""
        for pid, held in pairs:
            if held.proc.behaviour != "supervisor":
                continue  # what upgrade_children would find out, without a lookup
            undo = supervisor.upgrade_children(pid)
            if undo is not None:
                self._log(f"old children of supervisor {pid}", undo)

    def _release(self, pid: Pid) -> None:
        self._let_run(pid, self.held[pid])

    def _let_run(self, pid: Pid, held: _Held) -> None:
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

    def _code_change(
        self,
        instruction: Instruction,
        targets: list[tuple[Pid, _Held]],
        old_vsn: object,
        extra: object,
        timeout: float,
    ) -> None:
        """code_change every target, one after another on one worker thread (change_each).

        The worker lets each call be bounded by `timeout` without a thread per process
        (a thread start costs ~0.1 ms: a second for 10,000 processes) and without a hand-off
        per process. Every target's state is logged for restore first; after a failure the
        worker has stopped (or is abandoned) before the rollback touches any state. A result
        is set into its process only through `gate`, which the timeout and the restore close:
        one that returns at the deadline is either set before the restore or dropped, never
        set over a restored state.
        """
        gate = Gate()
        if targets:
            what = f"restore the state of {_count([pid for pid, _ in targets])}"
            self._log(what, _restorer([held for _, held in targets], gate))
        shims: dict[str, ModuleType] = {}
        for _, held in targets:
            if held.module not in shims:
                shims[held.module] = guarded(code_server.current(held.module), gate)
        if self.worker is None or self.worker.abandoned:
            self.worker = Worker()
        worker = self.worker
        calls = [(pid, held.proc, shims[held.module]) for pid, held in targets]
        errors, late = change_each(worker, calls, gate, old_vsn, extra, timeout, self.fallback)
        if late is not None:
            pid, held = targets[late]
            self._abandon(worker, pid, held.module, timeout)
            self._fail(instruction, f"code_change of {pid} took longer than {timeout:g} s")
        fallback = self.fallback
        for index, error in sorted(errors.items()):
            pid, held = targets[index]
            if pid in fallback:
                self._fall_back(pid, held.proc, error)
                continue
            inner = error.__cause__ or error
            log.error("code_change of %s failed", pid, exc_info=inner)
            self._fail(instruction, f"code_change of {pid} raised {type(inner).__name__}: {inner}")
        labels = {
            name: "code_change"
            if getattr(shim, "code_change", None) is not None
            else "no code_change"
            for name, shim in shims.items()
        }
        changed = self.changed
        for pid, held in targets:
            if pid not in changed:
                changed[pid] = labels[held.module]

    def _fall_back(self, pid: Pid, proc: Process, error: BaseException) -> None:
        """A fallback process whose code_change failed: put its snapshot back, go on."""
        log.error(
            "code_change of %s failed (%r); its snapshot is put back", pid, error.__cause__ or error
        )
        system.restore(proc, self.fallback[pid])
        self.changed[pid] = "snapshot"

    def _abandon(self, worker: Worker, pid: Pid, module: str, timeout: float) -> None:
        """Name a worker left running so that `status` can report it (Python cannot stop it)."""
        worker.abandoned = True
        worker.thread.name = (
            f"{WORKER} in {pid} ({module}){ABANDONED}"
            f"{self.old.version} -> {self.new.version} install after {timeout:g} s"
        )
        log.error("code_change worker left running: %s", worker.thread.name)

    def _switch_app_path(self, instruction: SwitchAppPath) -> None:
        from_path = self.root / instruction.from_path if instruction.from_path else None
        to_path = self.root / instruction.to_path if instruction.to_path else None
        self._log(f"switch back to {from_path}", code_server.switch_path(from_path, to_path).undo)
        app = instruction.app
        self._swap(app)
        apps = self.node.applications
        running = any(info.name == app for info in apps.running())  # not while it restarts
        if app in self.new.apps and app in self.old.apps and running:
            new, old = self.new.apps[app], self.old.apps[app]
            apps.set_app_version(app, new.version, self.root / new.path, new.env)
            self._log(
                f"version of {app} back to {old.version}",
                lambda: apps.set_app_version(app, old.version, self.root / old.path, old.env),
            )

    def _start_app(self, instruction: Instruction, app: str) -> None:
        if app not in self.new.apps:
            self._fail(instruction, f"{app} is not in release {self.new.version}'s manifest")
        code_dir = self.root / self.new.apps[app].path
        if str(code_dir) not in sys.path:  # an app new to the node: its code becomes importable
            self._log(f"{code_dir} off sys.path", code_server.switch_path(None, code_dir).undo)
        apps = self.node.applications
        apps.start_app(self.new.apps[app].spec)
        self._log(f"stop {app}", lambda: apps.stop_app(app))

    def _stop_app(self, app: str) -> None:
        apps = self.node.applications
        apps.stop_app(app)
        if app in self.old.apps:
            spec = self.old.apps[app].spec
            self._log(f"start {app} again", lambda: apps.start_app(spec))
            code_dir = self.root / spec.path
            if app not in self.new.apps and str(code_dir) in sys.path:
                undo = code_server.switch_path(code_dir, None).undo
                self._log(f"{code_dir} back on sys.path", undo)


def _restorer(held: list[_Held], gate: Gate) -> Callable[[], None]:
    """The undo step that puts each held process's old state back, once no code_change
    result can be set any more."""

    def undo() -> None:
        gate.close()
        _each(held, lambda h: system.restore(h.proc, h.snapshot))

    return undo


def _each(items: list[_T], undo: Callable[[_T], object]) -> None:
    """An undo step over many, newest first (as one step per item would be undone): every
    item is tried; the failures are raised together."""
    problems: list[str] = []
    for item in reversed(items):
        try:
            undo(item)
        except Exception as exc:
            label = item.proc.pid if isinstance(item, _Held) else item
            problems.append(f"{label}: {type(exc).__name__}: {exc}")
    if problems:
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        raise RuntimeError(problems[0] + more)


def _count(items: list[Any]) -> str:
    """ "process <pid>" for one, "N processes" for more."""
    return f"process {items[0]}" if len(items) == 1 else f"{len(items)} processes"


def _undoing(journal: Journal) -> Callable[[], None]:
    """An undo step for a swap: what it could not put back is raised together."""

    def undo() -> None:
        problems = journal.undo()
        if problems:
            more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
            raise RuntimeError(problems[0] + more)

    return undo


def _cause(exc: BaseException) -> str:
    """The most telling message of an exception chain, on one line."""
    inner = exc.__cause__ if exc.__cause__ is not None else exc
    text = f"{inner}" if inner is exc else f"{exc} ({type(inner).__name__}: {inner})"
    return " ".join(text.split()) or type(inner).__name__


def _display(root: Path, path: Path) -> str:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return str(path)
