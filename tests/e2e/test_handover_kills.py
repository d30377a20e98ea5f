"""A kill -9 of either node at each step of a hand-over (PRIMES_HANDOVER_KILL=side:step, the
process kills only itself): one node serves the listener afterwards, with the old node's
counters or every counter handed over, or none lives and `start` recovers the tree."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from primes_runtime.handover import faults

from tools.asgi_example import ctl, get
from tools.handover_example import command, node_processes, one_node_left

pytestmark = pytest.mark.e2e

SETTLE = 60.0
"""Seconds a survivor gets to be the tree's only node (it takes one or two)."""

CASES = [
    # (side killed, after which step, who serves then: "leader", "successor" or "none")
    ("leader", "spawned", "none"),
    ("leader", "sockets", "none"),
    ("leader", "frozen", "none"),
    ("leader", "states", "successor"),
    ("leader", "permanent", "successor"),
    ("leader", "commit", "successor"),
    ("leader", "served", "successor"),
    ("successor", "sockets", "leader"),
    ("successor", "booted", "leader"),
    ("successor", "imported", "leader"),
    ("successor", "commit", "leader"),
    ("successor", "served", "leader"),
    ("successor", "serving", "none"),
]


@pytest.fixture
def tree(deployed: Path) -> Iterator[Path]:
    """The deployed bin/ratelimiter; whatever node of it runs at the end is stopped."""
    try:
        yield deployed
    finally:
        command(deployed, "stop")


def settled(check: Callable[[], bool], what: str) -> None:
    """Wait until `check()` holds (a node exits or takes over: an event, not a duration)."""
    deadline = time.monotonic() + SETTLE
    while not check():
        assert time.monotonic() < deadline, f"never {what}"
        time.sleep(0.05)


def only_node(root: Path, other_than: int) -> int | None:
    """The tree's one node process if it is not `other_than` and run/node.pid names it."""
    found = node_processes(root)
    if len(found) != 1 or found[0] == other_than:
        return None
    pid_file = (root / "run" / "node.pid").read_text().split() if (root / "run").is_dir() else []
    return found[0] if pid_file[:1] == [str(found[0])] else None


def hits(port: int) -> int:
    return int(json.loads(get(port, "/stats")[1])["total"])


def test_each_kill_step_is_one_the_hand_over_reaches() -> None:
    steps = {side: [step for s, step, _ in CASES if s == side] for side in ("leader", "successor")}
    assert tuple(steps["leader"]) == faults.LEADER_STEPS
    assert tuple(steps["successor"]) == faults.SUCCESSOR_STEPS


@pytest.mark.parametrize(
    ("side", "step", "serving"), CASES, ids=[f"{side}-{step}" for side, step, _ in CASES]
)
def test_a_kill_9_of_either_node_at_any_step_leaves_one_node_serving_or_a_tree_start_recovers(
    tree: Path, runtime_2: Path, side: str, step: str, serving: str
) -> None:
    root = tree.parent.parent
    started = command(tree, "start", env={faults.KILL_VAR: f"{side}:{step}"})
    assert started.returncode == 0, started.stderr
    port = int(ctl(tree, "rpc", "asgi_host.app", "port").strip())
    for _ in range(3):
        assert get(port, "/hit/alice")[0] == 200
    leader = int(ctl(tree, "pid").strip())

    upgraded = command(tree, "upgrade", str(runtime_2))

    if serving == "leader":
        assert upgraded.returncode == 1
        assert f"this node (pid {leader}) serves on with release 1 and every state" in (
            upgraded.stderr
        )
        assert node_processes(root) == [leader]
        assert ctl(tree, "versions").split() == ["1", "permanent"]
        assert hits(port) == 3
    elif serving == "successor":
        assert upgraded.returncode != 0  # the node that ran it died before it answered
        settled(lambda: only_node(root, leader) is not None, "did the successor serve alone")
        alone = "finishes the hand-over alone" in (root / "log" / "node.log").read_text()
        assert alone == (step in ("states", "permanent"))  # else it had commit already
        assert ctl(tree, "ping").strip() == "pong"
        assert "2 permanent" in ctl(tree, "versions")
        assert hits(port) == 3  # every counter handed over
    else:
        settled(lambda: not node_processes(root), "did every node of the tree exit")
        recovered = command(tree, "start")
        assert recovered.returncode == 0, recovered.stderr
        boots = "2" if side == "successor" else "1"
        assert f"{boots} permanent" in ctl(tree, "versions")
        port = int(ctl(tree, "rpc", "asgi_host.app", "port").strip())
        assert hits(port) == 0  # the node that held the counters died with them
        assert get(port, "/hit/alice")[0] == 200
        if side == "leader":  # release 2 stayed unpacked: the same upgrade now hands over
            again = command(tree, "upgrade", str(runtime_2))
            assert again.returncode == 0, again.stderr
            assert hits(port) == 1
    assert get(port, "/hit/alice")[0] == 200
    assert len(one_node_left(root)) == 1
