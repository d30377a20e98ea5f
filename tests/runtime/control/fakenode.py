"""A stand-in for primes_runtime.host.node.Node: a real node with no apps whose shutdown only
runs the callbacks the control server registered."""

from __future__ import annotations

import threading
from pathlib import Path

from primes_runtime.host import config
from primes_runtime.host.node import Node


class FakeNode(Node):
    """A node on tree ``root`` running ``release`` (its node.toml parsed as the real one is)."""

    def __init__(self, root: Path, release: str = "1") -> None:
        super().__init__(root, release, None, config.load(root, release), min_workers=1)
        self.halted = threading.Event()

    def shutdown(self, timeout: float | None = None) -> None:
        for fn in reversed(self._callbacks):
            fn()
        self.halted.set()
        self.timers.close()
        self.scheduler.close()
