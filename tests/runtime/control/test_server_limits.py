"""Strangers on the control socket, attacked through a node started with bin/primenode."""

from __future__ import annotations

import contextlib
import json
import shutil
import socket
import struct
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from primes_runtime.control import frames
from primes_runtime.control.client import Client
from primes_runtime.control.errors import ControlError
from primes_runtime.control.tree import Tree

from .conftest import Script, build_tree


def with_control(root: Path, table: str) -> None:
    """Append a [control] table to release 1's node.toml."""
    toml = root / "releases" / "1" / "node.toml"
    toml.write_text(toml.read_text() + "\n[control]\n" + table)


@contextlib.contextmanager
def started(script: Script, *prefix: str) -> Iterator[Script]:
    """Start the node (through `prefix`, e.g. prlimit) and stop it afterwards."""
    result = (
        script.run(*prefix, str(script.path), "start", script=Path(prefix[0]))
        if prefix
        else (script.run("start"))
    )
    assert result.returncode == 0, (result.stdout, result.stderr)
    try:
        yield script
    finally:
        script.run("stop")


def logs(root: Path) -> str:
    return "".join(p.read_text() for p in (root / "log").glob("*.log"))


def raw(root: Path) -> socket.socket:
    """A connection to the node's socket that has read the node's hello."""
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(30)
    sock.connect(str(root / "run" / "node.sock"))
    assert frames.recv(sock, limit=4096) is not None
    return sock


def closed_by_node(sock: socket.socket) -> bool:
    try:
        return sock.recv(4096) == b""
    except ConnectionResetError:
        return True


def test_a_stranger_trickling_a_byte_a_second_is_cut_off_at_the_total_handshake_deadline(
    tmp_path: Path,
) -> None:
    root = build_tree(tmp_path / "srv" / "primenode")
    with_control(root, "handshake_timeout = 2\n")
    with started(Script(root)) as node:
        sock = raw(root)
        began = time.monotonic()
        header = struct.pack(">I", 200)
        cut = False
        for index in range(12):
            try:
                sock.send(header[index : index + 1] if index < 4 else b" ")
            except OSError:
                cut = True
                break
            time.sleep(1.0)
        took = time.monotonic() - began
        cut = cut or closed_by_node(sock)
        sock.close()
        assert cut, "the node kept a connection that trickled bytes for 12 s"
        assert took < 6.0, f"the connection lasted {took:.1f}s against a 2s handshake deadline"
        assert node.ok("ping") == "pong\n"
        assert "did not log in within 2s" in logs(root)


def test_past_1018_strangers_the_owner_still_gets_ping_and_rpc_under_a_1024_fd_limit(
    tmp_path: Path,
) -> None:
    prlimit = shutil.which("prlimit")
    assert prlimit is not None, "the test needs util-linux prlimit"
    root = build_tree(tmp_path / "srv" / "primenode")
    strangers: list[socket.socket] = []
    with started(Script(root), prlimit, "--nofile=1024:1024") as node:
        give_up = time.monotonic() + 30
        try:
            while len(strangers) < 1018 and time.monotonic() < give_up:
                sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                sock.settimeout(1)
                try:
                    sock.connect(str(root / "run" / "node.sock"))
                    sock.send(b"\x00")
                except BlockingIOError:
                    sock.close()
                    time.sleep(0.01)
                    continue
                strangers.append(sock)
            assert len(strangers) == 1018
            assert node.ok("ping", timeout=60) == "pong\n"
            assert node.ok("rpc", "demo_api", "add", "2", "40", timeout=60) == "42\n"
        finally:
            for sock in strangers:
                sock.close()
        assert "Traceback" not in logs(root)


def test_a_logged_in_connection_that_stays_silent_is_closed_after_the_idle_timeout(
    tmp_path: Path,
) -> None:
    root = build_tree(tmp_path / "srv" / "primenode")
    with_control(root, "idle_timeout = 1\n")
    with started(Script(root)):
        cookie = (root / "run" / "cookie").read_text().strip()
        with Client.connect(Tree(root), cookie, timeout=10) as client:
            assert client.request("ping").value == "pong"
            began = time.monotonic()
            while "idle for 1s" not in logs(root) and time.monotonic() - began < 60:
                time.sleep(0.1)
            assert time.monotonic() - began >= 0.9
            with pytest.raises(ControlError):
                client.request("ping")
        with Client.connect(Tree(root), cookie, timeout=10) as client:
            assert client.request("ping").value == "pong"


def test_deeply_nested_json_before_login_closes_that_connection_without_a_traceback(
    tmp_path: Path,
) -> None:
    root = build_tree(tmp_path / "srv" / "primenode")
    with started(Script(root)) as node:
        sock = raw(root)
        body = b"[" * 3000 + b"]" * 1000
        sock.sendall(struct.pack(">I", len(body)) + body)
        assert closed_by_node(sock)
        sock.close()
        assert node.ok("ping") == "pong\n"
        text = logs(root)
        assert "Traceback" not in text and "RecursionError" not in text
        assert "deeper than 64 levels" in text


def test_a_bad_control_setting_stops_start_with_one_line_naming_the_key(tmp_path: Path) -> None:
    root = build_tree(tmp_path / "srv" / "primenode")
    with_control(root, "max_pending = -3\n")
    result = Script(root).run("start")
    assert result.returncode != 0
    assert "control.max_pending must be a positive integer" in result.stderr
    assert "Traceback" not in result.stderr
    assert json.loads((root / "releases" / "RELEASES").read_text())["releases"]
