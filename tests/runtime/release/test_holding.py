"""Tests for release/holding.py: the processes a script holds, suspended and let run in
batches, each pause counted, and what a failed resume leaves held."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from primes_runtime import call, start_server
from primes_runtime.behaviours.server import ServerProcess
from primes_runtime.host.node import Node
from primes_runtime.kernel import system
from primes_runtime.release.holding import UNTAKEN, Holding

COUNTER = "rt_fixtures.counter"


class _Refusing(ServerProcess):
    """A server whose on_resume raises (the layout of a ServerProcess: swapped in by class)."""

    __slots__ = ()

    def on_resume(self) -> None:
        raise RuntimeError("on_resume refused")


def test_a_batch_is_held_then_let_run_with_each_pause_counted(node: Node) -> None:
    pids = [start_server(COUNTER) for _ in range(3)]
    holding = Holding(node.processes, [])
    holding.suspend_all((COUNTER,), 1.0)
    pairs = holding.waiting((COUNTER,))
    assert [pid for pid, _ in pairs] == pids
    assert all(held.proc.status == "suspended" and not held.running for _, held in pairs)
    holding.resume_all(pairs)
    assert holding.waiting((COUNTER,)) == []
    assert [p.pid for p in holding.pauses] == [str(pid) for pid in pids]
    assert all(p.ms >= 0.0 for p in holding.pauses)
    assert [call(pid, "get") for pid in pids] == [0, 0, 0]


def test_a_resume_that_raises_leaves_the_rest_held_and_counts_only_the_resumed(
    node: Node,
) -> None:
    for _ in range(3):
        start_server(COUNTER)
    holding = Holding(node.processes, [])
    holding.suspend_all((COUNTER,), 1.0)
    pairs = holding.waiting((COUNTER,))
    procs = [held.proc for _, held in pairs]
    procs[1].__class__ = _Refusing
    try:
        with pytest.raises(RuntimeError, match="on_resume refused"):
            holding.resume_all(pairs)
        assert [held.running for _, held in pairs] == [True, False, False]
        assert [p.status for p in procs] == ["running", "suspended", "suspended"]
        assert len(holding.paused) == 1
        assert holding.waiting((COUNTER,)) == pairs[1:]  # what the undo still resumes
    finally:
        procs[1].__class__ = ServerProcess
        system.resume_all(procs)


def test_a_whole_module_is_held_with_one_flag_and_let_run_as_one(node: Node) -> None:
    pids = [start_server(COUNTER) for _ in range(3)]
    holding = Holding(node.processes, [])
    holding.suspend_all((COUNTER,), 1.0)
    assert COUNTER in node.processes.holds and list(holding.holds) == [COUNTER]
    pairs = holding.waiting((COUNTER,))
    assert all(not held.proc.suspended for _, held in pairs)  # no flag of its own
    holding.resume_all(pairs, (COUNTER,))
    assert not node.processes.holds and not holding.holds
    assert [p.pid for p in holding.pauses] == [str(pid) for pid in pids]
    assert [call(pid, "get") for pid in pids] == [0, 0, 0]


def test_letting_part_of_a_held_module_run_holds_the_rest_each_on_its_own_flag(
    node: Node,
) -> None:
    pids = [start_server(COUNTER) for _ in range(3)]
    holding = Holding(node.processes, [])
    holding.suspend_all((COUNTER,), 1.0)
    pairs = holding.waiting((COUNTER,))
    holding.resume_all(pairs[:1], (COUNTER,))
    assert not node.processes.holds and not holding.holds
    assert [held.proc.status for _, held in pairs] == ["running", "suspended", "suspended"]
    assert call(pids[0], "get") == 0
    holding.resume_all(holding.waiting((COUNTER,)), (COUNTER,))
    assert [call(pid, "get") for pid in pids[1:]] == [0, 0]


def test_the_undo_of_a_held_module_lets_every_process_run(node: Node) -> None:
    pids = [start_server(COUNTER) for _ in range(3)]
    undo_log: list[tuple[str, Callable[[], None]]] = []
    holding = Holding(node.processes, undo_log)
    holding.suspend_all((COUNTER,), 1.0)
    ((what, undo),) = undo_log
    assert what == "resume 3 processes"
    undo()
    assert not node.processes.holds
    assert [call(pid, "get") for pid in pids] == [0, 0, 0]


def test_a_held_modules_snapshots_are_taken_before_any_of_its_processes_runs_again(
    node: Node,
) -> None:
    pids = [start_server(COUNTER) for _ in range(2)]
    call(pids[0], ("incr", 5))
    holding = Holding(node.processes, [])
    holding.suspend_all((COUNTER,), 1.0)
    pairs = holding.waiting((COUNTER,))
    assert all(held.state is UNTAKEN for _, held in pairs)  # none taken inside the pause
    held_states = [held.proc.snapshot_state() for _, held in pairs]
    holding.resume_all(pairs, (COUNTER,))
    assert all(held.state is state for (_, held), state in zip(pairs, held_states, strict=True))
    assert [held.snapshot.state["count"] for _, held in pairs] == [5, 0]  # type: ignore[index]


class _NoSnapshot(ServerProcess):
    """A server whose snapshot_state raises (swapped in by class, as _Refusing)."""

    __slots__ = ()

    def snapshot_state(self) -> object:
        raise RuntimeError("snapshot refused")


def test_a_snapshot_that_raises_as_a_hold_is_undone_leaves_the_module_held_by_no_flag(
    node: Node,
) -> None:
    pids = [start_server(COUNTER) for _ in range(2)]
    undo_log: list[tuple[str, Callable[[], None]]] = []
    holding = Holding(node.processes, undo_log)
    holding.suspend_all((COUNTER,), 1.0)
    procs = [held.proc for _, held in holding.waiting((COUNTER,))]
    procs[1].__class__ = _NoSnapshot
    try:
        ((_, undo),) = undo_log
        with pytest.raises(RuntimeError, match="snapshot refused"):
            undo()
        assert not node.processes.holds and not holding.holds
        assert call(pids[0], "get") == 0  # the other one runs again
    finally:
        procs[1].__class__ = ServerProcess
        system.resume_all(procs)
