"""Supervisors: start children in order, restart them by strategy, give up past intensity.

Callback module::

    def init(args) -> SupSpec(strategy, intensity, period, children=[ChildSpec, ...])

Strategies: ``one_for_one`` (restart the child that exited), ``one_for_all`` (stop the
others, start all again), ``rest_for_one`` (stop and restart the children started after
it), ``simple_one_for_one`` (one template; children added with ``start_child``).
Restart types: ``permanent`` (always), ``transient`` (unless it exited normally or with
shutdown), ``temporary`` (never). More than ``intensity`` restarts within ``period``
seconds: the supervisor stops its children and exits with a RestartIntensity reason,
which its own supervisor (or the application controller) sees as a child exit.
Children are shut down in reverse start order, each within its ``shutdown`` seconds
(then killed). On a code change the module's optional ``code_change(old_vsn, args,
extra) -> args`` runs; at resume ``init(args)`` of the then current module gives the new
strategy, intensity and specs (running children keep running with their new spec), and
``upgrade_children`` (the release handler calls it) asks the supervisor, in its own
messages, to start the children the new specs add and stop those they drop
(docs/release-handling.md, "Supervisor upgrades").
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from types import ModuleType
from typing import Any, Literal

from ..errors import CallTimeout, NoProcess, RestartIntensity, StartError, SupervisorError
from ..kernel import messaging
from ..kernel.context import current_node
from ..kernel.pid import Pid
from ..kernel.process import CALL, INFO, Exit, Process, is_normal, kill, spawn
from ..loading.code_server import current

log = logging.getLogger("primes_runtime.supervisor")

Strategy = Literal["one_for_one", "one_for_all", "rest_for_one", "simple_one_for_one"]
Restart = Literal["permanent", "transient", "temporary"]
STRATEGIES = ("one_for_one", "one_for_all", "rest_for_one", "simple_one_for_one")
RESTARTS = ("permanent", "transient", "temporary")


@dataclass(frozen=True)
class ChildSpec:
    """How to start one child: ``start`` is (module, function, args) returning its pid."""

    id: str
    start: tuple[str, str, tuple[object, ...]]
    restart: Restart = "permanent"
    shutdown: float = 5.0
    kind: Literal["worker", "supervisor"] = "worker"


@dataclass(frozen=True)
class SupSpec:
    """What a supervisor callback module's init returns."""

    strategy: Strategy = "one_for_one"
    intensity: int = 3
    period: float = 5.0
    children: Sequence[ChildSpec] = field(default_factory=list)


@dataclass(frozen=True)
class ChildInfo:
    """One child as ``which_children`` reports it (pid None: not running)."""

    id: str
    pid: Pid | None
    kind: str
    restart: str


@dataclass(frozen=True)
class _ChildExit:
    pid: Pid
    reason: object


class _Child:
    __slots__ = ("pid", "spec")

    def __init__(self, spec: ChildSpec) -> None:
        self.spec = spec
        self.pid: Pid | None = None


def _check(spec: object, module: str) -> SupSpec:
    if not isinstance(spec, SupSpec):
        raise SupervisorError(f"{module}.init must return a SupSpec, not {spec!r}")
    if spec.strategy not in STRATEGIES:
        raise SupervisorError(
            f"{module}: unknown strategy {spec.strategy!r}; use one of {STRATEGIES}"
        )
    ids = [c.id for c in spec.children]
    if len(set(ids)) != len(ids):
        raise SupervisorError(f"{module}: child ids must be unique, got {ids}")
    for child in spec.children:
        if child.restart not in RESTARTS:
            raise SupervisorError(
                f"{module}: child {child.id!r} has unknown restart {child.restart!r}"
            )
    if spec.strategy == "simple_one_for_one" and len(spec.children) != 1:
        raise SupervisorError(f"{module}: simple_one_for_one needs exactly one child spec")
    return spec


