"""Supervisor code changes: new specs from init at resume, added children start, dropped stop."""

from __future__ import annotations

import itertools
import sys
import threading
from collections.abc import Callable, Iterator
from types import ModuleType

import pytest
from primes_runtime import StartError, call, cast, stop
from primes_runtime.behaviours.supervisor import (
    ChildSpec,
    SupervisorProcess,
    SupSpec,
    start,
    start_child,
    upgrade_children,
    which_children,
)
from primes_runtime.errors import SupervisorError
from primes_runtime.kernel import system
from primes_runtime.kernel.pid import Pid
from primes_runtime.kernel.system import ProcessSnapshot
from rt_fixtures import tagged
from rt_fixtures.kernel import node_thread, table
from rt_fixtures.waiting import wait_until

pytestmark = pytest.mark.usefixtures("node")

_ids = itertools.count(1)


def child(tag: str, *extra: object, **kw: object) -> ChildSpec:
    return ChildSpec(tag, ("rt_fixtures.tagged", "start", (tag, *extra)), **kw)  # type: ignore[arg-type]


def broken(tag: str) -> ChildSpec:
    return ChildSpec(tag, ("rt_fixtures.tagged", "start_failing", (tag,)))


def sup_module(
    name: str, spec: SupSpec, code_change: Callable[..., object] | None = None
) -> ModuleType:
    """A supervisor callback module whose init returns ``spec`` (whatever its args)."""
    module = ModuleType(name)

    def init(args: object) -> SupSpec:
        return spec

    module.init = init  # type: ignore[attr-defined]
    if code_change is not None:
        module.code_change = code_change  # type: ignore[attr-defined]
    return module


@pytest.fixture
def name() -> Iterator[str]:
    """A supervisor module name of its own; the test installs its versions in sys.modules."""
    tagged.events.clear()
    mod = f"sup_upgrade_{next(_ids)}"
    yield mod
    sys.modules.pop(mod, None)


def boot(name: str, spec: SupSpec) -> Pid:
    sys.modules[name] = sup_module(name, spec)
    return start(name)


def change_code(sup: Pid, new: ModuleType, old_vsn: object = "1") -> ProcessSnapshot:
    """What the release handler does up to resume: suspend, snapshot, load, code_change."""
    system.suspend(sup, 5.0)
    snap = system.snapshot(sup)
    sys.modules[new.__name__] = new
    system.change_code(sup, new, old_vsn, None)
    return snap


def upgrade(sup: Pid, new: ModuleType) -> Callable[[], None] | None:
    change_code(sup, new)
    system.resume(sup)
    return upgrade_children(sup)


def children(sup: Pid) -> dict[str, Pid | None]:
    return {c.id: c.pid for c in which_children(sup)}


def sup_proc(sup: Pid) -> SupervisorProcess:
    proc = table().lookup(sup)
    assert isinstance(proc, SupervisorProcess)
    return proc


def test_children_the_new_specs_add_start_in_spec_order_after_resume(name: str) -> None:
    sup = boot(name, SupSpec(children=[child("a"), child("c")]))
    before = children(sup)
    tagged.events.clear()
    upgrade(
        sup, sup_module(name, SupSpec(children=[child("a"), child("b"), child("c"), child("d")]))
    )
    assert tagged.events == [("start", "b"), ("start", "d")]
    now = children(sup)
    assert list(now) == ["a", "b", "c", "d"]
    assert (now["a"], now["c"]) == (before["a"], before["c"])  # kept children keep running
    assert all(table().lookup(p) is not None for p in now.values() if p is not None)


def test_children_the_new_specs_drop_are_shut_down_in_reverse_order(name: str) -> None:
    sup = boot(name, SupSpec(children=[child("a"), child("b"), child("c"), child("d")]))
    before = children(sup)
    tagged.events.clear()
    upgrade(sup, sup_module(name, SupSpec(children=[child("a"), child("c")])))
    assert tagged.events == [("stop", "d"), ("stop", "b")]
    assert children(sup) == {"a": before["a"], "c": before["c"]}
    assert table().lookup(before["b"]) is None and table().lookup(before["d"]) is None  # type: ignore[arg-type]


def test_a_dropped_child_that_does_not_stop_is_killed_after_its_shutdown(name: str) -> None:
    sup = boot(name, SupSpec(children=[child("a"), child("slow", shutdown=0.3)]))
    slow = children(sup)["slow"]
    assert slow is not None
    hold = threading.Event()
    busy = node_thread(target=lambda: call(slow, ("wait", hold), timeout=10.0))
    busy.start()
    wait_until(lambda: table().resolve(slow).running, what="slow busy")
    try:
        upgrade(sup, sup_module(name, SupSpec(children=[child("a")])))
        assert list(children(sup)) == ["a"]
        assert table().lookup(slow) is None
    finally:
        hold.set()
        busy.join(10)


def test_a_kept_child_takes_its_new_spec_for_future_restarts(name: str) -> None:
    sup = boot(name, SupSpec(children=[child("a"), child("b")]))
    upgrade(sup, sup_module(name, SupSpec(intensity=9, children=[child("a", "v2"), child("b")])))
    assert sup_proc(sup).spec.intensity == 9
    first = children(sup)["a"]
    assert first is not None
    assert call(first, "tag") == ("a",)  # still the process started from the old spec
    cast(first, "crash")
    wait_until(lambda: children(sup)["a"] not in (None, first), what="a restarted")
    again = children(sup)["a"]
    assert again is not None and call(again, "tag") == ("a", "v2")


