"""Install a wheel into a code directory with `installer`, returning the installed files."""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

import installer
from installer.destinations import SchemeDictionaryDestination
from installer.sources import WheelFile
from installer.utils import parse_metadata_file

from primes_build.errors import BuildError
from primes_build.project.appmeta import dist_name


@dataclass(frozen=True)
class Installed:
    """A wheel installed into a code directory."""

    name: str
    """The distribution name as an app name (`primes-runtime` -> `primes_runtime`)."""
    version: str
    files: dict[str, bytes]
    """Installed files: POSIX path relative to the code directory -> content."""


def install_wheel(wheel: Path) -> Installed:
    """Install `wheel` purelib/platlib at the top of a code dir (scripts in bin/, data in data/).

    No bytecode is compiled; the result depends only on the wheel's content.
    """
    with tempfile.TemporaryDirectory(prefix="primes-install-") as temp:
        top = Path(temp)
        scheme = {
            "purelib": str(top),
            "platlib": str(top),
            "scripts": str(top / "bin"),
            "data": str(top / "data"),
            "headers": str(top / "include"),
        }
        destination = SchemeDictionaryDestination(
            scheme, interpreter="/usr/bin/env python3", script_kind="posix"
        )
        try:
            with WheelFile.open(wheel) as source:
                metadata = parse_metadata_file(source.read_dist_info("METADATA"))
                installer.install(source, destination, {"INSTALLER": b"primes_build\n"})
        except (OSError, ValueError, KeyError) as exc:
            raise BuildError(f"cannot install {wheel.name}: {exc}") from None
        files = {
            path.relative_to(top).as_posix(): path.read_bytes()
            for path in sorted(top.rglob("*"))
            if path.is_file()
        }
    return Installed(
        name=dist_name(str(metadata["Name"])), version=str(metadata["Version"]), files=files
    )
