"""A parsed command line, and the connection to the node it names."""

from __future__ import annotations

import sys
from dataclasses import dataclass

from primes_runtime.control.client import Answer, Client
from primes_runtime.control.cookie import client_cookie
from primes_runtime.control.tree import Tree

_WARNED: set[str] = set()


@dataclass(frozen=True)
class Invocation:
    """One command as the user typed it."""

    tree: Tree
    name: str
    cookie: str | None
    command: str
    args: tuple[str, ...] = ()
    json: bool = False
    probation: float | None = None
    """--probation SECONDS of install and upgrade (None: the node.toml setting)."""
    flags: frozenset[str] = frozenset()
    """The on/off options given, as typed: {"--no-keep"}."""

    def client(self, timeout: float | None = 30.0) -> Client:
        """An authenticated connection to the tree's node."""
        return Client.connect(
            self.tree, lambda: client_cookie(self.tree, self.cookie, self._warn), timeout=timeout
        )

    def _warn(self, line: str) -> None:
        """One line on stderr, once per command however many connections it opens."""
        if line not in _WARNED:
            _WARNED.add(line)
            print(f"{self.name}: {line}", file=sys.stderr, flush=True)

    def ask(self, op: str, timeout: float | None = 30.0, **args: object) -> Answer:
        """One request on a fresh connection; `timeout` bounds the reply (None: wait for it)."""
        with self.client() as conn:
            conn.settimeout(timeout)
            return conn.request(op, **args)
