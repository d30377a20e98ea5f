"""The listener's accepting, which a hand-over stops (draining the requests in flight) and
starts again: in the old node if the hand-over fails, in the successor once it serves."""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import os
import socket
import time
from collections.abc import Callable

import h11
import uvicorn
from primes_runtime.node import Node

from asgi_host.acceptor import accept_loop, adopt
from asgi_host.errors import AsgiHostError
from asgi_host.guard import Guard

DRAIN_POLL = 0.005


class Accepting:
    """The accept loop's task on `sock`, started and stopped from any thread."""

    def __init__(self, loop: asyncio.AbstractEventLoop, node: Node, key: str) -> None:
        self.loop = loop
        self.node = node
        self.key = key
        self.moved: list[int] = []  # idle connections taken off this node, to hand over
        self.adopting: set[asyncio.Task[None]] = set()  # accepted, not yet with a protocol
        self.factory: Callable[[], asyncio.Protocol] | None = None
        self.task: asyncio.Task[None] | None = None
        self.sock: socket.socket | None = None
        self.server: uvicorn.Server | None = None
        self.run: Callable[[], object] | None = None

    def arm(
        self,
        sock: socket.socket,
        server: uvicorn.Server,
        factory: Callable[[], asyncio.Protocol],
        guard: Guard,
    ) -> None:
        """What to accept on and with, once the listener has it all."""
        self.sock, self.server, self.factory = sock, server, factory
        self.run = lambda: accept_loop(sock, factory, guard, self.adopting)

    def start(self) -> None:
        """Serve the connections handed over (by a predecessor, or back after a failed
        hand-over), then accept (on the loop's thread)."""
        handed = [*self.node.inherited_connections.pop(self.key, []), *self.moved]
        self.moved = []
        for fd in handed:
            if self.factory is not None:
                self.loop.create_task(adopt(self.loop, self.factory, socket.socket(fileno=fd)))
        if self.task is None and self.run is not None:
            coro = self.run()
            assert asyncio.iscoroutine(coro)
            self.task = self.loop.create_task(coro, context=contextvars.Context())

    def stop(self) -> None:
        """Stop accepting (on the loop's thread)."""
        if self.task is not None:
            self.task.cancel()
            self.task = None

    def handed(self) -> list[int]:
        """The idle connections the last pause took off this node (descriptors)."""
        return list(self.moved)

    def resume(self) -> None:
        """Accept again, from any thread."""
        self.loop.call_soon_threadsafe(self.start)

    def pause(self, timeout: float) -> None:
        """From another thread: stop accepting, close idle keep-alive connections, and return
        once every request in flight was answered (AsgiHostError after `timeout` s)."""
        done = asyncio.run_coroutine_threadsafe(self._drain(timeout), self.loop)
        done.result(timeout + 1.0)

    async def _drain(self, timeout: float) -> None:
        self.stop()
        if self.server is None:
            return
        deadline = time.monotonic() + timeout
        if self.adopting:  # a connection accepted just now: its protocol first, then it counts
            await asyncio.wait(set(self.adopting), timeout=timeout)
        connections = self.server.server_state.connections
        seen: set[object] = set()  # each connection is handed over or told to close once
        while True:
            for connection in list(connections):
                if connection in seen:
                    continue
                seen.add(connection)
                if idle(connection):  # no request begun: the successor serves its next one
                    sock = connection.transport.get_extra_info("socket")  # type: ignore[attr-defined]
                    self.moved.append(os.dup(sock.fileno()))
                    connection.transport.abort()  # type: ignore[attr-defined]
                    continue
                closing(connection)
            if not connections or time.monotonic() >= deadline:
                break
            await asyncio.sleep(DRAIN_POLL)
        if connections:
            raise AsgiHostError(
                f"{len(connections)} HTTP connections still had a request in flight after "
                f"{timeout:g} s"
            )


def closing(connection: object) -> None:
    """A connection with a request in flight: its answer says `Connection: close` and the
    connection ends after it (uvicorn's own shutdown closes it unannounced after the answer,
    which a keep-alive client that sent its next request meanwhile sees as an error)."""
    cycle = getattr(connection, "cycle", None)
    if cycle is not None and not getattr(cycle, "response_started", True):
        with contextlib.suppress(Exception):
            cycle.scope["headers"] = [*cycle.scope["headers"], CLOSE]
    with contextlib.suppress(Exception):
        connection.shutdown()  # type: ignore[attr-defined]


CLOSE = (b"connection", b"close")
"""The request header that makes uvicorn answer with `Connection: close`."""


def idle(connection: object) -> bool:
    """True for an h11 connection between two requests with no byte of the next one read."""
    conn = getattr(connection, "conn", None)
    cycle = getattr(connection, "cycle", None)
    if not isinstance(conn, h11.Connection):
        return False
    if cycle is not None and not getattr(cycle, "response_complete", False):
        return False  # a request is being answered: it ends here, with Connection: close
    buffered = getattr(conn, "_receive_buffer", b"x")
    return conn.their_state is h11.IDLE and conn.our_state is h11.IDLE and not len(buffered)
