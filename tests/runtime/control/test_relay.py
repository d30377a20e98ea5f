"""A relay swapped in for run/node.sock passes the handshake through and changes what follows:
every frame after the handshake is sealed with the session key, so the change is refused."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from .conftest import Script

RELAY = r"""
import os, select, socket, sys, threading

run, direction, log_path = sys.argv[1], sys.argv[2], sys.argv[3]
node_sock, real, mine = (os.path.join(run, n) for n in ("node.sock", "real.sock", "relay.sock"))
log = open(log_path, "a", buffering=1)


def swap():
    # The socket at node.sock (the node's) moves to real.sock; the relay's takes its place.
    if os.path.exists(mine):
        os.unlink(mine)
    listener = socket.socket(socket.AF_UNIX)
    listener.bind(mine)
    listener.listen(16)
    os.rename(node_sock, real)
    os.rename(mine, node_sock)
    return listener, os.stat(node_sock).st_ino


def pump(src, dst, alter):
    while data := src.recv(65536):
        if alter and b"world" in data:
            data = data.replace(b"world", b"relay")
            log.write("altered\n")
        dst.sendall(data)
    dst.shutdown(socket.SHUT_WR)


listener, inode = swap()
print("ready", flush=True)
while True:
    try:
        if os.stat(node_sock).st_ino != inode:  # the node bound its socket again: swap again
            listener.close()
            listener, inode = swap()
    except FileNotFoundError:
        pass
    if select.select([listener], [], [], 0.005)[0]:
        client, _ = listener.accept()
        upstream = socket.socket(socket.AF_UNIX)
        upstream.connect(real)
        log.write("relayed\n")
        for src, dst, alter in ((client, upstream, direction == "request"),
                                (upstream, client, direction == "reply")):
            threading.Thread(target=pump, args=(src, dst, alter), daemon=True).start()
"""


@dataclass(frozen=True)
class Relay:
    """The relay process and the file where it logs each connection relayed, frame altered."""

    proc: subprocess.Popen[str]
    log: Path

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(10)


@pytest.fixture
def relay(running: Script, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Relay]:
    """The relay on the node's run/node.sock, altering frames going `request.param`."""
    log = tmp_path / "relay.log"
    log.touch()
    argv = [sys.executable, "-c", RELAY, str(running.root / "run"), request.param, str(log)]
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None and proc.stdout.readline() == "ready\n"
        yield Relay(proc, log)
    finally:
        if proc.poll() is None:
            Relay(proc, log).stop()


def through_relay(script: Script, log: Path) -> subprocess.CompletedProcess[str]:
    """`rpc demo_api greet 'world'` until a run went through the relay (the node rebinds
    its socket each second, so a run may reach it directly before the relay swaps again)."""
    for _ in range(20):
        before = log.read_text().count("relayed")
        result = script.run("rpc", "demo_api", "greet", "'world'")
        if log.read_text().count("relayed") > before:
            return result
    raise AssertionError("no command went through the relay")


@pytest.mark.parametrize("relay", ["request", "reply"], indirect=True)
def test_a_relay_on_the_socket_that_changes_a_frame_is_refused_and_the_node_serves_on(
    running: Script, relay: Relay
) -> None:
    result = through_relay(running, relay.log)
    assert "altered" in relay.log.read_text()
    assert "hello relay" not in result.stdout
    assert result.returncode == 1, result
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert result.stderr.startswith("primenode: ")
    assert "something between the client and the node altered it" in result.stderr
    relay.stop()
    deadline = time.monotonic() + 10
    while (pong := running.run("ping")).stdout != "pong\n":  # the node takes its socket back
        assert time.monotonic() < deadline, pong
        time.sleep(0.2)
    assert running.ok("rpc", "demo_api", "greet", "'world'") == "hello world\n"
