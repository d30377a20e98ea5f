"""The exit codes of bin/<name> and the errors that choose them (docs/operations.md)."""

from __future__ import annotations

from primes_runtime.control.client import RemoteError
from primes_runtime.control.errors import ControlError, NotRunning

OK = 0
"""The command did what it was asked."""
FAILED = 1
"""Refused, or failed and rolled back: the node runs as it did before."""
USAGE = 2
"""The command line is wrong (unknown command or option, missing or extra argument)."""
NOT_RUNNING = 3
"""The command needs a running node and none answers."""
ROLLBACK_INCOMPLETE = 4
"""An install failed and its rollback reported problems: check the node."""


class UsageError(ControlError):
    """The command line is wrong."""


def exit_code(exc: ControlError) -> int:
    """The exit code for a command that ended with `exc`."""
    if isinstance(exc, UsageError):
        return USAGE
    if isinstance(exc, NotRunning):
        return NOT_RUNNING
    if isinstance(exc, RemoteError) and exc.report is not None:
        problems = exc.report.get("rollback_problems")
        if isinstance(problems, list) and problems:
            return ROLLBACK_INCOMPLETE
    return FAILED
