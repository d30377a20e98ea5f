"""The release handler's reader of .relup scripts: the format layer's, errors as ReleaseError."""

from __future__ import annotations

from pathlib import Path

from primes_runtime.formats import FormatError
from primes_runtime.formats import relup as fmt
from primes_runtime.formats.relup import (
    Apply,
    CodeChange,
    Instruction,
    Load,
    LoadObjectCode,
    PointOfNoReturn,
    Relup,
    Remove,
    Resume,
    StartApp,
    StopApp,
    Suspend,
    SwitchAppPath,
    describe,
)

from .errors import ReleaseError

__all__ = [
    "Apply",
    "CodeChange",
    "Instruction",
    "Load",
    "LoadObjectCode",
    "PointOfNoReturn",
    "Relup",
    "Remove",
    "Resume",
    "StartApp",
    "StopApp",
    "Suspend",
    "SwitchAppPath",
    "describe",
    "parse",
    "read",
]


def parse(text: str, path: Path) -> Relup:
    """Parse script text; a ReleaseError names `path`, the line and what to fix."""
    try:
        return fmt.parse(text, path)
    except FormatError as exc:
        raise ReleaseError(str(exc)) from None


def read(path: Path) -> Relup:
    """Read and parse a .relup file."""
    try:
        return fmt.read(path)
    except FormatError as exc:
        raise ReleaseError(str(exc)) from None
