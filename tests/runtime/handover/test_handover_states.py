"""Process states for a hand-over: keyed alike in both nodes, plain data round-trips, and a
state that is not plain data is refused in one line naming its process."""

from __future__ import annotations

import threading

import pytest
from primes_runtime import call, start_server
from primes_runtime.handover import states
from primes_runtime.host.node import Node
from primes_runtime.kernel import system

COUNTER = "rt_fixtures.counter"


def test_a_registered_process_with_plain_state_exports_and_imports_its_state(node: Node) -> None:
    start_server(COUNTER, 5, name="counter")
    [(key, proc)] = states.keys(node).items()
    assert key == "name counter"
    system.suspend(proc, 1.0)
    exported = states.export(key, proc)
    system.resume(proc)
    assert exported is not None
    assert states.load(exported) == {"count": 5, "seen": [], "held": None}
    other = start_server(COUNTER, 0)
    target = node.processes.resolve(other)
    system.suspend(target, 1.0)
    states.import_into(target, exported)
    system.resume(target)
    assert call(other, "get") == 5


def test_a_state_holding_an_object_is_refused_naming_the_process_and_the_way_out(
    node: Node,
) -> None:
    start_server(COUNTER, 0, name="holder")
    [(key, proc)] = states.keys(node).items()
    system.suspend(proc, 1.0)
    proc.restore_state({"count": 0, "seen": [], "held": threading.Lock()})
    with pytest.raises(states.Unportable) as refused:
        states.export(key, proc)
    system.resume(proc)
    line = str(refused.value)
    assert "\n" not in line
    assert f"process {proc.pid} name holder (rt_fixtures.counter)" in line
    assert "_thread.lock" in line
    assert "define export_state and import_state in rt_fixtures.counter" in line


def test_a_process_with_no_name_and_no_supervisor_cannot_be_told_apart_and_says_so(
    node: Node,
) -> None:
    start_server(COUNTER, 0)
    with pytest.raises(states.Unportable, match="no registered name and no supervisor child id"):
        states.keys(node)


def test_plain_data_is_read_back_without_any_class() -> None:
    exported = states.Exported("k", "m", "1", "gASVFQAAAAAAAACMCGJ1aWx0aW5zlIwEZXZhbJSTlC4=")
    with pytest.raises(Exception, match="not plain data"):
        states.load(exported)
