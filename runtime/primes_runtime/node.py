"""Public: the node (the code is in host/node.py, host/boot.py and program/main.py).

``python -m primes_runtime.node --root ROOT [--release VSN]`` boots the release (the
permanent one from releases/start_data when no version is given), starts the control
channel if it is installed, and runs until SIGTERM/SIGINT or a ``shutdown`` request;
then it stops the apps in reverse order within node.shutdown_timeout and exits 0.

App code, a start script and an older runtime's hand-over (``from primes_runtime.node import
run``) use this path: its names stay the same across runtime versions. ``main`` and ``run``
(the OS program: argparse, signals, the release handler's recovery) load on first use, so
that a Node() in an app's test costs no more than the runtime it runs.
"""

from __future__ import annotations

import importlib

from .host.boot import boot, boot_path, code_path, permanent_release, stdlib_paths
from .host.node import Node, current, default_node

TYPE_CHECKING = False
if TYPE_CHECKING:
    from .program.main import main as main
    from .program.main import run as run

__all__ = [
    "Node",
    "boot",
    "boot_path",
    "code_path",
    "current",
    "default_node",
    "main",
    "permanent_release",
    "run",
    "stdlib_paths",
]


def __getattr__(name: str) -> object:
    """Load the OS program's ``main`` and ``run`` on first use (PEP 562)."""
    if name not in ("main", "run"):
        raise AttributeError(f"module 'primes_runtime.node' has no attribute {name!r}")
    value = getattr(importlib.import_module(".program.main", __package__), name)
    globals()[name] = value
    return value


if __name__ == "__main__":
    # Run the main() of the imported module, not of this __main__ copy, so that
    # primes_runtime.node.default_node() (what threads apps start use) sees the node.
    from primes_runtime.node import run as _run

    _run()
