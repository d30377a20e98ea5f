"""Run a parsed .relup against the running node: one `match` arm per instruction, an undo log."""

from __future__ import annotations

import contextlib
import gc
import logging
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

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
from primes_runtime.kernel.process import Process
from primes_runtime.kernel.registry import ProcessTable
from primes_runtime.kernel.system import ProcessSnapshot
from primes_runtime.loading import code_server, collector

from .changing import (
    ABANDONED,
    WORKER,
    Gate,
    Worker,
    change_each,
    guarded,
)
from .holding import Held, Holding, count, restorer
from .pauses import Pauses
from .preparing import NotPrepared, Preparation
from .reports import FailedStep
from .swapping import OldCodeRuns, Swaps
from .target import Release


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


@dataclass
class Evaluator:
    """Applies one script, from release `old` to release `new`, in `node`."""

    node: Kernel
    script: Relup
    old: Release
    new: Release
    undo_log: list[tuple[str, Callable[[], None]]] = field(default_factory=list)
    fallback: dict[Pid, ProcessSnapshot] = field(default_factory=dict)
    """Processes whose failing code_change puts this snapshot back instead of failing."""
    done: dict[Pid, str] = field(default_factory=dict)
    """See `changed` (a fallback's "snapshot" goes here at once, the rest once asked)."""
    unlabelled: list[tuple[list[tuple[Pid, Held]], dict[str, str]]] = field(default_factory=list)
    """Each code_change instruction's targets and the label of each module, not yet in
    `done`: labelling 10,000 processes is left out of the pause."""
    worker: Worker | None = None
    """The thread code_change calls run on, started before the first suspend."""
    preparation: Preparation = field(init=False)
    """The new code this script brings, prepared before the point of no return."""
    holding: Holding = field(init=False)
    """The processes this script suspended, with their old states and pauses."""
    swaps: Swaps = field(init=False)
    """The distributions this script swapped in."""

    def __post_init__(self) -> None:
        self.preparation = Preparation(self.root, self.old, self.script)
        processes = self.node.processes
        self.holding = Holding(processes, self.undo_log)
        self.swaps = Swaps(self.root, processes, self.preparation, self.undo_log)

    @property
    def held(self) -> dict[Pid, Held]:
        """The processes this install suspended, with their old states."""
        return self.holding.held

    @property
    def pauses(self) -> Pauses:
        """How long each process this install suspended stopped, in the order they resumed."""
        return self.holding.pauses

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
        takes tens of milliseconds, and each one during the script lengthens every pause (in
        a node, what the script made is frozen after: collector.enable_after_script).
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
            # a script without its resume never leaves one frozen
            self.holding.resume_all(forgotten)
        finally:
            if collecting:
                collector.enable_after_script()
            if self.worker is not None:
                self.worker.close()

    def forget(self) -> None:
        """Drop the undo log once the install stands: what it kept (old code, old states)
        is no longer held, though a process's probation guard may keep this object."""
        self.undo_log.clear()
        self.swaps.forget()
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

    def verify(self, wait: float = 2.0) -> None:
        """Fail (StepFailed) if anything still runs the old code of a swapped distribution
        (Swaps.verify: coroutines finish on old code, threads get ``wait`` seconds)."""
        try:
            self.swaps.verify(wait)
        except OldCodeRuns as exc:
            step = FailedStep(_display(self.root, self.script.path), 0, "check-code", str(exc))
            raise StepFailed(step) from None

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
                    self.preparation.load_object_code(instruction, self.swaps.owners)
                except NotPrepared as exc:
                    self._fail(instruction, str(exc))
            case PointOfNoReturn():
                pass
            case Suspend(modules=modules, timeout=timeout):
                self.holding.suspend_all(modules, timeout)
            case SwitchAppPath():
                self._switch_app_path(instruction)
            case Load(module=module):
                owner = self.preparation.owner
                if module not in owner:
                    self._fail(instruction, f"{module} was not prepared by load_object_code")
                self.swaps.swap(owner[module])
            case CodeChange(modules=modules, old_vsn=old_vsn, extra=extra, timeout=timeout):
                targets = self.holding.waiting(modules)
                self._code_change(instruction, modules, targets, old_vsn, extra, timeout)
            case Resume(modules=modules):
                pairs = self.holding.waiting(modules)
                self.holding.resume_all(pairs, modules)
                self.holding.upgrade_children(pairs)
            case Remove(module=module):
                if module in sys.modules and not self.swaps.swapped_in(module):
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

    def _code_change(
        self,
        instruction: Instruction,
        modules: tuple[str, ...],
        targets: list[tuple[Pid, Held]],
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
            self._log(f"restore the state of {count(targets)}", restorer(targets, gate))
        if len(modules) == 1:  # its targets are all of it: no look at each
            present = set(modules) if targets else set()
        else:
            present = {held.module for _, held in targets}
        shims = {module: guarded(code_server.current(module), gate) for module in present}
        if self.worker is None or self.worker.abandoned:
            self.worker = Worker()
        worker = self.worker
        take = self.holding.snapshots_by_code_change(present)
        errors, late = change_each(
            worker, targets, shims, gate, old_vsn, extra, timeout, self.fallback, take
        )
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
        if take:  # every target was reached: each has its snapshot
            self.holding.snapshots_taken(present)
        labels = {
            name: "code_change"
            if getattr(shim, "code_change", None) is not None
            else "no code_change"
            for name, shim in shims.items()
        }
        self.unlabelled.append((targets, labels))

    @property
    def changed(self) -> dict[Pid, str]:
        """What code_change did to each process: "code_change", "no code_change", or
        "snapshot" (a fallback's failed code_change, its snapshot put back)."""
        done = self.done
        for targets, labels in self.unlabelled:
            for pid, held in targets:
                if pid not in done:  # the first instruction's label; a fallback's wins
                    done[pid] = labels[held.module]
        self.unlabelled.clear()
        return done

    def _fall_back(self, pid: Pid, proc: Process, error: BaseException) -> None:
        """A fallback process whose code_change failed: put its snapshot back, go on."""
        log.error(
            "code_change of %s failed (%r); its snapshot is put back", pid, error.__cause__ or error
        )
        system.restore(proc, self.fallback[pid])
        self.done[pid] = "snapshot"

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
        self.swaps.swap(app)
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
