"""The ratelimiter's HTTP host under connection floods, through the real commands: idle
connections past the descriptor limit, and request heads sent a byte at a time."""

from __future__ import annotations

import ast
import contextlib
import select
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tools.asgi_example import ctl, get

pytestmark = pytest.mark.e2e

NOFILE = 256  # the node's descriptor limit: a few hundred connections exhaust it
FLOOD = 400


@pytest.fixture
def started(deployed: Path) -> Iterator[Path]:
    """The deployed node, stopped after the test (each test starts it its own way)."""
    try:
        yield deployed
    finally:
        subprocess.run([deployed, "stop"], capture_output=True, timeout=60)


def configure(script: Path, **env: float) -> None:
    """Add keys to release 1's [env.asgi_host] (the last table of its node.toml)."""
    toml = script.parent.parent / "releases" / "1" / "node.toml"
    lines = "".join(f"{key} = {value!r}\n" for key, value in env.items())
    toml.write_text(toml.read_text(encoding="utf-8") + lines, encoding="utf-8")


def limits(script: Path) -> dict[str, object]:
    value = ast.literal_eval(ctl(script, "rpc", "asgi_host.app", "limits"))
    assert isinstance(value, dict)
    return value


def closed(sock: socket.socket) -> bool:
    """Whether the server has closed this connection (EOF or reset after what it sent)."""
    while select.select([sock], [], [], 0)[0]:
        try:
            if sock.recv(4096) == b"":
                return True
        except OSError:
            return True
    return False


def node_log(script: Path) -> str:
    logs = sorted((script.parent.parent / "log").glob("node.log*"))
    return "".join(p.read_text(encoding="utf-8", errors="replace") for p in logs)


def test_400_idle_connections_under_a_256_descriptor_limit_leave_ping_and_new_clients_served(
    started: Path,
) -> None:
    script = started
    subprocess.run(["prlimit", f"--nofile={NOFILE}:{NOFILE}", script, "start"], check=True)
    port = int(ctl(script, "rpc", "asgi_host.app", "port"))
    flood = [socket.create_connection(("127.0.0.1", port), timeout=10) for _ in range(FLOOD)]
    try:
        time.sleep(0.5)
        began = time.monotonic()
        pong = subprocess.run([script, "ping"], capture_output=True, text=True, timeout=60)
        took = time.monotonic() - began
        assert (pong.returncode, pong.stdout, took < 3.0) == (0, "pong\n", True), (pong, took)
        assert get(port, "/stats")[0] == 200  # a new client is served
        assert closed(flood[0])  # the oldest idle ones were closed for the new ones
        cap = limits(script)["max_connections"]
        assert isinstance(cap, int)
        assert 0 < cap < NOFILE - 2 * 64  # below the limit, with the node's reserve kept free
        asked = "from primes_runtime import call; call('asgi_host', 'open_connections')"
        assert int(ctl(script, "eval", asked)) <= cap
        assert sum(not closed(s) for s in flood) <= cap
    finally:
        for sock in flood:
            sock.close()
    text = node_log(script)
    assert "Too many open files" not in text
    about = [line for line in text.splitlines() if "(the cap)" in line]
    assert 1 <= len(about) <= 2, about  # rate-limited: one line per 10 s
    unit = (script.parent.parent / "releases" / "1" / "ratelimiter@.service").read_text()
    assert "LimitNOFILE=65536" in unit  # what systemd gives the node instead of 1024


def test_heads_sent_a_byte_at_a_time_are_closed_at_the_header_deadline_others_are_served(
    started: Path,
) -> None:
    script = started
    configure(script, keep_alive=1.0, header_timeout=2.0)
    ctl(script, "start")
    port = int(ctl(script, "rpc", "asgi_host.app", "port"))
    slow = [socket.create_connection(("127.0.0.1", port), timeout=10) for _ in range(100)]
    head = b"GET /stats HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"a" * 1000
    idle = socket.create_connection(("127.0.0.1", port), timeout=10)
    idle.sendall(b"GET /stats HTTP/1.1\r\nHost: x\r\n\r\n")
    assert idle.recv(4096).startswith(b"HTTP/1.1 200")  # then it stays silent
    served = 0
    began = time.monotonic()
    try:
        for at in range(16):  # 4 s: one byte every 0.25 s on every slow connection
            for sock in slow:
                with contextlib.suppress(OSError):
                    sock.send(head[at : at + 1])
            assert get(port, "/stats")[0] == 200
            served += 1
            time.sleep(0.25)
        assert time.monotonic() - began > 3.0
        held = [s for s in slow if not closed(s)]
        assert held == [], f"{len(held)} of {len(slow)} slow connections still open"
        assert closed(idle)  # the keep-alive idle timeout
        assert served == 16
    finally:
        for sock in [*slow, idle]:
            sock.close()
    about = [line for line in node_log(script).splitlines() if "request head took over" in line]
    assert 1 <= len(about) <= 2, about
