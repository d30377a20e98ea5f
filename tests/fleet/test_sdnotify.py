"""bin/<name> foreground speaks systemd's notify protocol to a socket the test binds (e2e)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from primes_runtime.host import sdnotify

from tests.runtime.control.conftest import Script, build_tree, make_package

pytestmark = pytest.mark.e2e


def notify_socket(path: Path | None) -> tuple[socket.socket, str]:
    """A bound datagram socket and the NOTIFY_SOCKET value naming it (path or `@abstract`)."""
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    if path is None:
        name = f"primes-test-{uuid.uuid4().hex}"
        sock.bind(b"\0" + name.encode())
        value = "@" + name
    else:
        sock.bind(str(path))
        value = str(path)
    sock.settimeout(60)
    return sock, value


def messages(sock: socket.socket) -> dict[str, str]:
    """The next datagram, as its KEY=value lines."""
    data = sock.recv(4096).decode()
    return dict(line.split("=", 1) for line in data.splitlines() if "=" in line)


def foreground(root: Path, notify: str) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if k != "PRIMES_COOKIE"}
    env.update(NOTIFY_SOCKET=notify, PRIMES_PYTHON=sys.executable)
    return subprocess.Popen(
        [str(root / "bin" / "primenode"), "foreground"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.fixture
def tree(tmp_path: Path) -> Iterator[Path]:
    root = build_tree(tmp_path / "srv" / "primenode")
    yield root
    Script(root).run("stop")


@pytest.mark.parametrize("kind", ["path", "abstract"])
def test_foreground_says_ready_once_booted_and_stopping_on_sigterm_then_exits_0(
    tree: Path, tmp_path: Path, kind: str
) -> None:
    sock, value = notify_socket(tmp_path / "notify.sock" if kind == "path" else None)
    with sock:
        node = foreground(tree, value)
        try:
            ready = messages(sock)
            assert ready["READY"] == "1"
            assert ready["MAINPID"] == str(node.pid)  # the script exec'd into the node
            assert Script(tree).ok("ping").strip() == "pong"  # ready means serving
            node.send_signal(signal.SIGTERM)
            assert messages(sock)["STOPPING"] == "1"
            assert node.wait(60) == 0, node.stderr.read() if node.stderr else ""
        finally:
            if node.poll() is None:
                node.kill()
                node.wait()


def test_a_restart_under_the_unit_boots_the_permanent_release_of_a_hot_upgrade(
    tree: Path, tmp_path: Path
) -> None:
    sock, value = notify_socket(tmp_path / "notify.sock")
    script = Script(tree)
    with sock:
        node = foreground(tree, value)
        assert messages(sock)["READY"] == "1"
        script.ok("upgrade", str(make_package(tmp_path)))
        node.send_signal(signal.SIGTERM)
        assert messages(sock)["STOPPING"] == "1"
        assert node.wait(60) == 0
        again = foreground(tree, value)  # what systemd does on restart or at boot
        try:
            assert messages(sock)["STATUS"] == "release 2 running"
            assert script.ok("rpc", "demo_api", "version").strip() == "two"
        finally:
            again.send_signal(signal.SIGTERM)
            again.wait(60)


def test_notify_without_a_socket_is_a_no_op_and_a_dead_socket_is_not_an_error(
    tmp_path: Path,
) -> None:
    assert sdnotify.notify("READY=1", environ={}) is False
    assert sdnotify.notify("READY=1", environ={"NOTIFY_SOCKET": "vsock:2:1"}) is False
    gone = str(tmp_path / "nobody-listens.sock")
    assert sdnotify.notify("READY=1", environ={"NOTIFY_SOCKET": gone}) is False


def test_notify_sends_one_datagram_to_an_abstract_socket() -> None:
    sock, value = notify_socket(None)
    with sock:
        assert sdnotify.notify("READY=1\nSTATUS=x", environ={"NOTIFY_SOCKET": value}) is True
        assert messages(sock) == {"READY": "1", "STATUS": "x"}
