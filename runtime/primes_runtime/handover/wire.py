"""The hand-over channel: length-prefixed JSON messages on a Unix socket, with descriptors
(SCM_RIGHTS) riding on a message's first bytes."""

from __future__ import annotations

import json
import socket
import struct
import time
from collections.abc import Sequence
from dataclasses import dataclass

from primes_runtime.errors import PrimesError

HEADER = struct.Struct("!I")
MAX_MESSAGE = 1 << 30
MAX_FDS = 250


class ChannelClosed(PrimesError):
    """The other side went away (it exited or closed the channel)."""


class ChannelTimeout(PrimesError):
    """The other side said nothing within the deadline."""


@dataclass(frozen=True)
class Received:
    """One message and the descriptors that came with it."""

    message: dict[str, object]
    fds: tuple[int, ...]

    @property
    def op(self) -> str:
        return str(self.message.get("op", ""))


class Channel:
    """One end of the hand-over socket pair."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock

    def send(self, message: dict[str, object], fds: Sequence[int] = ()) -> None:
        body = json.dumps(message, separators=(",", ":")).encode("utf-8")
        data = HEADER.pack(len(body)) + body
        self.sock.settimeout(None)
        try:
            if fds:
                sent = socket.send_fds(self.sock, [data[: HEADER.size]], list(fds))
                self.sock.sendall(data[sent:])
            else:
                self.sock.sendall(data)
        except OSError as exc:
            raise ChannelClosed(f"the hand-over channel broke ({exc.strerror or exc})") from None

    def recv(self, timeout: float) -> Received:
        """The next message, within `timeout` s."""
        deadline = time.monotonic() + timeout
        try:
            head, fds, _, _ = socket.recv_fds(self.sock_until(deadline), HEADER.size, MAX_FDS)
            if not head:
                raise ChannelClosed("the other node closed the hand-over channel")
            while len(head) < HEADER.size:
                head += self._chunk(HEADER.size - len(head), deadline)
            (size,) = HEADER.unpack(head)
            if size > MAX_MESSAGE:
                raise ChannelClosed(f"a hand-over message of {size} bytes is too large")
            body = b""
            while len(body) < size:
                body += self._chunk(min(size - len(body), 1 << 20), deadline)
        except TimeoutError:
            raise ChannelTimeout(f"no answer within {timeout:g} s") from None
        except OSError as exc:
            raise ChannelClosed(f"the hand-over channel broke ({exc.strerror or exc})") from None
        message = json.loads(body)
        if not isinstance(message, dict):
            raise ChannelClosed("a hand-over message is not an object")
        return Received(message, tuple(fds))

    def sock_until(self, deadline: float) -> socket.socket:
        self.sock.settimeout(max(deadline - time.monotonic(), 0.001))
        return self.sock

    def _chunk(self, size: int, deadline: float) -> bytes:
        data = self.sock_until(deadline).recv(size)
        if not data:
            raise ChannelClosed("the other node closed the hand-over channel")
        return data

    def close(self) -> None:
        self.sock.close()
