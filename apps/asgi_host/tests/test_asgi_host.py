"""asgi_host in a node: the app env's ASGI app served by uvicorn, looked up per request."""

from __future__ import annotations

import http.client
import socket
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from asgi_host import listener
from primes_runtime import StartError, call, code_server, stop
from primes_runtime.context import current_node
from primes_runtime.release.pauses import Pauses
from primes_runtime.release.reports import InstallReport

pytestmark = pytest.mark.usefixtures("node")

TIMEOUT = 10.0

WEB = """
import asyncio

VSN = "{vsn}"
gate = asyncio.Event()


async def app(scope, receive, send):
    path = scope["path"]
    if path == "/stream":
        upgraded = scope["extensions"]["primes.upgrade"]["upgraded"]
        await send({{"type": "http.response.start", "status": 200, "headers": []}})
        await send({{"type": "http.response.body", "body": b"hello " + VSN.encode() + b"\\n",
                    "more_body": True}})
        await upgraded.wait()
        await send({{"type": "http.response.body", "body": b"handover\\n"}})
        return
    if path == "/slow":
        await gate.wait()
    body = VSN.encode()
    await send({{"type": "http.response.start", "status": 200,
                "headers": [(b"content-length", str(len(body)).encode())]}})
    await send({{"type": "http.response.body", "body": body}})
"""


@pytest.fixture
def web(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """A module name (unique to the test) on sys.path, version 1, and a code dir of v2."""
    name = f"web_{abs(hash(tmp_path)) % 10**8}"
    v1, v2 = tmp_path / "v1", tmp_path / "v2"
    for where, vsn in ((v1, "v1"), (v2, "v2")):
        where.mkdir()
        (where / f"{name}.py").write_text(WEB.format(vsn=vsn), encoding="utf-8")
    sys.path.insert(0, str(v1))
    yield name, v2
    sys.path.remove(str(v1))
    sys.modules.pop(name, None)


@pytest.fixture
def served(web: tuple[str, Path]) -> Iterator[tuple[int, str, Path]]:
    """The listener serving the test's module; its port, the module name, the v2 dir."""
    name, v2 = web
    settings = {"app": f"{name}:app", "port": 0, "shutdown_timeout": 1.0, "handover_after": 0.0}
    pid = listener.start_link(settings)
    yield int(call(pid, "port")), name, v2  # type: ignore[call-overload]
    stop(pid, timeout=10)


def get(conn: http.client.HTTPConnection, path: str = "/") -> str:
    conn.request("GET", path)
    response = conn.getresponse()
    assert response.status == 200
    return response.read().decode()


def test_it_serves_the_app_named_in_its_settings(served: tuple[int, str, Path]) -> None:
    port, _, _ = served
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=TIMEOUT)
    assert get(conn) == "v1"


def test_after_an_upgrade_new_requests_run_new_code_on_the_same_keep_alive_connection(
    served: tuple[int, str, Path],
) -> None:
    port, name, v2 = served
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=TIMEOUT)
    assert get(conn) == "v1"
    before = conn.sock.getsockname()  # type: ignore[union-attr]
    undo = code_server.install(code_server.prepare(name, v2))
    try:
        assert get(conn) == "v2"
        assert conn.sock.getsockname() == before  # type: ignore[union-attr]
        fresh = http.client.HTTPConnection("127.0.0.1", port, timeout=TIMEOUT)
        assert get(fresh) == "v2"  # the listening socket is the same one
    finally:
        undo.undo()


def test_a_request_in_flight_during_an_upgrade_finishes_on_the_old_code(
    served: tuple[int, str, Path],
) -> None:
    port, name, v2 = served
    old = sys.modules[name]
    got: list[str] = []

    def slow() -> None:
        got.append(get(http.client.HTTPConnection("127.0.0.1", port, timeout=TIMEOUT), "/slow"))

    client = threading.Thread(target=slow)
    client.start()
    _wait_for(lambda: len(_dispatch().live) == 1)
    undo = code_server.install(code_server.prepare(name, v2))
    try:
        assert get(http.client.HTTPConnection("127.0.0.1", port, timeout=TIMEOUT)) == "v2"
        current_node().aio.loop.call_soon_threadsafe(old.gate.set)
        client.join(TIMEOUT)
        assert got == ["v1"]
    finally:
        undo.undo()


