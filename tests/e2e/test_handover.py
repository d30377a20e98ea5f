"""A release whose runtime or interpreter changes, through the real commands: `check` says the
upgrade is a hand-over, `upgrade` starts the successor node and hands it the sockets and every
state under load (3.11 -> 3.12 -> 3.13 -> 3.11 too), and a successor that fails at any step
leaves the old node serving."""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.build_backend.deps.interpreters import find_python
from tools.asgi_example import Load, ctl, get, load
from tools.handover_example import (
    build_on_python,
    command,
    fresh_load,
    load_until,
    one_node_left,
)

pytestmark = pytest.mark.e2e

LOAD_SECONDS = 5.0
UPGRADE_AT = 1.5
WRK_SECONDS = 3.0


@pytest.fixture
def started(deployed: Path, request: pytest.FixtureRequest) -> Iterator[Path]:
    env = getattr(request, "param", {})
    done = command(deployed, "start", env=env)
    assert done.returncode == 0, done.stderr
    try:
        yield deployed
    finally:
        command(deployed, "stop")


def test_check_says_an_upgrade_that_changes_the_runtime_is_a_hand_over_and_why(
    started: Path, runtime_2: Path
) -> None:
    out = ctl(started, "check", str(runtime_2))
    assert "upgrade: a hand-over to a successor node, because the runtime changes" in out
    assert "primes_runtime-1 -> primes_runtime-2" in out
    assert "asgi_host" in out


