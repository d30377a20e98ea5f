"""Challenge-response over a fresh connection: both sides prove they know the cookie, never send it.

The server sends a random nonce; the client answers HMAC-SHA256(cookie, "client" + server nonce
+ client nonce) with its own nonce; the server checks it in constant time and answers
HMAC-SHA256(cookie, "server" + client nonce + server nonce), which the client checks the same
way. The labels keep one side's answer from being replayed as the other's. Both sides then
hold a session key, HMAC-SHA256(cookie, "session" + server nonce + client nonce), which seals
every later frame (sealed.py).
"""

from __future__ import annotations

import hashlib
import hmac
import os
import socket

from primes_runtime.control import frames
from primes_runtime.control.errors import AuthError, FrameError

PROTOCOL = "primes-control/2"
NONCE_BYTES = 32


def proof(cookie: str, label: bytes, first: bytes, second: bytes) -> bytes:
    """HMAC-SHA256 keyed with the cookie over label + first nonce + second nonce."""
    return hmac.new(cookie.encode("utf-8"), label + first + second, hashlib.sha256).digest()


def session_key(cookie: str, server_nonce: bytes, client_nonce: bytes) -> bytes:
    """The key that seals the frames after this handshake (sealed.py)."""
    return proof(cookie, b"session", server_nonce, client_nonce)


def server_handshake(
    sock: socket.socket, cookie: str, deadline: float | None = None, depth: int = frames.MAX_DEPTH
) -> bytes:
    """Challenge a client; the session key, or AuthError (after telling it) if it does not
    know the cookie.

    The whole exchange must finish by `deadline` (time.monotonic()), else TimeoutError.
    """
    server_nonce = os.urandom(NONCE_BYTES)  # what secrets.token_bytes does
    frames.send(sock, {"protocol": PROTOCOL, "nonce": server_nonce.hex()}, deadline=deadline)
    answer = frames.recv(sock, limit=4096, deadline=deadline, depth=depth)
    if answer is None:
        raise FrameError("client closed the connection during the handshake")
    client_nonce = _hex_field(answer, "nonce")
    given = _hex_field(answer, "proof")
    if len(client_nonce) < 16:
        raise FrameError("client nonce is shorter than 16 bytes")
    expected = proof(cookie, b"client", server_nonce, client_nonce)
    if not hmac.compare_digest(expected, given):
        frames.send(sock, {"ok": False, "error": "the node refused the cookie"}, deadline=deadline)
        raise AuthError("a client gave a wrong cookie")
    answer_proof = proof(cookie, b"server", client_nonce, server_nonce)
    frames.send(sock, {"ok": True, "proof": answer_proof.hex()}, deadline=deadline)
    return session_key(cookie, server_nonce, client_nonce)


def client_handshake(sock: socket.socket, cookie: str) -> bytes:
    """Answer the node's challenge and check its proof; the session key, or AuthError on a
    wrong cookie either side."""
    hello = frames.recv(sock, limit=4096)
    if hello is None:
        raise FrameError("the node closed the connection before the handshake")
    if hello.get("protocol") != PROTOCOL:
        raise FrameError(f"the socket does not speak {PROTOCOL}")
    server_nonce = _hex_field(hello, "nonce")
    client_nonce = os.urandom(NONCE_BYTES)  # what secrets.token_bytes does
    frames.send(
        sock,
        {
            "nonce": client_nonce.hex(),
            "proof": proof(cookie, b"client", server_nonce, client_nonce).hex(),
        },
    )
    verdict = frames.recv(sock, limit=4096)
    if verdict is None or verdict.get("ok") is not True:
        raise AuthError(
            "the node refused the cookie; pass the node's cookie with --cookie or PRIMES_COOKIE"
        )
    expected = proof(cookie, b"server", client_nonce, server_nonce)
    if not hmac.compare_digest(expected, _hex_field(verdict, "proof")):
        raise AuthError("the process on the socket does not know the cookie; it is not this node")
    return session_key(cookie, server_nonce, client_nonce)


def _hex_field(message: frames.Message, key: str) -> bytes:
    value = message.get(key)
    if not isinstance(value, str):
        raise FrameError(f"handshake frame has no string {key!r}")
    try:
        return bytes.fromhex(value)
    except ValueError:
        raise FrameError(f"handshake field {key!r} is not hex") from None
