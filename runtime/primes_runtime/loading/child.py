"""The command line that runs a runtime module's ``main(argv)`` in a fresh interpreter.

Isolated (``-I``: no user site, no PYTHON* variables, no script dir on the path) and without
``site`` (``-S``): the runtime is stdlib only, and it is found at the path this copy of it
was loaded from, whatever the caller's sys.path holds.
"""

from __future__ import annotations

import sys
from pathlib import Path


def command(module: str, *args: str, python: str | None = None) -> list[str]:
    """argv that runs ``module.main(list(args))`` and exits with its return value (in
    `python`, another interpreter the runtime supports, when given), without the
    interpreter's module teardown (the child has no threads or atexit work; ~10 ms)."""
    boot = (
        "import os, sys; sys.path.insert(0, sys.argv[1]); "
        f"from {module} import main; status = main(sys.argv[2:]); "
        "sys.stdout.flush(); sys.stderr.flush(); os._exit(status)"
    )
    runtime_path = str(Path(__file__).resolve().parents[2])  # primes_runtime/loading/child.py
    return [python or sys.executable, "-I", "-S", "-c", boot, runtime_path, *args]
