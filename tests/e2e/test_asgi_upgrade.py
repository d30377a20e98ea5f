"""The ratelimiter example through the real commands: its hot upgrade under HTTP load from
wrk (the Python client when wrk is not installed): no request fails, the counters in the
bucket process are kept through a change of their shape, and the new route answers."""

from __future__ import annotations

import json
import shutil
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tools.asgi_example import Load, build, copy_example, ctl, get, load, make_v2

pytestmark = pytest.mark.e2e

LOAD_SECONDS = 8.0
UPGRADE_AT = 2.5  # seconds into the load


@dataclass(frozen=True)
class Packages:
    v1: Path
    v2: Path


@pytest.fixture(scope="module")
def packages(
    tmp_path_factory: pytest.TempPathFactory, wheelhouse: Path, ratelimiter_v1: Path
) -> Packages:
    """ratelimiter 1 and 2 (with its relup from 1), built with python -m build."""
    src = copy_example(tmp_path_factory.mktemp("src") / "ratelimiter")
    make_v2(src)
    v2 = build(src, tmp_path_factory.mktemp("dist"), wheelhouse, previous=ratelimiter_v1)
    return Packages(ratelimiter_v1, v2)


@pytest.fixture
def node(deployed: Path) -> Iterator[Path]:
    script = deployed
    ctl(script, "start")
    try:
        yield script
    finally:
        ctl(script, "stop")


def test_the_hot_upgrade_under_load_fails_no_request_keeps_the_state_and_adds_the_route(
    node: Path, packages: Packages, capsys: pytest.CaptureFixture[str]
) -> None:
    port = int(ctl(node, "rpc", "asgi_host.app", "port").strip())
    for _ in range(3):
        assert get(port, "/hit/alice")[0] == 200
    assert get(port, "/quota/alice")[0] == 404  # version 1 has no such route
    stream = socket.create_connection(("127.0.0.1", port), timeout=30)
    stream.sendall(b"GET /events HTTP/1.1\r\nHost: x\r\n\r\n")
    assert b"data: limiter v1" in _read_until(stream, b"data: limiter v1")

    results: list[Load] = []
    loader = threading.Thread(target=lambda: results.append(load(port, "/hit/bob", LOAD_SECONDS)))
    loader.start()
    threading.Event().wait(UPGRADE_AT)
    report = ctl(node, "upgrade", str(packages.v2))
    loader.join(LOAD_SECONDS + 60)
    [seen] = results
    with capsys.disabled():
        print(
            f"\n{seen.tool}: {seen.requests} requests, {seen.failed} failed, "
            f"worst {seen.worst_ms:.1f} ms, upgrade at {UPGRADE_AT} s"
        )
        if shutil.which("wrk") is None:
            print("wrk is not installed: the load came from the Python client")

    assert seen.failed == 0
    assert seen.requests > 100
    assert "release 2 installed over 1" in report
    assert "still on old code: asgi_host: http /events (old code, open" in report
    assert b"event: reconnect" in _read_until(stream, b"event: reconnect")  # handed over
    stream.close()

    status, body = get(port, "/quota/alice")
    assert status == 200
    assert json.loads(body) == {"client": "alice", "used": 3, "left": 1000000 - 3}
    stats = json.loads(get(port, "/stats")[1])
    assert stats["vsn"] == 2
    assert stats["total"] >= 3 + seen.requests  # every hit counted, before and after
    assert json.loads(get(port, "/quota/bob")[1])["used"] == stats["total"] - 3
    assert "old code" not in ctl(node, "status")


def _read_until(sock: socket.socket, marker: bytes) -> bytes:
    data = b""
    while marker not in data:
        chunk = sock.recv(4096)
        assert chunk, f"the stream ended before {marker!r}: {data!r}"
        data += chunk
    return data
