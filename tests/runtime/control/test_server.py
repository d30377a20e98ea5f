"""The node's control server, driven in-process with a stand-in node."""

from __future__ import annotations

import logging
import os
import socket
import stat
import struct
from collections.abc import Iterator
from pathlib import Path

import pytest
from primes_runtime.control import frames
from primes_runtime.control.client import Client, RemoteError
from primes_runtime.control.errors import AuthError, ControlError, NotRunning
from primes_runtime.control.tree import Tree, connect
from primes_runtime.service import server

from .conftest import build_tree
from .fakenode import FakeNode


@pytest.fixture
def node(tree: Path) -> Iterator[FakeNode]:
    fake = FakeNode(tree)
    server.start(fake)
    try:
        yield fake
    finally:
        fake.shutdown(1.0)


def cookie_of(root: Path) -> str:
    return (root / "run" / "cookie").read_text().strip()


def connect_client(root: Path) -> Client:
    return Client.connect(Tree(root), cookie_of(root), timeout=10)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_run_dir_socket_and_cookie_are_open_to_the_owner_only(node: FakeNode) -> None:
    run = node.root / "run"
    assert mode(run) == 0o700
    assert mode(run / "node.sock") == 0o600
    assert mode(run / "cookie") == 0o600
    assert len(cookie_of(node.root)) >= 32


def test_a_client_with_the_cookie_gets_pong(node: FakeNode) -> None:
    with connect_client(node.root) as client:
        assert client.request("ping").value == "pong"
        assert client.request("pid").value == os.getpid()


def test_a_cookie_set_in_node_toml_is_used_and_no_cookie_file_is_written(tmp_path: Path) -> None:
    root = build_tree(tmp_path / "t", cookie="configured-cookie")
    fake = FakeNode(root)
    server.start(fake)
    try:
        assert not (root / "run" / "cookie").exists()
        with Client.connect(Tree(root), "configured-cookie") as client:
            assert client.request("ping").value == "pong"
    finally:
        fake.shutdown(1.0)


def test_a_wrong_cookie_is_refused_and_logged_and_the_node_keeps_serving(
    node: FakeNode, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="primes_runtime.control"):
        with pytest.raises(AuthError, match="refused the cookie"):
            Client.connect(Tree(node.root), "not-the-cookie")
        with connect_client(node.root) as client:
            assert client.request("ping").value == "pong"
    assert "wrong cookie" in caplog.text


def raw(root: Path) -> socket.socket:
    sock = connect(root / "run" / "node.sock", timeout=10)
    return sock


def closed_by_peer(sock: socket.socket) -> bool:
    """True once the peer has closed (reads drain to EOF)."""
    while True:
        try:
            data = sock.recv(65536)
        except ConnectionResetError:
            return True
        if not data:
            return True


def test_garbage_before_the_handshake_closes_only_that_connection(node: FakeNode) -> None:
    with raw(node.root) as sock:
        assert frames.recv(sock) is not None  # the challenge
        sock.sendall(b"\x00\x00\x00\x05hello")
        assert closed_by_peer(sock)
    with connect_client(node.root) as client:
        assert client.request("ping").value == "pong"


def test_an_oversize_frame_after_login_closes_only_that_connection(node: FakeNode) -> None:
    with connect_client(node.root) as victim, connect_client(node.root) as bystander:
        victim._sock.sendall(struct.pack(">I", frames.MAX_FRAME + 1))
        assert closed_by_peer(victim._sock)
        assert bystander.request("ping").value == "pong"


def test_a_garbage_frame_after_login_closes_only_that_connection(node: FakeNode) -> None:
    with connect_client(node.root) as client:
        client._sock.sendall(struct.pack(">I", 4) + b"{{{{")
        assert closed_by_peer(client._sock)
    with connect_client(node.root) as client:
        assert client.request("ping").value == "pong"


def test_an_unknown_operation_is_an_error_reply_not_a_closed_connection(node: FakeNode) -> None:
    with connect_client(node.root) as client:
        with pytest.raises(RemoteError, match="unknown operation 'dance'"):
            client.request("dance")
        assert client.request("ping").value == "pong"


def test_eval_prints_output_and_the_trailing_expression(node: FakeNode) -> None:
    with connect_client(node.root) as client:
        answer = client.request("eval", code="x = 6\nprint('side', x)\nx * 7")
    assert answer.out == "side 6\n"
    assert answer.value == "42"


def test_eval_that_raises_answers_one_line_and_the_node_lives(node: FakeNode) -> None:
    with connect_client(node.root) as client:
        with pytest.raises(RemoteError) as info:
            client.request("eval", code="print('before')\n1 / 0")
        assert str(info.value) == "ZeroDivisionError: division by zero"
        assert info.value.out == "before\n"
        with pytest.raises(RemoteError, match="SyntaxError"):
            client.request("eval", code="def (")
        with pytest.raises(RemoteError, match="SystemExit"):
            client.request("eval", code="raise SystemExit(3)")
        assert client.request("ping").value == "pong"


