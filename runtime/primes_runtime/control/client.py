"""The client side of the control channel: connect, prove the cookie, send requests."""

from __future__ import annotations

import socket
from collections.abc import Callable
from dataclasses import dataclass
from types import TracebackType

from primes_runtime.control import auth
from primes_runtime.control.errors import ControlError, FrameError
from primes_runtime.control.frames import Message
from primes_runtime.control.sealed import Sealed
from primes_runtime.control.tree import Tree, connect


class RemoteError(ControlError):
    """The node answered a request with an error (str() is its one line; `report`: its data)."""

    def __init__(self, error: str, out: str = "", report: dict[str, object] | None = None) -> None:
        super().__init__(error)
        self.out = out
        self.report = report


@dataclass(frozen=True)
class Answer:
    """A successful reply: the value and what the code printed in the node."""

    value: object
    out: str


def lost(op: str, exc: OSError) -> ControlError:
    """The error of request `op` whose connection failed with `exc` (a timeout: no answer)."""
    if isinstance(exc, TimeoutError):
        return ControlError(f"the node did not answer '{op}' in time")
    return ControlError(f"lost the connection to the node during '{op}': {exc}")


def answer(op: str, reply: Message | None) -> Answer:
    """The node's `reply` to request `op` (None: it closed the connection); RemoteError when
    the node says no."""
    if reply is None:
        raise FrameError(f"the node closed the connection during '{op}'")
    out = reply.get("out", "")
    out = out if isinstance(out, str) else ""
    if reply.get("ok") is not True:
        report = reply.get("report")
        raise RemoteError(
            str(reply.get("error", "the node refused the request")),
            out,
            report if isinstance(report, dict) else None,
        )
    return Answer(reply.get("value"), out)


class Client:
    """One authenticated connection to a node; usable as a context manager."""

    def __init__(self, sock: socket.socket, key: bytes) -> None:
        self._sock = sock
        self._sealed = Sealed(sock, key, node=False)

    @classmethod
    def connect(
        cls, tree: Tree, cookie: str | Callable[[], str], timeout: float | None = 30.0
    ) -> Client:
        """Connect to the tree's node and authenticate; NotRunning / AuthError on failure.

        `cookie` may be a function: it is called only once a node answers on the socket.
        """
        sock = connect(tree.sock, timeout=timeout)
        try:
            key = auth.client_handshake(sock, cookie if isinstance(cookie, str) else cookie())
        except BaseException:
            sock.close()
            raise
        return cls(sock, key)

    def settimeout(self, timeout: float | None) -> None:
        self._sock.settimeout(timeout)

    def request(self, op: str, **args: object) -> Answer:
        """Send one request and wait for its reply; RemoteError when the node says no."""
        try:
            self._sealed.send({"op": op, "args": args})
            reply = self._sealed.recv()
        except OSError as exc:
            raise lost(op, exc) from None
        return answer(op, reply)

    def close(self) -> None:
        self._sock.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
