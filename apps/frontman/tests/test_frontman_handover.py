"""frontman's listening socket in a hand-over: paused with nothing refused, adopted by a
successor that serves on it once resumed."""

from __future__ import annotations

import os
import socket
import threading
from typing import cast

import frontman
from frontman import server
from primes_runtime import stop
from primes_runtime.node import Node

TIMEOUT = 10.0


def answer(conn: socket.socket) -> bytes:
    """Send a GET on `conn`; the status line of the answer."""
    conn.settimeout(TIMEOUT)
    conn.sendall(b"GET /nowhere HTTP/1.0\r\n\r\n")
    data = b""
    while b"\r\n" not in data:
        chunk = conn.recv(4096)
        assert chunk, "the connection closed without an answer"
        data += chunk
    return data.split(b"\r\n")[0]


def test_the_listener_is_registered_and_a_client_of_a_paused_one_is_served_at_resume(
    node: Node,
) -> None:
    pid = server.start_link({"port": 0})
    try:
        listener = node.listeners["frontman"]
        listener.pause(TIMEOUT)
        waiting = socket.create_connection(("127.0.0.1", frontman.port()), timeout=TIMEOUT)
        answered: list[bytes] = []
        reader = threading.Thread(target=lambda: answered.append(answer(waiting)))
        reader.start()
        reader.join(0.3)  # queued by the kernel, not accepted: no answer while paused
        assert answered == []
        listener.resume()
        reader.join(TIMEOUT)
        assert answered == [b"HTTP/1.0 404 Not Found"]
        waiting.close()
    finally:
        stop(pid)
    assert "frontman" not in node.listeners


def test_a_successor_serves_on_the_socket_it_was_handed_only_once_resumed(node: Node) -> None:
    handed = socket.create_server(("127.0.0.1", 0))
    port = handed.getsockname()[1]
    node.inherited, node.adopting = {"frontman": os.dup(handed.fileno())}, True
    handed.close()
    pid = server.start_link({"port": 12345})  # the predecessor's socket, not this port
    try:
        assert frontman.port() == port
        waiting = socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT)
        node.adopting = False
        node.listeners["frontman"].resume()
        assert answer(waiting) == b"HTTP/1.0 404 Not Found"
        waiting.close()
    finally:
        stop(pid)


def test_its_state_hands_nothing_over_the_socket_moves_as_a_listener() -> None:
    assert server.export_state(cast(server.ServerState, {})) is None
