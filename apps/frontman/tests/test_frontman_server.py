"""frontman's HTTP server: JSON answers, slow clients dropped, the socket kept across upgrades."""

from __future__ import annotations

import json
import socket
import sys
import threading
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from http.server import ThreadingHTTPServer
from pathlib import Path
from types import ModuleType, SimpleNamespace
from typing import cast

import frontman
import primes_runtime.node
import pytest
from frontman import server
from frontman.errors import FrontmanError
from primes_runtime import NoProcess, StartError, code_server, stop, whereis
from primes_runtime.system import change_code, resume, suspend

pytestmark = pytest.mark.usefixtures("node")

TIMEOUT = 10.0  # seconds a test waits for anything; generous, for noisy CI machines
SEVEN = {"largest_prime": 17, "count": 7}


def get(port: int, path: str = "/", method: str = "GET") -> tuple[int, dict[str, object]]:
    """Status and JSON body of one request to frontman."""
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", method=method)
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as e:
        with e:
            return e.code, json.loads(e.read())


def raw(port: int, data: bytes) -> tuple[bytes, dict[str, object]]:
    """Send raw bytes; the status line and JSON body of the answer."""
    with socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT) as conn:
        conn.sendall(data)
        answer = b""
        while chunk := conn.recv(4096):
            answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    return head.split(b"\r\n")[0], json.loads(body)


@pytest.fixture
def port() -> Iterator[int]:
    """frontman's server on a free port, with nothing to ask."""
    pid = server.start_link({"port": 0, "request_timeout": 0.5})
    yield frontman.port()
    stop(pid)


def fake_pm(stats: Callable[..., dict[str, int]]) -> ModuleType:
    """A stand-in for prime_miner's `pm` module (frontman installs and tests without it)."""
    module = ModuleType("pm")
    module.stats = stats  # type: ignore[attr-defined]
    return module


@pytest.fixture
def miner(monkeypatch: pytest.MonkeyPatch) -> None:
    """A miner that knows the seed and 17."""
    monkeypatch.setitem(sys.modules, "pm", fake_pm(lambda timeout=5.0: SEVEN))


def not_running(timeout: float = 5.0) -> dict[str, int]:
    raise NoProcess("no process registered as 'prime_miner'")


def test_get_root_answers_the_largest_prime_the_count_and_the_release(
    miner: None, port: int
) -> None:
    assert get(port) == (200, {"largest_prime": 17, "count": 7, "release": None})


def test_get_root_reports_the_release_the_node_runs_now(
    miner: None, port: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(primes_runtime.node, "current", lambda: SimpleNamespace(release="2"))
    assert get(port)[1]["release"] == "2"


def test_get_root_says_503_in_json_when_the_miner_is_not_running(
    port: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "pm", fake_pm(not_running))
    status, body = get(port)
    assert status == 503
    assert "the miner is not answering" in str(body["error"])


def test_get_root_says_503_in_json_when_prime_miner_is_not_installed(
    port: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "pm", None)  # makes `import pm` fail
    status, body = get(port)
    assert status == 503
    assert "pm" in str(body["error"])


def test_other_paths_are_404_in_json(port: int) -> None:
    assert get(port, "/primes") == (404, {"error": "not found", "path": "/primes"})


def test_other_methods_on_root_are_405_in_json(port: int) -> None:
    assert get(port, "/", method="POST") == (405, {"error": "use GET", "path": "/"})


def test_a_malformed_request_line_gets_a_json_400(port: int) -> None:
    status_line, body = raw(port, b"GET / and more HTTP/1.0\r\n\r\n")
    assert status_line.startswith(b"HTTP/1.0 400")
    assert "error" in body


def test_an_unknown_method_gets_a_json_501(port: int) -> None:
    status_line, body = raw(port, b"BREW / HTTP/1.0\r\n\r\n")
    assert status_line.startswith(b"HTTP/1.0 501")
    assert "BREW" in str(body["error"])


def test_a_client_too_slow_to_send_its_request_is_dropped_without_blocking_others(
    port: int,
) -> None:
    with socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT) as slow:
        slow.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n")  # and never the blank line
        assert get(port, "/nowhere")[0] == 404
        assert slow.recv(4096) == b""  # the server hung up after request_timeout (0.5 s)


