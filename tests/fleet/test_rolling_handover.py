"""Rolling a release that changes the runtime with ansible-playbook: each node hands over (e2e)."""

from __future__ import annotations

import contextlib
import http.client
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.e2e import example
from tests.fleet.fleet import Node, Play, inventory, playbook
from tools.asgi_example import ExampleError, ctl, deploy, get

pytestmark = pytest.mark.e2e

HITS = 3


@dataclass(frozen=True)
class Pair:
    """ratelimiter 1 and 2 (the same apps on primes-runtime 2: an upgrade is a hand-over)."""

    one: Path
    two: Path


@dataclass(frozen=True)
class Limiter:
    """One deployed, started ratelimiter tree, as fleet.inventory wants a node."""

    name: str
    root: Path

    @property
    def script(self) -> Path:
        return self.root / "bin" / "ratelimiter"

    def cli(self, *args: str) -> str:
        return ctl(self.script, *args).strip()

    def versions(self) -> dict[str, str]:
        words = self.cli("versions").split()
        return dict(zip(words[::2], words[1::2], strict=True))

    def pid(self) -> int:
        return int(self.cli("pid"))

    def port(self) -> int:
        return int(self.cli("rpc", "asgi_host.app", "port"))

    def total(self, port: int) -> int:
        return int(json.loads(get(port, "/stats")[1])["total"])


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory) -> Pair:
    return Pair(example.release_1(tmp_path_factory), example.runtime_2(tmp_path_factory))


@pytest.fixture(scope="module")
def fleet(tmp_path_factory: pytest.TempPathFactory, pair: Pair) -> Iterator[list[Limiter]]:
    """Two trees of release 1, started, each counted HITS hits; shared by the module's two
    tests: check mode first (it asserts that it changed nothing), then the roll."""
    hosts = tmp_path_factory.mktemp("hosts")
    nodes: list[Limiter] = []
    try:
        for index in (1, 2):
            node = Limiter(f"node{index}", hosts / f"node{index}" / "ratelimiter")
            deploy(pair.one, node.root)
            nodes.append(node)
            node.cli("start")
            for _ in range(HITS):
                assert get(node.port(), "/hit/alice")[0] == 200
        yield nodes
    finally:
        for node in nodes:
            with contextlib.suppress(ExampleError):  # one that never started
                node.cli("stop")


@dataclass
class Hits:
    """What a client hitting one node in a loop, one new connection per hit, saw."""

    ok: int = 0
    failed: list[str] = field(default_factory=list)


@contextmanager
def hitting(nodes: list[Limiter], ports: dict[str, int]) -> Iterator[dict[str, Hits]]:
    """One client thread per node, GETting /hit/bob until the block ends."""
    seen = {n.name: Hits() for n in nodes}
    stop = threading.Event()

    def loop(name: str) -> None:
        while not stop.is_set():
            try:
                status, body = get(ports[name], "/hit/bob")
            except (OSError, http.client.HTTPException) as exc:
                seen[name].failed.append(repr(exc))
                continue
            if status == 200:
                seen[name].ok += 1
            else:
                seen[name].failed.append(f"{status} {body!r}")

    threads = [threading.Thread(target=loop, args=(n.name,), daemon=True) for n in nodes]
    for thread in threads:
        thread.start()
    try:
        yield seen
    finally:
        stop.set()
        for thread in threads:
            thread.join(10)


def roll(nodes: list[Limiter], pair: Pair, tmp_path: Path, *extra: str) -> Play:
    hosts = inventory([Node(n.name, n.root) for n in nodes], tmp_path / "hosts.ini")
    return playbook(
        hosts, "-e", f"primes_package={pair.two}", "-e", "primes_name=ratelimiter", *extra
    )


def test_check_mode_says_each_node_would_hand_over_and_changes_nothing(
    fleet: list[Limiter], pair: Pair, tmp_path: Path
) -> None:
    pids = {n.name: n.pid() for n in fleet}
    play = roll(fleet, pair, tmp_path, "--check", "-v")
    assert play.returncode == 0, play.output
    for node in fleet:
        checked = play.result(node.name)["check"]
        assert isinstance(checked, dict)
        assert checked["upgrade"] == "hand-over"
        assert "the runtime changes" in str(checked["why"])
        assert node.pid() == pids[node.name]
        assert node.versions() == {"1": "permanent"}
        assert play.recap[node.name]["changed"] == 1  # what the real run would do


def test_a_runtime_bump_roll_hands_each_node_over_with_its_counters_and_a_rerun_changes_nothing(
    fleet: list[Limiter], pair: Pair, tmp_path: Path
) -> None:
    pids = {n.name: n.pid() for n in fleet}
    ports = {n.name: n.port() for n in fleet}
    probe = (
        '{"primes_probe": ["{{ primes_root }}/bin/ratelimiter", "rpc", "asgi_host.app", "port"]}'
    )
    with hitting(fleet, ports) as seen:
        play = roll(fleet, pair, tmp_path, "-e", probe, "-v")
    assert play.returncode == 0, play.output
    for node in fleet:
        result = play.result(node.name)
        assert (result["previous"], result["release"]) == ("1", "2")
        handover = result["handover"]
        assert isinstance(handover, dict), result
        assert handover["old_pid"] == pids[node.name]
        assert handover["new_pid"] == node.pid() != pids[node.name]
        assert node.versions() == {"2": "permanent", "1": "old"}
        assert seen[node.name].failed == []
        assert seen[node.name].ok > 0
        assert node.total(ports[node.name]) == HITS + seen[node.name].ok  # counted on both nodes
        assert play.recap[node.name]["changed"] == 1 and play.recap[node.name]["failed"] == 0

    again = roll(fleet, pair, tmp_path)
    assert again.returncode == 0, again.output
    assert all(counts["changed"] == 0 for counts in again.recap.values()), again.recap