def test_a_stream_left_on_old_code_is_listed_and_handed_over_by_the_apps_hook(
    served: tuple[int, str, Path],
) -> None:
    port, name, v2 = served
    sock = socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT)
    sock.sendall(b"GET /stream HTTP/1.1\r\nHost: x\r\n\r\n")
    head = _read_until(sock, b"hello v1\n")
    assert b"200" in head.split(b"\r\n")[0]
    assert current_node().lingering_lines() == []
    undo = code_server.install(code_server.prepare(name, v2))
    try:
        lines = current_node().lingering_lines()
        assert len(lines) == 1
        assert lines[0].startswith("asgi_host: http /stream (old code, open ")
        _read_until(sock, b"handover\n")  # the app's hook ended it once told of the upgrade
        _wait_for(lambda: current_node().lingering_lines() == [])
    finally:
        sock.close()
        undo.undo()


def test_the_upgrade_report_hands_over_what_it_lists_and_status_does_not(
    web: tuple[str, Path],
) -> None:
    name, v2 = web
    settings = {"app": f"{name}:app", "shutdown_timeout": 1.0, "handover_after": 3600.0}
    pid = listener.start_link(settings)
    port = int(call(pid, "port"))  # type: ignore[call-overload]
    sock = socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT)
    sock.sendall(b"GET /stream HTTP/1.1\r\nHost: x\r\n\r\n")
    _read_until(sock, b"hello v1\n")
    undo = code_server.install(code_server.prepare(name, v2))
    try:
        node = current_node()
        assert len(node.lingering_lines()) == 1  # what status does: nothing is told
        sock.settimeout(0.3)
        with pytest.raises(TimeoutError):
            sock.recv(4096)
        sock.settimeout(TIMEOUT)
        assert len(node.lingering_lines(handover=True)) == 1  # what the upgrade report does
        _read_until(sock, b"handover\n")
    finally:
        sock.close()
        undo.undo()
        stop(pid, timeout=10)


def test_an_upgrade_report_lists_what_is_still_on_old_code() -> None:
    lingering = ("asgi_host: websocket /ws",)
    report = InstallReport("1", "2", "relup", "up", Pauses(), old_code=lingering)
    assert "  still on old code: asgi_host: websocket /ws" in report.summary().splitlines()
    assert InstallReport.from_data(report.to_data()) == report


def test_status_prints_and_reports_the_connections_on_old_code() -> None:
    from primes_runtime.cli.output import status_data, status_text

    value = {"name": "n", "old_code": ["asgi_host: http /events (old code, open 2.0 s)"]}
    assert "old code: asgi_host: http /events (old code, open 2.0 s)" in status_text(value, "n")
    assert status_data(value, "n")["old_code"] == value["old_code"]


def test_a_bad_app_spec_fails_the_start_with_what_to_set() -> None:
    with pytest.raises(StartError) as raised:
        listener.start_link({"app": "nocolon"})
    assert "asgi_host.app must be 'module:attribute' (got 'nocolon')" in str(raised.value.__cause__)


def test_an_app_module_that_does_not_exist_fails_the_start() -> None:
    with pytest.raises(StartError) as raised:
        listener.start_link({"app": "no_such_mod:app"})
    assert "asgi_host.app = 'no_such_mod:app': cannot import" in str(raised.value.__cause__)


def test_a_port_in_use_fails_the_start_with_the_key_to_change(web: tuple[str, Path]) -> None:
    name, _ = web
    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen()
    try:
        port = taken.getsockname()[1]
        with pytest.raises(StartError, match=rf"cannot listen on 127.0.0.1:{port} .*host/port"):
            listener.start_link({"app": f"{name}:app", "port": port})
    finally:
        taken.close()


