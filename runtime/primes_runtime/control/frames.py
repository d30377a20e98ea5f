"""Length-prefixed JSON frames: a 4-byte big-endian length, then that many bytes of UTF-8 JSON."""

from __future__ import annotations

import json
import re
import socket
import struct
import time

from primes_runtime.control.errors import FrameError

MAX_FRAME = 16 * 1024 * 1024
"""The largest frame body either side sends or accepts, in bytes."""

MAX_DEPTH = 64
"""How deeply arrays and objects may nest in a frame either side accepts."""

HEADER = struct.Struct(">I")
_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"')
_BRACKET = re.compile(r"[\[\]{}]")

Message = dict[str, object]


CHUNK = 256
"""Items of a list one json.dumps call encodes (see `dumps`)."""


def encode(message: Message, limit: int = MAX_FRAME) -> bytes:
    """The frame for `message` (a JSON object); FrameError if it is larger than `limit`."""
    return pack(body(message, limit))


def body(message: Message, limit: int = MAX_FRAME) -> bytes:
    """The UTF-8 JSON of `message`; FrameError if it is larger than `limit`."""
    data = dumps(message).encode("utf-8")
    if len(data) > limit:
        raise FrameError(f"message of {len(data)} bytes is over the {limit}-byte frame limit")
    return data


def pack(data: bytes) -> bytes:
    """`data` behind its 4-byte length."""
    return HEADER.pack(len(data)) + data


def dumps(value: object) -> str:
    """Compact JSON of `value`, the same text json.dumps gives, made in pieces.

    One json.dumps call holds the GIL until it returns: 30 ms for an upgrade report of
    10,000 pauses, during which no other thread of the node serves. Lists longer than CHUNK
    are encoded CHUNK items at a time, so other threads run in between.
    """
    if (
        isinstance(value, dict)
        and all(type(k) is str for k in value)
        and any(isinstance(v, dict | list) for v in value.values())
    ):
        items = (f"{_dump(k)}:{dumps(v)}" for k, v in value.items())
        return "{" + ",".join(items) + "}"
    if isinstance(value, list) and len(value) > CHUNK:
        parts = (_dump(value[i : i + CHUNK])[1:-1] for i in range(0, len(value), CHUNK))
        return "[" + ",".join(parts) + "]"
    return _dump(value)


def _dump(value: object) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def decode(body: bytes, depth: int = MAX_DEPTH) -> Message:
    """The JSON object a frame body holds; FrameError for anything else or nesting past `depth`."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise FrameError(f"frame is not UTF-8 JSON ({exc})") from None
    if _nesting(text) > depth:
        raise FrameError(f"frame nests arrays or objects deeper than {depth} levels")
    try:
        value = json.loads(text)
    except (json.JSONDecodeError, RecursionError) as exc:
        raise FrameError(f"frame is not UTF-8 JSON ({exc})") from None
    if not isinstance(value, dict):
        raise FrameError(f"frame holds a JSON {type(value).__name__}, not an object")
    return value


def _nesting(text: str) -> int:
    """The deepest nesting of [ and { in JSON text, strings not counted."""
    deepest = level = 0
    for match in _BRACKET.finditer(_STRING.sub("", text)):
        level += 1 if match.group() in "[{" else -1
        deepest = max(deepest, level)
    return deepest


def send(
    sock: socket.socket, message: Message, limit: int = MAX_FRAME, deadline: float | None = None
) -> None:
    """Write one frame; TimeoutError once time.monotonic() passes `deadline`."""
    _arm(sock, deadline)
    sock.sendall(encode(message, limit))


def recv(
    sock: socket.socket,
    limit: int = MAX_FRAME,
    deadline: float | None = None,
    depth: int = MAX_DEPTH,
) -> Message | None:
    """Read one frame; None when the peer closed cleanly between frames.

    With a `deadline` (a time.monotonic() value) the whole frame must arrive by then, however
    the peer spaces its bytes; past it TimeoutError.
    """
    data = recv_body(sock, limit, deadline)
    return None if data is None else decode(data, depth)


def recv_body(
    sock: socket.socket, limit: int = MAX_FRAME, deadline: float | None = None
) -> bytes | None:
    """Read one frame's bytes, not decoded; None when the peer closed cleanly between frames."""
    header = _recv_exactly(sock, HEADER.size, eof_ok=True, deadline=deadline)
    if header is None:
        return None
    (size,) = HEADER.unpack(header)
    if size > limit:
        raise FrameError(f"frame announces {size} bytes, over the {limit}-byte limit")
    data = _recv_exactly(sock, size, eof_ok=False, deadline=deadline)
    assert data is not None
    return data


def _arm(sock: socket.socket, deadline: float | None) -> None:
    """Set the socket's timeout to what is left until `deadline` (if any)."""
    if deadline is None:
        return
    left = deadline - time.monotonic()
    if left <= 0:
        raise TimeoutError("the deadline passed")
    sock.settimeout(left)


def _recv_exactly(
    sock: socket.socket, size: int, *, eof_ok: bool, deadline: float | None
) -> bytes | None:
    chunks: list[bytes] = []
    missing = size
    while missing:
        _arm(sock, deadline)
        chunk = sock.recv(min(missing, 1 << 20))
        if not chunk:
            if eof_ok and missing == size:
                return None
            raise FrameError(f"connection closed {size - missing} bytes into a {size}-byte read")
        chunks.append(chunk)
        missing -= len(chunk)
    return b"".join(chunks)
