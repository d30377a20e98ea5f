"""The cookie challenge-response: both sides prove the cookie, and it never crosses the wire."""

from __future__ import annotations

import socket
import threading

import pytest
from primes_runtime.control import auth
from primes_runtime.control.errors import AuthError


def run_server(sock: socket.socket, cookie: str, outcome: list[BaseException | None]) -> None:
    try:
        auth.server_handshake(sock, cookie)
        outcome.append(None)
    except BaseException as exc:  # handed to the test thread
        outcome.append(exc)


def relay(src: socket.socket, dst: socket.socket, seen: bytearray) -> None:
    while data := src.recv(65536):
        seen.extend(data)
        dst.sendall(data)
    dst.shutdown(socket.SHUT_WR)


def handshake(client_cookie: str, server_cookie: str) -> tuple[BaseException | None, bytes]:
    """Run both sides through a relay; (the server's outcome, every byte that crossed)."""
    client_end, relay_a = socket.socketpair()
    relay_b, server_end = socket.socketpair()
    for s in (client_end, relay_a, relay_b, server_end):
        s.settimeout(5)
    seen = bytearray()
    outcome: list[BaseException | None] = []
    threads = [
        threading.Thread(target=run_server, args=(server_end, server_cookie, outcome)),
        threading.Thread(target=relay, args=(relay_a, relay_b, seen)),
        threading.Thread(target=relay, args=(relay_b, relay_a, seen)),
    ]
    for t in threads:
        t.start()
    try:
        auth.client_handshake(client_end, client_cookie)
    finally:
        client_end.close()
        threads[0].join(5)
        server_end.close()
        for t in threads[1:]:
            t.join(5)
        relay_a.close()
        relay_b.close()
    return outcome[0], bytes(seen)


def test_a_client_with_the_right_cookie_is_accepted_without_sending_it() -> None:
    outcome, seen = handshake("s3cret-cookie", "s3cret-cookie")
    assert outcome is None
    assert b"s3cret-cookie" not in seen
    assert b"s3cret-cookie".hex().encode() not in seen


def test_a_client_with_a_wrong_cookie_is_refused_on_both_sides() -> None:
    with pytest.raises(AuthError, match="the node refused the cookie"):
        handshake("wrong", "right")


def test_the_server_side_reports_the_wrong_cookie() -> None:
    client_end, server_end = socket.socketpair()
    client_end.settimeout(5)
    server_end.settimeout(5)
    outcome: list[BaseException | None] = []
    server = threading.Thread(target=run_server, args=(server_end, "right", outcome))
    server.start()
    with pytest.raises(AuthError):
        auth.client_handshake(client_end, "wrong")
    server.join(5)
    client_end.close()
    server_end.close()
    assert isinstance(outcome[0], AuthError)


def test_proofs_differ_by_label_so_one_side_cannot_replay_the_other() -> None:
    a, b = b"a" * 32, b"b" * 32
    assert auth.proof("c", b"client", a, b) != auth.proof("c", b"server", a, b)
