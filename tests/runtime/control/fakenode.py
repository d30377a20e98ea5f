"""A stand-in for primes_runtime.node.Node: what the control server needs, nothing more."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path


class FakeNode:
    """root, release, on_shutdown and shutdown, as the real node has them."""

    def __init__(self, root: Path, release: str = "1") -> None:
        self.root = root
        self.release = release
        self.stopped = threading.Event()
        self._callbacks: list[Callable[[], None]] = []

    def on_shutdown(self, fn: Callable[[], None]) -> None:
        self._callbacks.append(fn)

    def shutdown(self, timeout: float) -> None:
        for fn in reversed(self._callbacks):
            fn()
        self.stopped.set()
