"""Length-prefixed JSON frames: a 4-byte big-endian length, then that many bytes of UTF-8 JSON."""

from __future__ import annotations

import json
import socket
import struct

from primes_runtime.control.errors import FrameError

MAX_FRAME = 16 * 1024 * 1024
"""The largest frame body either side sends or accepts, in bytes."""

HEADER = struct.Struct(">I")

Message = dict[str, object]


def encode(message: Message, limit: int = MAX_FRAME) -> bytes:
    """The frame for `message` (a JSON object); FrameError if it is larger than `limit`."""
    body = json.dumps(message, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    if len(body) > limit:
        raise FrameError(f"message of {len(body)} bytes is over the {limit}-byte frame limit")
    return HEADER.pack(len(body)) + body


def decode(body: bytes) -> Message:
    """The JSON object a frame body holds; FrameError for anything else."""
    try:
        value = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise FrameError(f"frame is not UTF-8 JSON ({exc})") from None
    if not isinstance(value, dict):
        raise FrameError(f"frame holds a JSON {type(value).__name__}, not an object")
    return value


def send(sock: socket.socket, message: Message, limit: int = MAX_FRAME) -> None:
    """Write one frame."""
    sock.sendall(encode(message, limit))


def recv(sock: socket.socket, limit: int = MAX_FRAME) -> Message | None:
    """Read one frame; None when the peer closed cleanly between frames."""
    header = _recv_exactly(sock, HEADER.size, eof_ok=True)
    if header is None:
        return None
    (size,) = HEADER.unpack(header)
    if size > limit:
        raise FrameError(f"frame announces {size} bytes, over the {limit}-byte limit")
    body = _recv_exactly(sock, size, eof_ok=False)
    assert body is not None
    return decode(body)


def _recv_exactly(sock: socket.socket, size: int, *, eof_ok: bool) -> bytes | None:
    chunks: list[bytes] = []
    missing = size
    while missing:
        chunk = sock.recv(min(missing, 1 << 20))
        if not chunk:
            if eof_ok and missing == size:
                return None
            raise FrameError(f"connection closed {size - missing} bytes into a {size}-byte read")
        chunks.append(chunk)
        missing -= len(chunk)
    return b"".join(chunks)
