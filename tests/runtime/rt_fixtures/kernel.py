"""The test's node, as tests reach it: its process table and application controller."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from primes_runtime.host.application import Applications
from primes_runtime.kernel.context import current_node
from primes_runtime.kernel.registry import ProcessTable


def table() -> ProcessTable:
    """The process table of the node the test's thread entered."""
    return current_node().processes


def apps() -> Applications:
    """The application controller of the node the test's thread entered."""
    return current_node().applications


def node_thread(
    *,
    target: Callable[..., object],
    args: tuple[object, ...] = (),
    kwargs: dict[str, Any] | None = None,
    **options: Any,
) -> threading.Thread:
    """A thread (not started) that runs ``target`` as code of the test's node."""
    node = current_node()

    def run() -> None:
        with node.entered():
            target(*args, **(kwargs or {}))

    return threading.Thread(target=run, **options)
