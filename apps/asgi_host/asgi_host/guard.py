"""Bounds on the HTTP host's connections: a cap that closes the oldest idle one, an idle
timeout for a connection with no request, and a total deadline for a request's head.

uvicorn arms its keep-alive timeout only after a response and cancels it at the first byte
of the next request, and it has no cap on connections: a client that connects and sends
nothing, or sends a head a byte at a time, holds a file descriptor for ever. The protocol
here is uvicorn's h11 protocol with those bounds added; the listener creates one per
connection it accepts (listener.py), after the guard made room for it.
"""

from __future__ import annotations

import asyncio
import logging
import os
import resource
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

from asgi_host.ratelog import RateLog

log = logging.getLogger("asgi_host")

REFUSED = b"HTTP/1.1 503 Service Unavailable\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"


@dataclass(frozen=True)
class Limits:
    """What one connection may hold (asgi_host's app env)."""

    max_connections: int
    """Connections served at once; the effective cap is also bounded by the fd limit."""
    keep_alive: float
    """Seconds a connection may stay without a request (new, or after a response)."""
    header_timeout: float
    """Seconds, in total, from the first byte of a request to the end of its head."""


def fd_cap(max_connections: int, reserve: int) -> int:
    """`max_connections`, lowered so `reserve` descriptors stay free under RLIMIT_NOFILE."""
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY:
        return max_connections
    try:
        used = len(os.listdir("/proc/self/fd"))
    except OSError:
        used = 0
    return max(1, min(max_connections, soft - used - reserve))


class Guard:
    """The open connections of one listener, the idle ones oldest first, and the cap."""

    def __init__(self, limits: Limits, cap: int) -> None:
        self.limits = limits
        self.cap = cap
        self.ratelog = RateLog(log)
        self._open: dict[GuardedH11, None] = {}
        self._idle: dict[GuardedH11, None] = {}

    def __len__(self) -> int:
        return len(self._open)

    def opened(self, conn: GuardedH11) -> bool:
        """Count a new connection, closing the oldest idle one past the cap; False: refuse it."""
        self._open[conn] = None
        self._idle[conn] = None
        evicted = 0
        while len(self._open) > self.cap:
            victim = next((c for c in self._idle if c is not conn), None)
            if victim is None:
                self.closed(conn)
                self.ratelog.warn(
                    "full",
                    f"asgi_host: {self.cap} connections, all serving requests (the cap); "
                    "refused a new one with 503",
                )
                return False
            self.closed(victim)
            victim.drop()
            evicted += 1
        if evicted:
            self.ratelog.warn(
                "cap",
                f"asgi_host: {self.cap} connections open (the cap); "
                "closed the one idle the longest to serve a new one",
            )
        return True

    def idle(self, conn: GuardedH11) -> None:
        """The connection waits for a request: it goes last in the idle order."""
        if conn in self._open:
            self._idle.pop(conn, None)
            self._idle[conn] = None

    def busy(self, conn: GuardedH11) -> None:
        self._idle.pop(conn, None)

    def closed(self, conn: GuardedH11) -> None:
        self._open.pop(conn, None)
        self._idle.pop(conn, None)

    def short_of_fds(self, error: OSError) -> None:
        """accept() found no descriptor: close the oldest idle connection, say so (rate-limited)."""
        victim = next(iter(self._idle), None)
        if victim is not None:
            self.closed(victim)
            victim.drop()
        self.ratelog.warn(
            "fds",
            f"asgi_host: cannot accept a connection ({error.strerror or error}); "
            f"{len(self._open)} open, closed the one idle the longest",
        )


class GuardedH11(H11Protocol):
    """uvicorn's h11 protocol under a Guard: idle timeout, head deadline, cap."""

    guard: ClassVar[Guard]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._timer: asyncio.TimerHandle | None = None  # fires at or before _due
        self._due: float | None = None  # loop time of the deadline armed; None: none
        self._then: Callable[[], None] = _nothing  # what the deadline does
        self._waiting = True  # no request being served
        self._in_head = False  # a request's first bytes came, its head is not complete
        self._seen: object = None  # the request cycle last counted

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        if not self.guard.opened(self):
            self.connections.discard(self)
            transport.write(REFUSED)
            transport.close()
            return
        self._arm(self.guard.limits.keep_alive, self._idle_too_long)

    def data_received(self, data: bytes) -> None:
        if self._waiting and not self._in_head and not self.transport.is_closing():
            self._in_head = True
            self._arm(self.guard.limits.header_timeout, self._head_too_slow)
        super().data_received(data)
        self._count_request()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if self.transport.is_closing():
            return
        self._waiting, self._in_head = True, False
        self.guard.idle(self)
        self._arm(self.guard.limits.keep_alive, self._idle_too_long)
        self._count_request()  # a pipelined request may have started already

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel()
        self.guard.closed(self)
        super().connection_lost(exc)

    def handle_websocket_upgrade(self, event: h11.Request) -> None:
        self._cancel()
        self.guard.closed(self)  # the websocket protocol takes the connection over
        super().handle_websocket_upgrade(event)

    def drop(self) -> None:
        """Close this (idle) connection now: the guard needs its descriptor."""
        self._cancel()
        if not self.transport.is_closing():
            self.transport.abort()

    def _count_request(self) -> None:
        """A new request's head was parsed: no deadline while it is served."""
        if self.cycle is not None and self.cycle is not self._seen:
            self._seen = self.cycle
            self._waiting = self._in_head = False
            self._disarm()
            self.guard.busy(self)

    def _idle_too_long(self) -> None:
        if self._waiting and not self.transport.is_closing():
            self.transport.close()

    def _head_too_slow(self) -> None:
        if self._in_head and not self.transport.is_closing():
            self.guard.ratelog.warn(
                "head",
                f"asgi_host: closed a connection whose request head took over "
                f"{self.guard.limits.header_timeout:g} s",
            )
            self.transport.abort()

    def _arm(self, seconds: float, then: Callable[[], None]) -> None:
        """Run `then` in `seconds` unless disarmed or armed again. A request arms and disarms
        twice: the timer is one per connection, moved only to fire earlier; when it fires
        before the deadline armed now it is set again for that deadline."""
        due = self.loop.time() + seconds
        self._due, self._then = due, then
        timer = self._timer
        if timer is not None and timer.when() <= due:
            return
        if timer is not None:
            timer.cancel()
        self._timer = self.loop.call_at(due, self._fire)

    def _disarm(self) -> None:
        self._due = None

    def _cancel(self) -> None:
        """No deadline and no timer (the connection is gone)."""
        self._due = None
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _fire(self) -> None:
        self._timer = None
        due = self._due
        if due is None:
            return
        if self.loop.time() < due:
            self._timer = self.loop.call_at(due, self._fire)
            return
        self._due = None
        self._then()


def _nothing() -> None:
    return None


def protocol_for(guard: Guard) -> type[GuardedH11]:
    """A GuardedH11 class bound to `guard` (uvicorn creates protocols from a class)."""

    class Bound(GuardedH11):
        pass

    Bound.guard = guard
    return Bound