def test_rpc_prints_strings_as_is_and_other_values_as_repr(node: FakeNode) -> None:
    with connect_client(node.root) as client:
        assert (
            client.request("rpc", module="os.path", function="join", args=["'a'", "'b'"]).value
            == "a/b"
        )
        answer = client.request("rpc", module="builtins", function="divmod", args=["7", "2"])
        assert answer.value == "(3, 1)"


def test_rpc_to_a_missing_module_or_function_is_a_clear_error(node: FakeNode) -> None:
    with connect_client(node.root) as client:
        with pytest.raises(RemoteError, match="No module named 'no_such_module'"):
            client.request("rpc", module="no_such_module", function="f", args=[])
        with pytest.raises(RemoteError, match="module 'os' has no function 'no_such_fn'"):
            client.request("rpc", module="os", function="no_such_fn", args=[])
        with pytest.raises(RemoteError, match=r"os\.sep is not callable"):
            client.request("rpc", module="os", function="sep", args=[])
        with pytest.raises(RemoteError, match="not a Python literal"):
            client.request("rpc", module="os", function="getcwd", args=["bare word"])


def test_the_console_keeps_its_namespace_for_the_connection(node: FakeNode) -> None:
    with connect_client(node.root) as client:
        client.request("console", source="counter = 41")
        assert client.request("console", source="counter + 1").out == "42\n"
        failing = client.request("console", source="undefined_name")
        assert "NameError" in failing.out
    with connect_client(node.root) as other:
        assert "NameError" in other.request("console", source="counter").out


def test_stop_answers_then_shuts_the_node_down(node: FakeNode) -> None:
    with connect_client(node.root) as client:
        assert client.request("stop").value == os.getpid()
    assert node.halted.wait(10)
    assert not (node.root / "run" / "node.sock").exists()


def test_shutdown_removes_the_socket_and_a_pid_file_naming_this_process(tree: Path) -> None:
    fake = FakeNode(tree)
    server.start(fake)
    (tree / "run" / "node.pid").write_text(f"{os.getpid()}\n")
    fake.shutdown(1.0)
    assert not (tree / "run" / "node.sock").exists()
    assert not (tree / "run" / "node.pid").exists()
    with pytest.raises(NotRunning, match="not running"):
        connect(tree / "run" / "node.sock")


def test_a_second_server_on_the_same_tree_is_refused(node: FakeNode) -> None:
    with pytest.raises(ControlError, match="another node already answers"):
        server.start(FakeNode(node.root))
    with connect_client(node.root) as client:
        assert client.request("ping").value == "pong"


def test_a_stale_socket_left_by_a_crash_is_replaced(tree: Path) -> None:
    run = tree / "run"
    run.mkdir(mode=0o700)
    stale = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    stale.bind(str(run / "node.sock"))
    stale.close()  # the file stays, nobody listens
    fake = FakeNode(tree)
    server.start(fake)
    try:
        with connect_client(tree) as client:
            assert client.request("ping").value == "pong"
    finally:
        fake.shutdown(1.0)


def test_a_socket_path_too_long_for_af_unix_is_reached_relative_to_the_tree(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = build_tree(tmp_path / ("deep" * 20) / "primenode")
    assert len(str(root / "run" / "node.sock")) > 108
    monkeypatch.chdir(root)  # the node runs with the tree root as its cwd
    fake = FakeNode(root)
    server.start(fake)
    try:
        monkeypatch.chdir(tmp_path)  # a client anywhere
        with connect_client(root) as client:
            assert client.request("ping").value == "pong"
    finally:
        fake.shutdown(1.0)


def listen_backlogs(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """The backlog of every socket.listen() call from here on."""
    backlogs: list[object] = []
    real = socket.socket.listen

    def listen(sock: socket.socket, *args: int) -> None:
        backlogs.append(args[0] if args else None)
        real(sock, *args)

    monkeypatch.setattr(socket.socket, "listen", listen)
    return backlogs


def test_the_control_socket_listens_with_the_systems_largest_backlog(
    tree: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    backlogs = listen_backlogs(monkeypatch)
    fake = FakeNode(tree)
    control = server.start(fake)
    try:
        (fake.root / "run" / "node.sock").unlink()
        control.ensure_socket()  # bound again, as after run/ was removed
    finally:
        fake.shutdown(1.0)
    assert len(backlogs) >= 2  # at start, and bound again (by this test or its watch)
    assert set(backlogs) == {socket.SOMAXCONN}