def test_code_change_turns_the_args_the_new_init_gets(name: str) -> None:
    module = ModuleType(name)
    module.init = lambda args: SupSpec(children=[child(tag) for tag in args])  # type: ignore[attr-defined]
    sys.modules[name] = module
    sup = start(name, ["a"])
    new = ModuleType(name)
    new.init = module.init  # type: ignore[attr-defined]
    new.code_change = lambda old_vsn, args, extra: [*args, f"from{old_vsn}"]  # type: ignore[attr-defined]
    upgrade(sup, new)
    assert list(children(sup)) == ["a", "from1"]
    assert sup_proc(sup).args == ["a", "from1"]


def test_the_specs_come_from_the_module_current_at_resume(name: str) -> None:
    # A downgrade runs the newer module's code_change, then loads the older module.
    sup = boot(name, SupSpec(children=[child("a"), child("b")]))
    newer = sup_module(name, SupSpec(children=[child("a"), child("b")]), lambda v, a, e: a)
    sys.modules[name] = newer
    change_code(sup, newer, ("down", "1"))
    sys.modules[name] = sup_module(name, SupSpec(children=[child("a")]))  # the load
    system.resume(sup)
    upgrade_children(sup)
    assert list(children(sup)) == ["a"]


def test_a_child_failing_to_start_stops_those_started_and_keeps_the_old_specs(
    name: str,
) -> None:
    old = SupSpec(children=[child("a"), child("z")])
    sup = boot(name, old)
    before = children(sup)
    tagged.events.clear()
    new = SupSpec(children=[child("a"), child("b"), broken("bad"), child("c")])
    with pytest.raises(StartError, match="child 'bad' failed to start"):
        upgrade(sup, sup_module(name, new))
    assert tagged.events == [("start", "b"), ("stop", "b")]  # z was never stopped
    assert children(sup) == before
    assert sup_proc(sup).spec == old
    assert upgrade_children(sup) is None  # nothing left half done


def test_the_undo_puts_the_old_specs_and_children_back(name: str) -> None:
    old = SupSpec(children=[child("a"), child("b", shutdown=2.0)])
    sup = boot(name, old)
    before = children(sup)
    undo = upgrade(sup, sup_module(name, SupSpec(children=[child("a"), child("c")])))
    assert undo is not None
    tagged.events.clear()
    undo()
    assert tagged.events == [("start", "b"), ("stop", "c")]
    now = children(sup)
    assert list(now) == ["a", "b"] and now["a"] == before["a"]
    assert sup_proc(sup).spec == old


def test_a_restore_before_upgrade_children_leaves_nothing_to_do(name: str) -> None:
    old = SupSpec(children=[child("a")])
    sup = boot(name, old)
    snap = change_code(sup, sup_module(name, SupSpec(intensity=8, children=[child("b")])))
    system.resume(sup)
    assert sup_proc(sup).spec.intensity == 8
    system.suspend(sup, 5.0)  # a later step failed: the release handler rolls back
    system.restore(sup, snap)
    system.resume(sup)
    assert sup_proc(sup).spec == old
    assert upgrade_children(sup) is None
    assert list(children(sup)) == ["a"]


def test_a_child_added_with_start_child_survives_an_upgrade(name: str) -> None:
    sup = boot(name, SupSpec(children=[child("a"), child("b")]))
    extra = start_child(sup, child("dyn"))
    upgrade(sup, sup_module(name, SupSpec(children=[child("c")])))
    assert children(sup) == {"c": children(sup)["c"], "dyn": extra}


def test_simple_one_for_one_children_keep_their_args_and_take_the_new_template(
    name: str,
) -> None:
    sup = boot(name, SupSpec("simple_one_for_one", children=[child("t")]))
    one = start_child(sup, ("x",))
    template = child("t", restart="transient", shutdown=1.0)
    upgrade(sup, sup_module(name, SupSpec("simple_one_for_one", children=[template])))
    [info] = which_children(sup)
    assert (info.pid, info.restart) == (one, "transient")
    cast(one, "crash")
    wait_until(lambda: which_children(sup)[0].pid not in (None, one), what="restart")
    assert call(which_children(sup)[0].pid, "tag") == ("t", "x")  # type: ignore[arg-type]


def test_a_code_change_to_simple_one_for_one_is_refused_at_resume(name: str) -> None:
    old = SupSpec(children=[child("a")])
    sup = boot(name, old)
    snap = change_code(sup, sup_module(name, SupSpec("simple_one_for_one", children=[child("t")])))
    with pytest.raises(SupervisorError, match="cannot switch between simple_one_for_one"):
        system.resume(sup)
    assert sup_proc(sup).status == "suspended"
    system.restore(sup, snap)
    system.resume(sup)
    assert sup_proc(sup).spec == old and list(children(sup)) == ["a"]


def test_upgrade_children_of_other_processes_does_nothing(name: str) -> None:
    sup = boot(name, SupSpec(children=[child("a")]))
    worker = children(sup)["a"]
    assert worker is not None
    assert upgrade_children(worker) is None
    assert upgrade_children(sup) is None  # a supervisor whose code did not change


def test_the_undo_of_a_supervisor_that_is_gone_does_nothing(name: str) -> None:
    sup = boot(name, SupSpec(children=[child("a")]))
    undo = upgrade(sup, sup_module(name, SupSpec(children=[child("a"), child("b")])))
    assert undo is not None
    stop(sup, "shutdown")
    tagged.events.clear()
    undo()
    assert tagged.events == []
