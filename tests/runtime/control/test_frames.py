"""Length-prefixed JSON frames: round trip, limits and malformed input."""

from __future__ import annotations

import json
import socket
import struct

import pytest
from primes_runtime.control import frames
from primes_runtime.control.errors import FrameError
from primes_runtime.control.sealed import Sealed, TamperedFrame


def pair() -> tuple[socket.socket, socket.socket]:
    a, b = socket.socketpair()
    a.settimeout(5)
    b.settimeout(5)
    return a, b


def test_a_message_survives_the_round_trip() -> None:
    a, b = pair()
    with a, b:
        frames.send(a, {"op": "eval", "args": {"code": "é = 1"}})
        assert frames.recv(b) == {"op": "eval", "args": {"code": "é = 1"}}


def test_a_frame_is_a_big_endian_length_then_utf8_json() -> None:
    data = frames.encode({"a": 1})
    assert data == struct.pack(">I", 7) + b'{"a":1}'


def test_clean_close_between_frames_reads_as_none() -> None:
    a, b = pair()
    with b:
        a.close()
        assert frames.recv(b) is None


def test_encoding_over_the_limit_is_refused() -> None:
    with pytest.raises(FrameError, match="over the 10-byte frame limit"):
        frames.encode({"text": "x" * 20}, limit=10)


def test_an_announced_size_over_the_limit_is_refused_before_reading_it() -> None:
    a, b = pair()
    with a, b:
        a.sendall(struct.pack(">I", 1000))
        with pytest.raises(FrameError, match="over the 100-byte limit"):
            frames.recv(b, limit=100)


def test_a_body_that_is_not_json_is_refused() -> None:
    a, b = pair()
    with a, b:
        a.sendall(struct.pack(">I", 5) + b"\xff\xfe{{{")
        with pytest.raises(FrameError, match="not UTF-8 JSON"):
            frames.recv(b)


def test_a_body_that_is_not_an_object_is_refused() -> None:
    with pytest.raises(FrameError, match="JSON list, not an object"):
        frames.decode(b"[1, 2]")


def test_a_frame_cut_short_is_refused() -> None:
    a, b = pair()
    with b:
        a.sendall(struct.pack(">I", 50) + b'{"a":')
        a.close()
        with pytest.raises(FrameError, match="connection closed 5 bytes into a 50-byte read"):
            frames.recv(b)


def test_a_message_with_long_lists_encodes_to_the_same_text_as_one_json_dumps() -> None:
    pauses = [{"pid": f"<0.{i}>", "name": None, "module": "w", "ms": i / 7} for i in range(1000)]
    message = {
        "ok": True,
        "pauses": pauses,
        "nested": {"list": list(range(frames.CHUNK * 2 + 1)), "é": ["ü", 1.5, None]},
        "empty": [],
        "short": [1, [2, 3]],
        "odd": {1: "int key"},
    }
    expected = json.dumps(message, ensure_ascii=False, separators=(",", ":"))
    assert frames.dumps(message) == expected
    assert frames.decode(frames.encode(message)[frames.HEADER.size :]) == json.loads(expected)


def test_a_sealed_frame_replayed_reordered_or_sent_back_fails_its_check() -> None:
    a, b = socket.socketpair()
    with a, b:
        client, node = Sealed(a, b"k" * 32, node=False), Sealed(b, b"k" * 32, node=True)
        first = client.encode({"n": 1})
        a.sendall(first)
        assert node.recv() == {"n": 1}
        a.sendall(first)  # replayed
        with pytest.raises(TamperedFrame):
            node.recv()
    a, b = socket.socketpair()
    with a, b:
        client, node = Sealed(a, b"k" * 32, node=False), Sealed(b, b"k" * 32, node=True)
        client.encode({"n": 1})
        a.sendall(client.encode({"n": 2}))  # the first one dropped: out of order
        with pytest.raises(TamperedFrame):
            node.recv()
    a, b = socket.socketpair()
    with a, b:
        client = Sealed(a, b"k" * 32, node=False)
        b.sendall(client.encode({"op": "ping"}))
        with pytest.raises(TamperedFrame):
            client.recv()  # its own request reflected back as a reply
