"""prime_miner as an application: its supervisor starts the miner and restarts it on a crash."""

from __future__ import annotations

import time
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pm
import pytest
from prime_miner import app, miner
from primes_runtime import whereis
from primes_runtime.manifest import AppSpec
from primes_runtime.node import Node
from primes_runtime.supervisor import which_children

APP_DIR = Path(__file__).resolve().parents[1]
DEADLINE = 10.0  # seconds; generous, for slow and noisy CI machines


@pytest.fixture
def running_app(node: Node) -> Iterator[Node]:
    table = tomllib.loads((APP_DIR / "pyproject.toml").read_text(encoding="utf-8"))
    prime = table["tool"]["primes"]["app"]
    spec = AppSpec(
        name="prime_miner",
        version=table["project"]["version"],
        path=str(APP_DIR),
        start=prime["start"],
        env=prime["env"],
    )
    node.applications.configure(APP_DIR, {"prime_miner": {"interval": 0.02}})
    try:
        node.applications.start_app(spec)
        yield node
    finally:
        node.applications.stop_all(10.0)


def test_the_app_env_interval_drives_the_mining(running_app: None) -> None:
    start = pm.count()
    give_up = time.monotonic() + DEADLINE
    while pm.count() < start + 5:
        assert time.monotonic() < give_up, "the miner does not mine every 20 ms"


def test_the_supervisor_restarts_a_crashed_miner_under_the_same_name(running_app: Node) -> None:
    (child,) = which_children(app.SUP_NAME)
    assert child.id == "miner" and child.pid == whereis(miner.NAME)
    assert child.pid is not None and running_app.processes.kill(child.pid)
    give_up = time.monotonic() + DEADLINE
    while whereis(miner.NAME) in (None, child.pid):
        assert time.monotonic() < give_up, "the miner was not restarted"
        time.sleep(0.01)  # pace the polling; the deadline is what fails the test
    assert pm.largest_prime() >= 13
