"""A node's three apps together: primes starts after prime_miner and frontman; GET / answers."""

from __future__ import annotations

import json
import time
import tomllib
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from primes import sup
from primes_runtime import StartError, applications, code_server
from primes_runtime.manifest import AppSpec
from primes_runtime.node import Node

APPS = Path(__file__).resolve().parents[2]
DEADLINE = 10.0  # seconds; generous, for slow and noisy CI machines


def spec(app: str) -> AppSpec:
    """The app's manifest entry as the build makes it, read from its source dir."""
    project = tomllib.loads((APPS / app / "pyproject.toml").read_text(encoding="utf-8"))
    table = project["tool"]["primes"]["app"]
    return AppSpec(
        name=project["project"]["name"].replace("-", "_"),
        version=project["project"]["version"],
        path=str(APPS / app),
        start=table["start"],
        stop=table.get("stop"),
        needs=tuple(table.get("needs", ())),
        env=table.get("env", {}),
    )


@pytest.fixture
def started(monkeypatch: pytest.MonkeyPatch, default_node: Node) -> Iterator[None]:
    """prime_miner (mining fast), frontman (free port) and primes, started as a node would.

    Their code comes from their source dirs (as a node takes it from their code dirs), so
    this works with only primes installed.
    """
    for app in ("prime_miner", "frontman"):
        monkeypatch.syspath_prepend(str(APPS / app))
    controller = default_node.applications
    controller.configure(APPS, {"prime_miner": {"interval": 0.02}, "frontman": {"port": 0}})
    try:
        controller.start_all([spec("primes"), spec("frontman"), spec("prime_miner")])
        yield
    finally:
        controller.stop_all(10.0)


def get_root(port: int) -> dict[str, object]:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=DEADLINE) as response:
        body: dict[str, object] = json.loads(response.read())
        return body


def test_primes_starts_last_after_the_apps_it_needs(started: None) -> None:
    running = [(a.name, a.status) for a in applications()]
    assert running == [("prime_miner", "running"), ("frontman", "running"), ("primes", "running")]


def test_the_node_answers_get_root_with_the_growing_lists_largest_prime(started: None) -> None:
    port = code_server.current("frontman").port()
    first = get_root(port)
    give_up = time.monotonic() + DEADLINE
    while (now := get_root(port))["count"] < int(str(first["count"])) + 3:
        assert time.monotonic() < give_up, "the largest prime did not grow"
    assert isinstance(now["largest_prime"], int) and isinstance(first["largest_prime"], int)
    assert now["largest_prime"] > first["largest_prime"]


def test_primes_refuses_to_start_without_prime_miner_and_frontman(node: Node) -> None:
    with pytest.raises(StartError, match="prime_miner, frontman"):
        node.applications.start_app(spec("primes"))
    assert "primes" not in [a.name for a in applications()]


def test_the_primes_supervisor_has_no_children() -> None:
    assert list(sup.init(None).children) == []
