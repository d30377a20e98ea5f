"""Refuse to build into a deployed release tree: a build only ever writes packages."""

from __future__ import annotations

from pathlib import Path

from primes_build.errors import BuildError

MARKERS = ("releases/RELEASES", "releases/start_data")


def deployed_tree_of(directory: Path) -> Path | None:
    """The deployed release tree `directory` is (or is inside), if any."""
    resolved = directory.resolve()
    for candidate in (resolved, *resolved.parents):
        if any((candidate / marker).is_file() for marker in MARKERS):
            return candidate
    return None


def refuse_deployed(outdir: Path) -> None:
    """Raise if `outdir` is a deployed release tree or inside one."""
    tree = deployed_tree_of(outdir)
    if tree is not None:
        where = "is" if tree == outdir.resolve() else f"is inside {tree}, which is"
        raise BuildError(
            f"refusing to build into {outdir}: it {where} a deployed release tree "
            "(it has releases/RELEASES); build into another directory (e.g. dist/) and "
            "upgrade the node from the package"
        )
