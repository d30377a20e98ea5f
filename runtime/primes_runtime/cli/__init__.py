"""bin/<name>'s commands: start and stop a node, and talk to it over its control channel."""

from __future__ import annotations

import sys

TYPE_CHECKING = False  # not typing's: the lean path (cli/fast.py) never imports typing
if TYPE_CHECKING:
    from typing import NoReturn


def main(argv: list[str] | None = None) -> int:
    """Run one command: `ping`, `pid` and `upgrade` on the lean path if they can (cli/fast.py),
    the full CLI otherwise."""
    args = sys.argv[1:] if argv is None else argv
    from primes_runtime.cli import fast

    try:
        status = fast.run(args)
    except KeyboardInterrupt:
        return 130  # as the full CLI
    if status is not None:
        return status
    from primes_runtime.cli import app

    return app.main(args)


def run() -> NoReturn:
    """bin/<name>'s program: :func:`main`, then an exit without the interpreter's teardown."""
    status = main()
    from primes_runtime.program.exiting import exit_now

    exit_now(status)


__all__ = ["main", "run"]
