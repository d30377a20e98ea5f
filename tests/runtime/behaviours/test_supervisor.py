"""Supervisors: ordered synchronous start, restart strategies and types, intensity, shutdown."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from primes_runtime import StartError, call, cast, stop
from primes_runtime.behaviours.supervisor import (
    ChildSpec,
    SupSpec,
    start,
    start_child,
    terminate_child,
    which_children,
)
from primes_runtime.errors import RestartIntensity, SupervisorError
from primes_runtime.kernel import system
from primes_runtime.kernel.pid import Pid
from rt_fixtures import tagged
from rt_fixtures.kernel import node_thread, table
from rt_fixtures.waiting import wait_until

pytestmark = pytest.mark.usefixtures("node")

SUP = "rt_fixtures.sup"


def child(tag: str, **kw: object) -> ChildSpec:
    return ChildSpec(tag, ("rt_fixtures.tagged", "start", (tag,)), **kw)  # type: ignore[arg-type]


def pids(sup: Pid) -> dict[str, Pid | None]:
    return {c.id: c.pid for c in which_children(sup)}


@pytest.fixture(autouse=True)
def _clear_events() -> Iterator[None]:
    tagged.events.clear()
    yield


def _restarted(sup: Pid, before: dict[str, Pid | None], ids: set[str]) -> bool:
    now = pids(sup)
    return all(now[i] is not None and now[i] != before[i] for i in ids)


def test_children_start_in_order_before_start_returns() -> None:
    sup = start(SUP, SupSpec(children=[child("a"), child("b"), child("c")]))
    assert tagged.events == [("start", "a"), ("start", "b"), ("start", "c")]
    assert all(table().lookup(p) is not None for p in pids(sup).values() if p)


def test_a_failing_child_start_is_a_start_error_naming_the_child() -> None:
    bad = ChildSpec("broken", ("rt_fixtures.tagged", "start_failing", ("broken",)))
    spec = SupSpec(children=[child("a"), bad, child("c")])
    with pytest.raises(StartError, match="child 'broken' failed to start"):
        start(SUP, spec, name="sup_test_failing")
    assert tagged.events == [("start", "a"), ("stop", "a")]  # the started one is stopped
    assert table().whereis("sup_test_failing") is None


def test_child_crash_restarts_only_that_child_under_one_for_one() -> None:
    sup = start(SUP, SupSpec("one_for_one", children=[child("a"), child("b"), child("c")]))
    before = pids(sup)
    cast(before["b"], "crash")  # type: ignore[arg-type]
    wait_until(lambda: _restarted(sup, before, {"b"}), what="b restarted")
    after = pids(sup)
    assert after["a"] == before["a"] and after["c"] == before["c"]


def test_one_for_all_restarts_every_child() -> None:
    sup = start(SUP, SupSpec("one_for_all", children=[child("a"), child("b"), child("c")]))
    before = pids(sup)
    cast(before["b"], "crash")  # type: ignore[arg-type]
    wait_until(lambda: _restarted(sup, before, {"a", "b", "c"}), what="all restarted")
    # the others were stopped in reverse order, then all started in order
    assert tagged.events[3:] == [
        ("stop", "b"),
        ("stop", "c"),
        ("stop", "a"),
        ("start", "a"),
        ("start", "b"),
        ("start", "c"),
    ]


def test_rest_for_one_restarts_the_child_and_those_after_it() -> None:
    sup = start(SUP, SupSpec("rest_for_one", children=[child("a"), child("b"), child("c")]))
    before = pids(sup)
    cast(before["b"], "crash")  # type: ignore[arg-type]
    wait_until(lambda: _restarted(sup, before, {"b", "c"}), what="b and c restarted")
    assert pids(sup)["a"] == before["a"]


def test_transient_child_is_restarted_after_a_crash_but_not_after_a_normal_exit() -> None:
    sup = start(SUP, SupSpec(children=[child("t", restart="transient")]))
    first = pids(sup)
    cast(first["t"], "crash")  # type: ignore[arg-type]
    wait_until(lambda: _restarted(sup, first, {"t"}), what="t restarted")
    second = pids(sup)["t"]
    assert call(second, "exit_normally") == "ok"  # type: ignore[arg-type]
    wait_until(lambda: pids(sup)["t"] is None, what="t not restarted")


def test_temporary_child_is_never_restarted_and_is_forgotten() -> None:
    sup = start(SUP, SupSpec(children=[child("tmp", restart="temporary"), child("p")]))
    cast(pids(sup)["tmp"], "crash")  # type: ignore[arg-type]
    wait_until(lambda: "tmp" not in pids(sup), what="tmp forgotten")


def test_restart_storm_stops_the_supervisor_with_restart_intensity() -> None:
    sup = start(SUP, SupSpec(intensity=2, period=10.0, children=[child("a"), child("b")]))
    proc = table().lookup(sup)
    assert proc is not None
    # Two restarts are within the intensity: the supervisor lives, so asking it is safe.
    for _ in range(2):
        current = pids(sup)["a"]
        cast(current, "crash")  # type: ignore[arg-type]
        wait_until(lambda c=current: pids(sup)["a"] != c, what="restart")  # type: ignore[misc]
    # The third is one too many: from here on only watch it, never call it (it is dying).
    cast(pids(sup)["a"], "crash")  # type: ignore[arg-type]
    wait_until(lambda: not proc.alive, what="the supervisor to give up")
    assert isinstance(proc.reason, RestartIntensity)
    assert ("stop", "b") in tagged.events  # it stopped its other children


def test_restart_storm_escalates_to_the_parent_supervisor() -> None:
    inner = SupSpec(intensity=1, period=10.0, children=[child("w")])
    inner_spec = ChildSpec(
        "inner", ("rt_fixtures.tagged", "start_sup", (inner,)), kind="supervisor"
    )
    top = start(SUP, SupSpec(intensity=5, period=10.0, children=[inner_spec, child("x")]))
    inner_before = pids(top)["inner"]
    assert inner_before is not None
    x_before = pids(top)["x"]
    worker = pids(inner_before)["w"]
    assert worker is not None
    cast(worker, "crash")  # one restart is within the inner supervisor's intensity
    wait_until(lambda: pids(inner_before)["w"] not in (None, worker), what="worker restart")
    # The second is one too many: the inner supervisor exits; only its parent is asked now.
    cast(pids(inner_before)["w"], "crash")  # type: ignore[arg-type]
    wait_until(lambda: pids(top)["inner"] not in (None, inner_before), what="inner restarted")
    new_inner = pids(top)["inner"]
    assert new_inner is not None
    assert pids(new_inner)["w"] is not None
    assert pids(top)["x"] == x_before  # one_for_one: the sibling was not touched


def test_stopping_a_supervisor_stops_children_in_reverse_order() -> None:
    sup = start(SUP, SupSpec(children=[child("a"), child("b"), child("c")]))
    tagged.events.clear()
    stop(sup, "shutdown")
    assert tagged.events == [("stop", "c"), ("stop", "b"), ("stop", "a")]


def test_a_child_that_does_not_stop_within_its_shutdown_time_is_killed() -> None:
    sup = start(SUP, SupSpec(children=[child("slow", shutdown=0.2), child("quick")]))
    slow = pids(sup)["slow"]
    gate = threading.Event()
    outcome: list[object] = []

    def blocked_call() -> None:
        try:
            outcome.append(call(slow, ("wait", gate), timeout=10))
        except Exception as exc:
            outcome.append(exc)

    blocker = node_thread(target=blocked_call)
    blocker.start()
    wait_until(lambda: table().lookup(slow).running, what="slow to be busy")  # type: ignore[arg-type, union-attr]
    stop(sup, "shutdown", timeout=10)
    # stop returned with `slow` gone while its message was still blocked on the shut gate (no
    # answer yet): it was killed in its message, not waited for until it finished.
    assert table().lookup(slow) is None  # type: ignore[arg-type]
    assert outcome == []
    gate.set()
    blocker.join(30)


def test_simple_one_for_one_starts_children_from_the_template() -> None:
    template = ChildSpec("worker", ("rt_fixtures.tagged", "start", ("w",)), restart="temporary")
    sup = start(SUP, SupSpec("simple_one_for_one", children=[template]))
    assert which_children(sup) == []
    one = start_child(sup, (1,))
    two = start_child(sup, (2,))
    assert call(one, "tag") == ("w", 1)
    assert [c.pid for c in which_children(sup)] == [one, two]
    terminate_child(sup, one)
    assert [c.pid for c in which_children(sup)] == [two]


def test_terminate_child_of_an_unknown_child_is_a_supervisor_error() -> None:
    sup = start(SUP, SupSpec(children=[child("a")]))
    with pytest.raises(SupervisorError, match="no child 'zzz'"):
        terminate_child(sup, "zzz")


def test_a_bad_spec_is_a_start_error() -> None:
    with pytest.raises(StartError, match="simple_one_for_one needs exactly one child spec"):
        start(SUP, SupSpec("simple_one_for_one", children=[child("a"), child("b")]))


def test_code_change_of_a_supervisor_takes_the_new_child_specs() -> None:
    from primes_runtime.loading import code_server

    sup = start(SUP, SupSpec(intensity=1, children=[child("a", shutdown=5.0)]))
    before = pids(sup)
    system.suspend(sup, 1.0)
    proc = table().lookup(sup)
    assert proc is not None
    proc.args = SupSpec(intensity=7, children=[child("a", shutdown=1.0)])  # type: ignore[attr-defined]
    system.change_code(sup, code_server.current(SUP), "1", None)
    system.resume(sup)
    assert proc.spec.intensity == 7  # type: ignore[attr-defined]
    assert [c.spec.shutdown for c in proc.children] == [1.0]  # type: ignore[attr-defined]
    assert pids(sup) == before  # running children keep running
