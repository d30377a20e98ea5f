"""What a wheel says about itself: its name, version, requirements and tags."""

from __future__ import annotations

import zipfile
from dataclasses import dataclass
from email.parser import BytesParser
from pathlib import Path

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import InvalidWheelFilename, canonicalize_name, parse_wheel_filename

from primes_build.errors import BuildError


@dataclass(frozen=True)
class WheelInfo:
    """A wheel's METADATA name, version and Requires-Dist, and its file name's tags."""

    name: str
    version: str
    requires: tuple[Requirement, ...]
    tags: tuple[str, ...]


def read_wheel(wheel: Path) -> WheelInfo:
    """Read a wheel's metadata; a broken wheel is one BuildError naming it."""
    try:
        _, _, _, tags = parse_wheel_filename(wheel.name)
        with zipfile.ZipFile(wheel) as archive:
            names = [n for n in archive.namelist() if n.count("/") == 1]
            metadata = next(n for n in names if n.endswith(".dist-info/METADATA"))
            message = BytesParser().parsebytes(archive.read(metadata))
        requires = tuple(Requirement(r) for r in message.get_all("Requires-Dist") or [])
    except (InvalidWheelFilename, InvalidRequirement, OSError, zipfile.BadZipFile) as exc:
        raise BuildError(f"{wheel.name}: not a usable wheel ({exc})") from None
    except StopIteration:
        raise BuildError(f"{wheel.name}: not a usable wheel (no .dist-info/METADATA)") from None
    return WheelInfo(
        name=canonicalize_name(str(message["Name"])),
        version=str(message["Version"]),
        requires=requires,
        tags=tuple(sorted(str(t) for t in tags)),
    )