def test_port_zero_picks_a_free_port_that_rpc_reports(port: int) -> None:
    assert 0 < port < 65536
    with socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT):
        pass


def test_a_port_in_use_fails_the_start_with_one_clear_line() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        busy = taken.getsockname()[1]
        with pytest.raises(StartError) as caught:
            server.start_link({"port": busy})
    cause = caught.value.__cause__
    assert isinstance(cause, FrontmanError)
    assert f"cannot listen on 127.0.0.1:{busy}" in str(cause)
    assert "[node.env.frontman] port" in str(cause)


def test_a_port_that_is_not_a_number_fails_the_start_naming_the_setting() -> None:
    with pytest.raises(StartError) as caught:
        server.start_link({"port": "eighty"})
    assert "[node.env.frontman] port" in str(caught.value.__cause__)


def new_code(tmp_path: Path) -> Path:
    """A code dir with frontman's server unchanged and a handler that says it is new."""
    source = Path(server.__file__).parent
    (tmp_path / "frontman").mkdir()
    (tmp_path / "frontman" / "server.py").write_text((source / "server.py").read_text())
    handler = (source / "handler.py").read_text()
    marked = handler.replace('"release": running_release(),', '"release": "new code",')
    assert marked != handler
    (tmp_path / "frontman" / "handler.py").write_text(marked)
    return tmp_path


def test_an_upgrade_keeps_the_socket_and_applies_new_handler_code_without_a_refusal(
    miner: None, port: int, tmp_path: Path
) -> None:
    code = new_code(tmp_path)
    outcomes: list[object] = []
    answered, new_code_answered, done = threading.Event(), threading.Event(), threading.Event()

    def poll() -> None:
        while not done.is_set():
            try:
                release = get(port)[1]["release"]
            except Exception as e:
                release = e
            outcomes.append(release)
            answered.set()
            if release == "new code":
                new_code_answered.set()

    pid = whereis(frontman.SERVER)
    assert pid is not None
    poller = threading.Thread(target=poll)
    poller.start()
    undo = []
    try:
        assert answered.wait(TIMEOUT)
        suspend(pid, 5.0)
        for name in ("frontman.handler", "frontman.server"):
            undo.append(code_server.install(code_server.prepare(name, code)))
        change_code(pid, code_server.current("frontman.server"), "1", None)
        resume(pid)
        assert new_code_answered.wait(TIMEOUT), "the new handler never answered"
        assert frontman.port() == port
    finally:
        done.set()
        poller.join()
        for u in reversed(undo):
            u.undo()
    assert [o for o in outcomes if isinstance(o, Exception)] == []
    assert outcomes[0] is None and outcomes[-1] == "new code"


def refused(port: int) -> bool:
    """True if nothing listens on 127.0.0.1:`port` any more."""
    try:
        socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT).close()
    except ConnectionRefusedError:
        return True
    return False


def test_stopping_the_server_ends_its_serving_thread_and_frees_the_port() -> None:
    pid = server.start_link({"port": 0})
    port = frontman.port()
    thread = next(t for t in threading.enumerate() if t.name == "frontman-http")
    stop(pid)
    thread.join(TIMEOUT)
    assert not thread.is_alive()
    assert refused(port)


def test_terminate_also_stops_a_listener_an_older_frontman_started() -> None:
    # An older Listener: a plain threading HTTP server whose loop polls, with no stop().
    listener = ThreadingHTTPServer(("127.0.0.1", 0), server.Dispatch)
    port = listener.server_address[1]
    thread = threading.Thread(target=listener.serve_forever, args=(0.1,), daemon=True)
    thread.start()
    old = cast(server.Listener, listener)
    server.terminate("shutdown", server.ServerState(listener=old, thread=thread))
    assert not thread.is_alive()
    assert refused(port)


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
    pid = server.start_link({"port": 0})
    stop(pid)
    assert backlogs == [socket.SOMAXCONN]