class SupervisorProcess(Process):
    """A process running the supervisor behaviour."""

    behaviour = "supervisor"
    __slots__ = ("args", "children", "replaced", "reread", "restarts", "spec")

    def __init__(self, module: str) -> None:
        super().__init__(module)
        self.args: object = None
        self.spec = SupSpec()
        self.children: list[_Child] = []
        self.restarts: deque[float] = deque()
        self.reread = False  # code changed: read the specs from init at resume
        self.replaced: SupSpec | None = None  # specs whose children still run (upgrade_children)

    @property
    def simple(self) -> bool:
        return self.spec.strategy == "simple_one_for_one"

    # --- starting and stopping children --------------------------------------------

    def _start(self, child: _Child) -> None:
        module, function, args = child.spec.start
        try:
            pid = getattr(current(module), function)(*args)
        except Exception as exc:
            raise StartError(
                f"supervisor {self.pid} ({self.module}): child {child.spec.id!r} failed to start: "
                f"{exc}"
            ) from exc
        if not isinstance(pid, Pid):
            raise StartError(
                f"supervisor {self.pid} ({self.module}): child {child.spec.id!r} start "
                f"{module}.{function} returned {pid!r}, not a Pid"
            )
        child.pid = pid
        me = self

        def on_exit(dead: Pid, reason: object) -> None:
            me.deliver((INFO, _ChildExit(dead, reason)))

        proc = self.node.processes.lookup(pid)
        if proc is None or not proc.watch(self, on_exit):
            on_exit(pid, proc.reason if proc is not None else "noproc")

    def _stop(self, child: _Child) -> None:
        pid, child.pid = child.pid, None
        if pid is None:
            return
        table = self.node.processes
        proc = table.lookup(pid)
        if proc is None:
            return
        proc.unwatch(self)
        try:
            messaging.stop_in(table, pid, "shutdown", child.spec.shutdown)
        except NoProcess:
            pass
        except CallTimeout:
            log.error(
                "supervisor %s: child %r (%s) did not stop within %g s; killed",
                self.pid,
                child.spec.id,
                pid,
                child.spec.shutdown,
            )
            kill(proc, "killed")

    def _stop_all(self, children: Sequence[_Child]) -> None:
        for child in reversed(children):
            self._stop(child)

    # --- behaviour -----------------------------------------------------------------

    def init(self, args: object) -> None:
        self.args = args
        self.spec = _check(current(self.module).init(args), self.module)
        if self.simple:
            return
        for spec in self.spec.children:
            child = _Child(spec)
            try:
                self._start(child)
            except StartError:
                self._stop_all(self.children)
                raise
            self.children.append(child)

    def dispatch(self, msg: tuple[Any, ...]) -> None:
        tag = msg[0]
        if tag == INFO and isinstance(msg[1], _ChildExit):
            self._child_exit(msg[1].pid, msg[1].reason)
        elif tag == CALL:
            caller = msg[2]
            try:
                value: object = self._request(msg[1])
            except (StartError, SupervisorError) as exc:
                value = _Failed(exc)
            caller.set_reply(value)
        else:
            log.warning("supervisor %s (%s): unexpected message %r", self.pid, self.module, msg[1])

    def _request(self, request: tuple[Any, ...]) -> object:
        match request:
            case ("start_child", args):
                return self._start_child(args)
            case ("terminate_child", which):
                self._terminate_child(which)
                return None
            case ("which_children",):
                return [
                    ChildInfo(c.spec.id, c.pid, c.spec.kind, c.spec.restart) for c in self.children
                ]
            case ("upgrade_pending",):
                return self._upgrade_pending()
            case ("upgrade_children", target):
                return self._upgrade_children(target)
        raise SupervisorError(f"supervisor {self.pid}: unknown request {request!r}")

    def _start_child(self, args: object) -> Pid:
        if self.simple:
            template = self.spec.children[0]
            module, function, base = template.start
            extra = tuple(args) if isinstance(args, (tuple, list)) else (args,)
            child = _Child(replace(template, start=(module, function, (*base, *extra))))
        elif isinstance(args, ChildSpec):
            if any(c.spec.id == args.id for c in self.children):
                raise SupervisorError(f"supervisor {self.pid}: child id {args.id!r} exists")
            child = _Child(args)
        else:
            raise SupervisorError(
                f"supervisor {self.pid} ({self.spec.strategy}): start_child takes a ChildSpec"
            )
        self._start(child)
        self.children.append(child)
        assert child.pid is not None
        return child.pid

    def _terminate_child(self, which: object) -> None:
        for child in self.children:
            if child.spec.id == which or child.pid == which:
                self._stop(child)
                if self.simple or child.spec.restart == "temporary":
                    self.children.remove(child)
                return
        raise SupervisorError(f"supervisor {self.pid}: no child {which!r}")

    def _child_exit(self, pid: Pid, reason: object) -> None:
        child = next((c for c in self.children if c.pid == pid), None)
        if child is None:
            return  # a child we stopped ourselves, or one already replaced
        child.pid = None
        restart = child.spec.restart
        if restart == "temporary" or (restart == "transient" and is_normal(reason)):
            if self.simple or restart == "temporary":
                self.children.remove(child)
            return
        self._restart(child, reason)

    def _restart(self, child: _Child, reason: object) -> None:
        while True:
            now = time.monotonic()
            self.restarts.append(now)
            while self.restarts and self.restarts[0] < now - self.spec.period:
                self.restarts.popleft()
            if len(self.restarts) > self.spec.intensity:
                why = (
                    f"supervisor {self.pid} ({self.module}) gave up: more than "
                    f"{self.spec.intensity} restarts within {self.spec.period:g} s "
                    f"(last: child {child.spec.id!r} exited with {reason!r})"
                )
                log.error("%s", why)
                self._stop_all(self.children)
                raise Exit(RestartIntensity(why))
            log.warning(
                "supervisor %s: restarting child %r after exit %r", self.pid, child.spec.id, reason
            )
            try:
                self._restart_by_strategy(child)
                return
            except StartError as exc:
                log.error("%s", exc)
                reason = exc

    def _restart_by_strategy(self, child: _Child) -> None:
        strategy = self.spec.strategy
        if strategy in ("one_for_one", "simple_one_for_one"):
            self._start(child)
            return
        index = self.children.index(child)
        affected = self.children if strategy == "one_for_all" else self.children[index:]
        self._stop_all([c for c in affected if c is not child])
        for other in affected:
            if other.pid is None:
                self._start(other)

    def terminate(self, reason: object) -> None:
        self._stop_all(self.children)

    # --- code change (the release handler; docs/release-handling.md) -----------------

    def code_change(self, module: ModuleType, old_vsn: object, extra: object) -> None:
        fn = getattr(module, "code_change", None)
        if fn is not None:
            self.args = fn(old_vsn, self.args, extra)
        self.reread = True  # at resume: a downgrade loads the old module after code_change

    def on_resume(self) -> None:
        if self.reread:
            self._take_specs(_check(current(self.module).init(self.args), self.module))
            self.reread = False

    def _take_specs(self, spec: SupSpec) -> None:
        """New strategy, intensity and specs; running children get their new spec (by id)."""
        if (spec.strategy == "simple_one_for_one") != self.simple:
            raise SupervisorError(
                f"{self.module}: a code change cannot switch between simple_one_for_one and "
                f"{spec.strategy if self.simple else self.spec.strategy}; restart the app instead"
            )
        if self.replaced is None:
            self.replaced = self.spec
        if self.simple:
            template = spec.children[0]
            for child in self.children:  # keep each child's own start args
                child.spec = replace(
                    child.spec,
                    restart=template.restart,
                    shutdown=template.shutdown,
                    kind=template.kind,
                )
        else:
            by_id = {c.id: c for c in spec.children}
            for child in self.children:
                child.spec = by_id.get(child.spec.id, child.spec)
        self.spec = spec

    def _upgrade_pending(self) -> float | None:
        """None if no code change left children to start or stop, else the seconds the
        upgrade may take to stop the children (the sum of their shutdowns)."""
        if self.replaced is None:
            return None
        return sum(c.spec.shutdown for c in self.children)

    def _upgrade_children(self, target: SupSpec | None) -> SupSpec | None:
        """Start the children ``self.spec`` adds to ``self.replaced`` (spec order), then stop
        those it drops (reverse order). ``target``: take those specs first (an undo).
        Returns the specs replaced (to undo with), None if there was nothing to do. If a
        child fails to start, the ones started are stopped and the old specs come back."""
        if target is not None:
            self._take_specs(target)
        old, self.replaced = self.replaced, None
        if old is None or self.simple:
            return old
        new_ids = {c.id for c in self.spec.children}
        gone_ids = {c.id for c in old.children} - new_ids
        present = {c.spec.id for c in self.children}
        started: list[_Child] = []
        for spec in self.spec.children:
            if spec.id in present:
                continue
            child = _Child(spec)
            try:
                self._start(child)
            except StartError:
                self._stop_all(started)
                self._take_specs(old)
                self.replaced = None
                raise
            started.append(child)
        gone = [c for c in self.children if c.spec.id in gone_ids]
        self._stop_all(gone)
        by_id = {c.spec.id: c for c in [*self.children, *started] if c not in gone}
        dynamic = [c for c in self.children if c.spec.id not in new_ids and c not in gone]
        self.children = [by_id[s.id] for s in self.spec.children if s.id in by_id] + dynamic
        return old

    def snapshot_state(self) -> object:
        specs = tuple((c, c.spec) for c in self.children)
        return (self.args, self.spec, specs, self.reread, self.replaced)

    def restore_state(self, state: object) -> None:
        assert isinstance(state, tuple)
        self.args, self.spec, specs, self.reread, self.replaced = state
        for child, spec in specs:
            child.spec = spec


