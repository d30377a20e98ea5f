"""A full disk in one line: what could not be written, and on which file system."""

from __future__ import annotations

import errno
from pathlib import Path

_FULL = (errno.ENOSPC, errno.EDQUOT)


def is_full(exc: BaseException) -> bool:
    """Whether `exc` says the disk (or the user's quota on it) is full."""
    return isinstance(exc, OSError) and exc.errno in _FULL


def line(what: str, where: Path | str) -> str:
    """`<what>: the disk is full ...`, naming the directory whose file system ran out."""
    return (
        f"{what}: the disk is full (no space left on the file system holding {where}); "
        "free some space there and run it again"
    )
