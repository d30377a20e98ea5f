"""The release operations both ends of the control channel know: one frozen object each.

The node maps each one to its implementation (service/ops.py) and the CLI to the way it
builds the request and prints the reply (cli/remote.py); neither acts on a name missing here.
"""

from __future__ import annotations

TYPE_CHECKING = False  # not typing's: `upgrade`'s lean path (cli/fast.py) reads this table
if TYPE_CHECKING:
    from typing import Literal, NamedTuple

    Target = Literal["version", "package", "target"]
    """The argument naming what an operation acts on: a version, a package path, or either."""

    Extra = Literal["keep", "probation"]
    """An optional argument: `keep` (bool, check's --no-keep), `probation` (seconds)."""

    Paths = Literal["always", "maybe", "never"]
    """Whether a target is a package path: always, maybe (a path or a version, by
    primes_runtime.release.argument's rule), or never (a version)."""

PROBATION_LIMIT = 1e9
"""A `probation` argument is a number of seconds, 0 <= seconds < this (both ends check it)."""

PAUSE_BATCHES = "pause_batches"
"""A request argument of the operations that change the release: true when the client reads
the report's pauses as batches (primes_runtime.release.pauses); a node that is not asked (an
older client) sends them one object per process, as `--json` prints them."""

_PATHS: dict[Target, Paths] = {"package": "always", "target": "maybe", "version": "never"}


if TYPE_CHECKING:

    class _Fields(NamedTuple):
        name: str
        target: Target
        changes_release: bool = False
        """It changes the current release (its reply is an install or hand-over report)."""
        extras: tuple[Extra, ...] = ()

else:
    from collections import namedtuple

    _Fields = namedtuple(
        "_Fields", ("name", "target", "changes_release", "extras"), defaults=(False, ())
    )


class Operation(_Fields):
    """One release operation: its name, its target argument, what it changes and takes.

    A named tuple made by collections.namedtuple (typing.NamedTuple for mypy), not a
    dataclass: `upgrade`'s lean path (cli/fast.py) reads this table before it sends the
    request, and importing dataclasses, or typing, there would cost milliseconds of the
    command's wall time.
    """

    __slots__ = ()

    @property
    def paths(self) -> Paths:
        """Whether the target argument is a package path (Paths)."""
        return _PATHS[self.target]


RELEASE_OPERATIONS: tuple[Operation, ...] = (
    Operation("check", "target", extras=("keep",)),
    Operation("unpack", "package"),
    Operation("install", "version", changes_release=True, extras=("probation",)),
    Operation("permanent", "version"),
    Operation("upgrade", "target", changes_release=True, extras=("probation",)),
    Operation("downgrade", "version", changes_release=True),
    Operation("uninstall", "version"),
)
"""Every release operation, in the order the CLI lists its commands."""

BY_NAME: dict[str, Operation] = {op.name: op for op in RELEASE_OPERATIONS}
"""The release operations by name: the op of a request, the command of a command line."""