def test_an_upgrade_that_changes_the_runtime_hands_over_under_load_and_keeps_every_counter(
    started: Path, runtime_2: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    port = int(ctl(started, "rpc", "asgi_host.app", "port").strip())
    for _ in range(3):
        assert get(port, "/hit/alice")[0] == 200
    before = int(ctl(started, "pid").strip())
    results: list[Load] = []
    loader = threading.Thread(
        target=lambda: results.append(fresh_load(port, "/hit/bob", LOAD_SECONDS))
    )
    loader.start()
    threading.Event().wait(UPGRADE_AT)
    upgraded = command(started, "upgrade", str(runtime_2))
    loader.join(LOAD_SECONDS + 60)
    [seen] = results
    with capsys.disabled():
        print(
            f"\n{seen.tool}: {seen.requests} requests, {seen.failed} failed, "
            f"worst {seen.worst_ms:.1f} ms"
        )
        print(upgraded.stdout.strip())

    assert upgraded.returncode == 0, upgraded.stderr
    assert f"release 2 handed over from 1: node pid {before} -> " in upgraded.stdout
    after = int(ctl(started, "pid").strip())
    assert after != before
    assert ctl(started, "ping").strip() == "pong"
    assert seen.failed == 0
    assert seen.requests > 50
    stats = json.loads(get(port, "/stats")[1])
    assert stats["total"] == 3 + seen.requests  # every hit counted, on both nodes
    assert "2 permanent" in ctl(started, "versions")
    assert one_node_left(started.parent.parent) == [after]


CHAIN = (("2", "3.12"), ("3", "3.13"), ("4", "3.11"))
"""Releases 2, 3 and 4 of the example, each on the Python it names, upgraded in this order."""


def test_a_node_moves_from_python_3_11_to_3_12_to_3_13_and_back_under_load_keeping_every_counter(
    deployed: Path,
    tmp_path: Path,
    wheelhouse: Path,
    ratelimiter_v1: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    links = tmp_path / "bin"
    links.mkdir()
    for _, python in CHAIN:
        found = find_python(python)
        assert found is not None, f"this machine's image carries Python {python} (pyenv)"
        (links / f"python{python}").symlink_to(found)
    monkeypatch.setenv("PATH", f"{links}:{os.environ['PATH']}")  # as on a host
    packages, previous = [], ratelimiter_v1
    for release, python in CHAIN:
        previous = build_on_python(tmp_path, wheelhouse, previous, python, release)
        packages.append(previous)
    assert command(deployed, "start").returncode == 0
    try:
        port = int(ctl(deployed, "rpc", "asgi_host.app", "port").strip())
        for _ in range(3):
            assert get(port, "/hit/alice")[0] == 200
        version = "import sys; sys.version_info[:2]"
        seen_versions = [ctl(deployed, "eval", version).strip()]
        pids = [int(ctl(deployed, "pid").strip())]
        stop = threading.Event()
        results: list[Load] = []
        loader = threading.Thread(target=lambda: results.append(load_until(port, "/hit/bob", stop)))
        loader.start()
        kept_alive: list[Load] = []  # wrk's keep-alive connections, across each hand-over
        try:
            for (release, python), package in zip(CHAIN, packages, strict=True):
                wrk = threading.Thread(
                    target=lambda: kept_alive.append(load(port, "/hit/carol", WRK_SECONDS, 8))
                )
                wrk.start()
                threading.Event().wait(UPGRADE_AT)
                upgraded = command(deployed, "upgrade", str(package))
                wrk.join(WRK_SECONDS + 60)
                assert upgraded.returncode == 0, upgraded.stderr
                assert f"release {release} handed over from" in upgraded.stdout
                assert f"-> {python})" in upgraded.stdout  # the interpreter changes
                seen_versions.append(ctl(deployed, "eval", version).strip())
                pids.append(int(ctl(deployed, "pid").strip()))
        finally:
            stop.set()
            loader.join(60)
        [seen] = results
        with capsys.disabled():
            print(
                f"\n3.11 -> 3.12 -> 3.13 -> 3.11, {seen.tool}: {seen.requests} requests, "
                f"{seen.failed} failed, worst {seen.worst_ms:.1f} ms; "
                + ", ".join(f"{k.tool} {k.requests} requests {k.failed} failed" for k in kept_alive)
            )

        assert [k.failed for k in kept_alive] == [0] * len(CHAIN)
        assert seen_versions == ["(3, 11)", "(3, 12)", "(3, 13)", "(3, 11)"]
        assert len(set(pids)) == 4  # a new node on each interpreter
        assert seen.failed == 0
        assert seen.requests > 50
        carol = json.loads(get(port, "/hit/carol")[1])["count"]  # wrk's hits and this one
        assert carol > sum(k.requests for k in kept_alive)  # (wrk leaves its last ones unread)
        stats = json.loads(get(port, "/stats")[1])
        assert stats["total"] == 3 + seen.requests + carol  # every hit counted, on all four nodes
        assert "4 permanent" in ctl(deployed, "versions")
        assert one_node_left(deployed.parent.parent) == [pids[-1]]
    finally:
        command(deployed, "stop")


@pytest.mark.parametrize(
    ("started", "where"),
    [
        ({"PRIMES_HANDOVER_FAULT": "boot"}, "at boot"),
        ({"PRIMES_HANDOVER_FAULT": "import"}, "at import"),
        ({"PRIMES_HANDOVER_FAULT": "hang", "PRIMES_HANDOVER_TIMEOUT": "2"}, "did not answer"),
    ],
    indirect=["started"],
    ids=["crash-at-boot", "crash-at-import", "hang"],
)
def test_a_successor_that_fails_leaves_the_old_node_serving_with_its_state_and_one_line(
    started: Path, runtime_2: Path, where: str
) -> None:
    port = int(ctl(started, "rpc", "asgi_host.app", "port").strip())
    for _ in range(3):
        assert get(port, "/hit/alice")[0] == 200
    before = int(ctl(started, "pid").strip())

    upgraded = command(started, "upgrade", str(runtime_2))

    assert upgraded.returncode == 1
    [line] = upgraded.stderr.strip().splitlines()
    assert "hand-over to release 2 failed" in line
    assert where in line
    assert f"this node (pid {before}) serves on with release 1 and every state" in line
    assert "Traceback" not in upgraded.stderr + upgraded.stdout
    assert int(ctl(started, "pid").strip()) == before
    assert get(port, "/hit/alice")[0] == 200
    assert json.loads(get(port, "/stats")[1])["total"] == 4
    assert ctl(started, "versions").split() == ["1", "permanent"]
    assert one_node_left(started.parent.parent) == [before]
