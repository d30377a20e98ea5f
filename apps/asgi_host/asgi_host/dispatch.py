"""The ASGI callable uvicorn runs: it looks the application up through the code server
for every new request or connection, and keeps a list of those in flight.

A request resolves ``module:attribute`` once, when it starts, and runs to its end on the
object it got: after an upgrade, requests already running finish on the old code and the
next ones run the new. A connection still running old code (a websocket, a stream) is
listed in status and in the upgrade report, and then told through the event
``scope["extensions"]["primes.upgrade"]["upgraded"]``: right after the upgrade report
listed it, or ``handover_after`` seconds after an upgrade made without a report (an rpc, a
test). The app's hook is what it does then: say goodbye and close, so that the client
reconnects to the new code.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass, field
from typing import Any

from primes_runtime import code_server

from asgi_host.errors import AsgiHostError

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
AsgiApp = Callable[[Scope, Receive, Send], Awaitable[None]]

WATCH_INTERVAL = 0.2  # seconds between two looks for connections left on old code


@dataclass(frozen=True)
class AppSpec:
    """An ASGI application named ``module:attribute`` (the attribute may be dotted)."""

    module: str
    attribute: str

    @classmethod
    def parse(cls, text: object) -> AppSpec:
        """The spec in app env ``app``; AsgiHostError saying what is wrong otherwise."""
        module, sep, attribute = str(text).partition(":")
        if not isinstance(text, str) or not sep or not module or not attribute:
            raise AsgiHostError(
                f"app env asgi_host.app must be 'module:attribute' (got {text!r}); "
                'set [env.asgi_host] app = "yourpkg.web:app" in primes.toml'
            )
        return cls(module, attribute)

    def resolve(self) -> AsgiApp:
        """The application object in the module current now."""
        obj: Any = code_server.current(self.module)
        for part in self.attribute.split("."):
            obj = getattr(obj, part)
        if not callable(obj):
            raise AsgiHostError(f"{self.module}:{self.attribute} is not callable ({obj!r})")
        return obj  # type: ignore[no-any-return]


@dataclass
class Connection:
    """One request or connection in flight, and the application object it runs."""

    id: int
    kind: str  # "http" or "websocket"
    path: str
    app: AsgiApp
    started: float
    upgraded: asyncio.Event = field(default_factory=asyncio.Event)

    def line(self, now: float, old: bool) -> str:
        code = "old code" if old else "current code"
        return f"{self.kind} {self.path} ({code}, open {now - self.started:.1f} s)"


class Dispatch:
    """What uvicorn calls for each request or websocket: the current app, looked up now."""

    def __init__(
        self, spec: AppSpec, loop: asyncio.AbstractEventLoop, handover_after: float = 1.0
    ) -> None:
        self.spec = spec
        self.loop = loop
        self.handover_after = handover_after
        self.live: dict[int, Connection] = {}
        self._ids = itertools.count(1)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            return  # lifespan is off: applications keep their state in processes
        app = self.spec.resolve()
        conn = Connection(
            next(self._ids), scope["type"], scope.get("path", ""), app, time.monotonic()
        )
        extensions = dict(scope.get("extensions") or {})
        extensions["primes.upgrade"] = {"upgraded": conn.upgraded}
        scope["extensions"] = extensions
        self.live[conn.id] = conn
        try:
            await app(scope, receive, send)
        finally:
            del self.live[conn.id]

    def on_old_code(self) -> list[Connection]:
        """Connections whose application is no longer the current one (any thread)."""
        try:
            current = self.spec.resolve()
        except Exception:  # the module cannot be loaded now: report every connection
            return list(self.live.values())
        return [c for c in list(self.live.values()) if c.app is not current]

    def lines(self) -> list[str]:
        """One line per connection in flight, old code first."""
        now = time.monotonic()
        old = self.on_old_code()
        ids = {c.id for c in old}
        rest = [c for c in list(self.live.values()) if c.id not in ids]
        return [c.line(now, True) for c in old] + [c.line(now, False) for c in rest]

    def old_lines(self, handover: bool = False) -> list[str]:
        """One line per connection still on old code (what status and reports list); with
        ``handover``, tell each of them afterwards (any thread)."""
        now = time.monotonic()
        old = self.on_old_code()
        if handover:
            for conn in old:
                self.loop.call_soon_threadsafe(conn.upgraded.set)
        return [f"asgi_host: {c.line(now, True)}" for c in old]

    async def watch(self) -> None:
        """(A task on the loop) tell connections left on old code ``handover_after``
        seconds after it first saw them there."""
        seen: dict[int, float] = {}
        while True:
            await asyncio.sleep(WATCH_INTERVAL)
            now = time.monotonic()
            old = self.on_old_code()
            seen = {c.id: seen.get(c.id, now) for c in old}
            for conn in old:
                if now - seen[conn.id] >= self.handover_after:
                    conn.upgraded.set()