def _dispatch() -> listener.Dispatch:
    proc = current_node().processes.lookup(listener.NAME)
    assert proc is not None
    state = proc.snapshot_state()
    assert isinstance(state, listener.State)
    return state.dispatch


def _wait_for(predicate: object, timeout: float = TIMEOUT) -> None:
    import time

    deadline = time.monotonic() + timeout
    while not predicate():  # type: ignore[operator]
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.005)


def _read_until(sock: socket.socket, marker: bytes) -> bytes:
    data = b""
    while marker not in data:
        chunk = sock.recv(4096)
        assert chunk, f"connection closed before {marker!r}: {data!r}"
        data += chunk
    return data


@pytest.mark.parametrize(
    ("key", "value", "says"),
    [
        ("max_connections", 0, "asgi_host.max_connections must be a positive integer (0)"),
        ("max_connections", "many", "asgi_host.max_connections must be a positive integer"),
        ("header_timeout", -1, "asgi_host.header_timeout must be a positive number (-1)"),
    ],
)
def test_a_bad_connection_limit_fails_the_start_naming_the_key(
    web: tuple[str, Path], key: str, value: object, says: str
) -> None:
    name, _ = web
    with pytest.raises(StartError) as raised:
        listener.start_link({"app": f"{name}:app", "handover_after": 0.0, key: value})
    assert says in str(raised.value.__cause__)


def test_past_the_cap_the_oldest_idle_connection_is_closed_and_with_none_idle_a_503(
    web: tuple[str, Path],
) -> None:
    name, _ = web
    settings = {"app": f"{name}:app", "max_connections": 2, "handover_after": 0.0}
    pid = listener.start_link({**settings, "shutdown_timeout": 1.0})
    port = int(call(pid, "port"))  # type: ignore[call-overload]
    old = sys.modules[name]
    try:
        idle = socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT)
        _wait_for(lambda: call(pid, "open_connections") == 1)
        busy = [http.client.HTTPConnection("127.0.0.1", port, timeout=TIMEOUT) for _ in range(2)]
        for conn in busy:
            conn.request("GET", "/slow")  # held at the gate: in the middle of a request
        assert idle.recv(1) == b""  # the idle one made room for the second busy one
        _wait_for(lambda: len(_dispatch().live) == 2)
        third = socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT)
        assert _read_until(third, b"\r\n\r\n").startswith(b"HTTP/1.1 503")
        current_node().aio.loop.call_soon_threadsafe(old.gate.set)
        assert [c.getresponse().status for c in busy] == [200, 200]
    finally:
        stop(pid, timeout=10)


def listen_backlogs(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """The backlog of every socket.listen() call from here on."""
    backlogs: list[object] = []
    real = socket.socket.listen

    def listen(sock: socket.socket, *args: int) -> None:
        backlogs.append(args[0] if args else None)
        real(sock, *args)

    monkeypatch.setattr(socket.socket, "listen", listen)
    return backlogs


def test_the_listening_socket_takes_the_systems_largest_backlog(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    backlogs = listen_backlogs(monkeypatch)
    listener.bind("127.0.0.1", 0).close()
    assert backlogs == [socket.SOMAXCONN]


def test_a_head_begun_before_the_idle_timeout_has_until_the_header_deadline_then_idle_again(
    web: tuple[str, Path],
) -> None:
    name, _ = web
    settings = {"app": f"{name}:app", "keep_alive": 0.3, "header_timeout": 1.5}
    pid = listener.start_link({**settings, "shutdown_timeout": 1.0, "handover_after": 0.0})
    port = int(call(pid, "port"))  # type: ignore[call-overload]
    try:
        sock = socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT)
        sock.sendall(b"GET / HTTP/1.1\r\n")
        threading.Event().wait(0.6)  # past the idle timeout, within the header deadline
        sock.sendall(b"host: x\r\n\r\n")
        assert _read_until(sock, b"v1").startswith(b"HTTP/1.1 200")
        assert sock.recv(1) == b""  # idle after its answer: closed at the idle timeout
    finally:
        stop(pid, timeout=10)