@dataclass(frozen=True)
class _Failed:
    error: Exception


def _ask(sup: Pid | str, request: tuple[Any, ...], timeout: float) -> object:
    result = messaging.call(sup, request, timeout)
    if isinstance(result, _Failed):
        raise result.error
    return result


def start(module: str, args: object = None, *, name: str | None = None) -> Pid:
    """Start a supervisor running ``module``; its children start in order, synchronously.

    Raises StartError naming the child if one fails to start.
    """
    return spawn(SupervisorProcess(module), args, name)


def start_child(sup: Pid | str, args: object = (), timeout: float = 30.0) -> Pid:
    """simple_one_for_one: start a child with the template's args + ``args``; other
    strategies: ``args`` is a ChildSpec to add and start."""
    pid = _ask(sup, ("start_child", args), timeout)
    assert isinstance(pid, Pid)
    return pid


def terminate_child(sup: Pid | str, child: str | Pid, timeout: float = 30.0) -> None:
    """Stop a child by id or pid (a simple_one_for_one or temporary child is forgotten)."""
    _ask(sup, ("terminate_child", child), timeout)


def upgrade_children(sup: Pid, timeout: float = 60.0) -> Callable[[], None] | None:
    """After a code change of supervisor ``sup`` (once it is resumed): start the children its
    new specs add, in spec order, synchronously, then stop the ones they drop, in reverse
    order, each within its shutdown. Returns a function that puts the old specs and
    children back (the release handler's undo; nothing if ``sup`` is gone by then), or
    None if ``sup`` is not a supervisor whose specs changed. Raises StartError naming the
    child if one fails to start (the children started are then stopped and the old specs
    are back)."""
    if not isinstance(current_node().processes.lookup(sup), SupervisorProcess):
        return None
    stopping = _ask(sup, ("upgrade_pending",), timeout)
    if stopping is None:
        return None
    assert isinstance(stopping, float | int)
    wait = timeout + stopping
    old = _ask(sup, ("upgrade_children", None), wait)
    if not isinstance(old, SupSpec):
        return None

    def undo() -> None:
        with contextlib.suppress(NoProcess):  # gone: a restart reads the specs current then
            _ask(sup, ("upgrade_children", old), wait)

    return undo


def which_children(sup: Pid | str, timeout: float = 5.0) -> list[ChildInfo]:
    """The supervisor's children in start order."""
    result = _ask(sup, ("which_children",), timeout)
    assert isinstance(result, list)
    return result
