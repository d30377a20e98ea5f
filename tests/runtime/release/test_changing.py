"""Tests for release/changing.py: code_change of many held processes on one worker thread,
each bounded by its timeout, a server's new state set only once every call returned."""

from __future__ import annotations

import sys
import threading
import time
import types
from collections.abc import Callable

from primes_runtime import CodeChangeError, call, self_pid, start_server
from primes_runtime.behaviours.server import Reply
from primes_runtime.host.node import Node
from primes_runtime.kernel.pid import Pid
from primes_runtime.release.changing import Gate, Worker, change_each, guarded
from primes_runtime.release.holding import Held, Holding


def _servers(
    name: str, count: int, code_change: Callable[[object, dict[str, object], object], object]
) -> tuple[list[Pid], types.ModuleType]:
    """`count` servers of an in-memory module `name` whose code_change is `code_change`."""
    module = types.ModuleType(name)

    def init(args: object) -> dict[str, object]:
        return {"n": args}

    def handle_call(request: object, caller: object, state: dict[str, object]) -> Reply:
        return Reply(state, state)

    module.__dict__.update(init=init, handle_call=handle_call, code_change=code_change)
    sys.modules[name] = module
    return [start_server(name, i) for i in range(count)], module


def _change(
    node: Node,
    name: str,
    module: types.ModuleType,
    timeout: float,
    fallback: set[Pid],
    snapshot: bool = False,
) -> tuple[Holding, list[tuple[Pid, Held]], dict[int, BaseException], int | None, Gate]:
    holding = Holding(node.processes, [])
    holding.suspend_all((name,), 1.0)
    targets = holding.waiting((name,))
    gate, worker = Gate(), Worker()
    try:
        shims = {name: guarded(module, gate)}
        errors, late = change_each(
            worker, targets, shims, gate, 1, "x", timeout, fallback, snapshot
        )
    finally:
        worker.close()
    return holding, targets, errors, late, gate


def test_a_servers_code_change_runs_as_that_process_and_its_new_state_is_set(
    node: Node, mod: str
) -> None:
    def code_change(old: object, state: dict[str, object], extra: object) -> object:
        return {**state, "by": self_pid(), "extra": extra}

    pids, module = _servers(mod, 3, code_change)
    holding, _, errors, late, _ = _change(node, mod, module, 5.0, set())
    assert errors == {} and late is None
    holding.resume_all(holding.waiting((mod,)), (mod,))
    assert [call(pid, "state") for pid in pids] == [
        {"n": i, "by": pid, "extra": "x"} for i, pid in enumerate(pids)
    ]


def test_a_fallback_process_whose_code_change_fails_keeps_its_state_and_the_rest_change(
    node: Node, mod: str
) -> None:
    def code_change(old: object, state: dict[str, object], extra: object) -> object:
        if state["n"] == 1:
            raise ValueError("not this one")
        return {**state, "changed": True}

    pids, module = _servers(mod, 3, code_change)
    holding, _, errors, late, _ = _change(node, mod, module, 5.0, {pids[1]})
    assert late is None and list(errors) == [1]
    assert isinstance(errors[1], CodeChangeError) and "not this one" in str(errors[1].__cause__)
    holding.resume_all(holding.waiting((mod,)), (mod,))
    states = [call(pid, "state") for pid in pids]
    assert states == [{"n": 0, "changed": True}, {"n": 1}, {"n": 2, "changed": True}]


def test_a_code_change_past_its_timeout_is_named_and_no_new_state_is_ever_set(
    node: Node, mod: str
) -> None:
    returned = threading.Event()

    def code_change(old: object, state: dict[str, object], extra: object) -> object:
        if state["n"] == 1:
            time.sleep(0.3)
            returned.set()
        return {**state, "changed": True}

    pids, module = _servers(mod, 3, code_change)
    holding, _, errors, late, gate = _change(node, mod, module, 0.05, set())
    assert late == 1 and errors == {} and gate.shut
    assert returned.wait(5)
    time.sleep(0.05)  # the late call's worker goes on: it must set nothing
    holding.resume_all(holding.waiting((mod,)), (mod,))
    assert [call(pid, "state") for pid in pids] == [{"n": 0}, {"n": 1}, {"n": 2}]


def test_told_to_take_snapshots_each_call_takes_its_targets_before_it_changes_it(
    node: Node, mod: str
) -> None:
    def code_change(old: object, state: dict[str, object], extra: object) -> object:
        return {**state, "changed": True}

    _, module = _servers(mod, 2, code_change)
    holding, targets, errors, late, _ = _change(node, mod, module, 5.0, set(), snapshot=True)
    assert errors == {} and late is None
    assert [held.state for _, held in targets] == [{"n": 0}, {"n": 1}]
    assert [held.proc.state for _, held in targets] == [  # type: ignore[attr-defined]
        {"n": 0, "changed": True},
        {"n": 1, "changed": True},
    ]
    holding.resume_all(targets, (mod,))
