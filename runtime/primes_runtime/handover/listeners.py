"""Listening sockets a node can hand over: registered by key, adopted by the successor."""

from __future__ import annotations

import socket
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from primes_runtime.errors import PrimesError
from primes_runtime.kernel.context import current_node

if TYPE_CHECKING:
    from primes_runtime.host.node import Node


@dataclass(frozen=True)
class Listener:
    """One listening socket of a node and how its owner stops and starts accepting on it.

    `pause(timeout)` stops accepting and returns once the requests in flight on it are done
    (raising if they are not within `timeout` s); `resume()` accepts again. `release()` runs
    in the old node once the successor owns the socket (the control channel's: keep the
    socket file in place). `connections()` gives, after a pause, the descriptors of the
    connections the owner took off this node with no request begun: the successor serves
    their next request (and the owner serves them again itself after a failed hand-over);
    a successor finds them in ``node.inherited_connections[key]`` before its `resume`.
    """

    key: str
    sock: socket.socket
    pause: Callable[[float], None]
    resume: Callable[[], None]
    release: Callable[[], None] = lambda: None
    connections: Callable[[], list[int]] = lambda: []


def listen(
    key: str,
    make: Callable[[], socket.socket],
    pause: Callable[[float], None],
    resume: Callable[[], None],
    release: Callable[[], None] = lambda: None,
    connections: Callable[[], list[int]] = lambda: [],
    node: Node | None = None,
) -> socket.socket:
    """The node's listening socket `key`: the one its predecessor handed over, else `make()`.

    Registered so that a hand-over passes it on. In a successor (:func:`adopting` is true)
    the owner must not accept on it before the node calls `resume`: until then the old node
    still owns the requests in flight and the kernel keeps new connections queued.
    """
    node = node if node is not None else current_node()
    inherited = node.inherited.pop(key, None)
    sock = socket.socket(fileno=inherited) if inherited is not None else make()
    if key in node.listeners:
        sock.close()
        raise PrimesError(f"a listener named {key!r} is already registered in this node")
    node.listeners[key] = Listener(key, sock, pause, resume, release, connections)
    return sock


def forget(key: str) -> None:
    """Unregister listener `key` (its owner closed it)."""
    current_node().listeners.pop(key, None)


def adopting() -> bool:
    """True in a successor node until the old node let it serve (see :func:`listen`)."""
    return current_node().adopting
