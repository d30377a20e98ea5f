"""The `<release>-release` command the pip wheel ships: unpack the bundled release package.

This file is copied into the wheel as `<release>_release/__init__.py`; it uses only the
standard library and never imports primes_build. The format layer's SHA256SUMS reader is
shipped beside it as `<release>_release/_formats/` (in the source tree it is the runtime's).
"""

from __future__ import annotations

import argparse
import os
import sys
import tarfile
from pathlib import Path, PurePosixPath

try:
    from ._formats import FormatError, sha256sums  # type: ignore[import-not-found]
except ImportError:  # imported from the source tree, not from the wheel
    from primes_runtime.formats import FormatError, sha256sums


class UnpackError(Exception):
    """The package cannot be unpacked here; str() is the one line to print."""


def package_path() -> Path:
    """The release package this wheel carries."""
    found = sorted(Path(__file__).resolve().parent.glob("*.tar.gz"))
    if len(found) != 1:
        raise UnpackError(f"expected one release package beside {__file__}, found {len(found)}")
    return found[0]


def unpack(package: Path, target: Path) -> list[str]:
    """Unpack `package` into the empty or new directory `target`; check every sha256."""
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise UnpackError(f"{target} is not an empty directory; give a new or empty one")
    target.mkdir(parents=True, exist_ok=True)
    written: list[str] = []
    with tarfile.open(package, mode="r:gz") as tar:
        for member in tar.getmembers():
            name = member.name.rstrip("/")
            pure = PurePosixPath(name)
            if pure.is_absolute() or ".." in pure.parts or not name:
                raise UnpackError(f"{package}: refusing member {member.name!r}")
            dest = target.joinpath(*pure.parts)
            if member.isdir():
                dest.mkdir(parents=True, exist_ok=True)
                os.chmod(dest, 0o755)
                continue
            if not member.isfile():
                raise UnpackError(f"{package}: refusing member {name!r} (not a regular file)")
            handle = tar.extractfile(member)
            if handle is None:
                raise UnpackError(f"{package}: cannot read {name!r}")
            dest.parent.mkdir(parents=True, exist_ok=True)
            dest.write_bytes(handle.read())
            os.chmod(dest, 0o755 if member.mode & 0o100 else 0o644)
            written.append(name)
    _verify(target, written)
    return written


def _verify(target: Path, written: list[str]) -> None:
    """The unpacked files against the package's SHA256SUMS (the format layer's check)."""
    sums = sorted(target.glob("releases/*/SHA256SUMS"))
    if not sums:
        raise UnpackError(f"{target}: the package has no releases/<vsn>/SHA256SUMS")
    files = {name: (target / name).read_bytes() for name in written}
    try:
        sha256sums.verify(files, sums[0].relative_to(target).as_posix())
    except FormatError as exc:
        raise UnpackError(f"{target}: {exc}") from None


def main(argv: list[str] | None = None) -> int:
    """`<release>-release DIR` unpacks the release into DIR; `--path` prints the package."""
    parser = argparse.ArgumentParser(description="Unpack the bundled release package.")
    parser.add_argument("directory", nargs="?", help="a new or empty directory to unpack into")
    parser.add_argument("--path", action="store_true", help="print the package's path and exit")
    args = parser.parse_args(argv)
    try:
        package = package_path()
        if args.path or args.directory is None:
            print(package)
            return 0
        target = Path(args.directory)
        unpack(package, target)
    except (UnpackError, OSError, tarfile.TarError) as exc:
        print(f"ERROR {exc}", file=sys.stderr)
        return 1
    scripts = sorted(p.name for p in (target / "bin").glob("*"))
    start = f"; start it with {target / 'bin' / scripts[0]} start" if scripts else ""
    print(f"unpacked {package.name} into {target}{start}")
    return 0
