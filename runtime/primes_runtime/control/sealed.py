"""Frames after the handshake, each sealed with an HMAC under the session key and its number.

Both sides derive the key from the handshake (auth.session_key: the cookie and both nonces),
so a process that only relays the handshake cannot compute it. Each frame body is a 32-byte
HMAC-SHA256 tag, then the JSON; the tag covers the direction, the frame's number in that
direction and the JSON. A relay can still cut the connection, but any change, reordering,
replay or reflection of a frame fails the check and ends the connection.
"""

from __future__ import annotations

import hashlib
import hmac
import socket
import struct

from primes_runtime.control import frames
from primes_runtime.control.errors import FrameError

TAG = 32
TO_NODE = b"to-node"
TO_CLIENT = b"to-client"
_NUMBER = struct.Struct(">Q")


class TamperedFrame(FrameError):
    """A frame failed its check against the session key: something between the ends changed it."""


class Sealed:
    """One side of an authenticated connection: sends and checks sealed frames, in order."""

    def __init__(self, sock: socket.socket, key: bytes, *, node: bool) -> None:
        self.sock = sock
        self._key = key
        self._out, self._in = (TO_CLIENT, TO_NODE) if node else (TO_NODE, TO_CLIENT)
        self._sent = 0
        self._received = 0

    def encode(self, message: frames.Message, limit: int = frames.MAX_FRAME) -> bytes:
        """The next frame to send for `message`; FrameError if it is larger than `limit`."""
        data = frames.body(message, limit - TAG)
        tag = self._tag(self._out, self._sent, data)
        self._sent += 1
        return frames.pack(tag + data)

    def send(self, message: frames.Message) -> None:
        self.sock.sendall(self.encode(message))

    def recv(
        self, limit: int = frames.MAX_FRAME, depth: int = frames.MAX_DEPTH
    ) -> frames.Message | None:
        """The next frame's message; None at a clean close; TamperedFrame if it fails the check."""
        data = frames.recv_body(self.sock, limit)
        if data is None:
            return None
        tag, body = data[:TAG], data[TAG:]
        if len(tag) < TAG or not hmac.compare_digest(
            tag, self._tag(self._in, self._received, body)
        ):
            raise TamperedFrame(
                "a frame failed its check against the session key: something between the "
                "client and the node altered it (is run/node.sock the node's own socket?)"
            )
        self._received += 1
        return frames.decode(body, depth)

    def _tag(self, direction: bytes, number: int, data: bytes) -> bytes:
        mac = hmac.new(self._key, direction, hashlib.sha256)
        mac.update(_NUMBER.pack(number))
        mac.update(data)
        return mac.digest()
