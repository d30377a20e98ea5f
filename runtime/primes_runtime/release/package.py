"""Verify a release package into a staging dir, then rename its new directories into a tree."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from primes_runtime.formats.unpack_limits import UnpackLimits
from primes_runtime.loading.warm import WarmChild

from . import diskfull, interpreter, signature, unpacker, wheeltags
from .errors import ReleaseError

_IGNORED_IN_TREE = ("__pycache__",)


@dataclass(frozen=True)
class Package:
    """A verified package, staged on disk: its release and every regular file's sha256."""

    source: Path
    name: str
    version: str
    staging: Path
    hashes: Mapping[str, str]

    def under(self, prefix: str) -> dict[str, str]:
        """The sha256 of each file below directory `prefix` (paths relative to the tree root)."""
        return {p: h for p, h in self.hashes.items() if p.startswith(prefix + "/")}

    def sums(self) -> bytes:
        """The package's releases/<vsn>/SHA256SUMS."""
        return (self.staging / "releases" / self.version / "SHA256SUMS").read_bytes()


@contextmanager
def staged(
    source: Path, root: Path, limits: UnpackLimits | None = None, warm: WarmChild | None = None
) -> Iterator[Package]:
    """Verify `source` into a releases/.unpack-* dir of `root` (removed on leaving).

    A tree with releases/allowed_signers first checks the package's signature. A child
    process then streams the package under `limits`; nothing outside the staging dir is
    written, and a refused package leaves no trace.
    """
    if not source.is_file():
        raise ReleaseError(f"{source}: no such package file; give the path of a .tar.gz")
    try:
        data = source.open("rb")
    except OSError as exc:
        raise ReleaseError(f"{source}: cannot read the package ({exc})") from None
    with data:
        signature.check(source, data, root)
        try:
            staging = Path(tempfile.mkdtemp(prefix=".unpack-", dir=root / "releases"))
        except OSError as exc:
            if diskfull.is_full(exc):
                raise ReleaseError(diskfull.line(f"{source}: cannot unpack", root)) from None
            raise ReleaseError(f"{source}: cannot stage the package in {root} ({exc})") from None
        try:
            found = unpacker.stage_in_child(source, data, staging, limits or UnpackLimits(), warm)
            interpreter.refuse_missing(source, staging / "releases" / found.version, found.version)
            _refuse_unloadable_wheels(source, staging, found.version)
            yield Package(source, found.name, found.version, staging, found.hashes)
        finally:
            shutil.rmtree(staging, ignore_errors=True)


def _refuse_unloadable_wheels(source: Path, staging: Path, version: str) -> None:
    """Refuse a package whose third-party wheels this interpreter cannot load."""
    manifest_path = staging / "releases" / version / "release.json"
    try:
        manifest = json.loads(manifest_path.read_bytes())
    except (OSError, ValueError) as exc:
        raise ReleaseError(f"{source}: refused, cannot read its release.json ({exc})") from None
    wheeltags.refuse_unloadable(source, manifest)


def _tree_hashes(directory: Path, root: Path) -> dict[str, str]:
    """sha256 of every file below `directory` except bytecode caches, keyed by tree path."""
    result: dict[str, str] = {}
    for dirpath, dirnames, filenames in os.walk(directory):
        dirnames[:] = [d for d in dirnames if d not in _IGNORED_IN_TREE]
        for filename in filenames:
            full = Path(dirpath) / filename
            rel = full.relative_to(root).as_posix()
            result[rel] = hashlib.sha256(full.read_bytes()).hexdigest()
    return result


def plan(package: Package, root: Path) -> list[str]:
    """The top-level directories (e.g. releases/2, lib/app-2) unpack would add; refuse conflicts."""
    release_dir = f"releases/{package.version}"
    if (root / release_dir).exists():
        raise ReleaseError(
            f"{package.source}: release {package.version} is already unpacked in {root}; "
            f"uninstall it first or use the unpacked release"
        )
    new_dirs = [release_dir]
    lib_dirs = sorted({"/".join(p.split("/")[:2]) for p in package.hashes if p.startswith("lib/")})
    for lib_dir in lib_dirs:
        if "/" not in lib_dir:
            raise ReleaseError(f"{package.source}: refused, a file directly in lib/: {lib_dir}")
        target = root / lib_dir
        if not target.exists():
            new_dirs.append(lib_dir)
            continue
        if _tree_hashes(target, root) != package.under(lib_dir):
            raise ReleaseError(
                f"{package.source}: refused, {lib_dir} exists in {root} with different content; "
                "an app version's code must never change — bump its version"
            )
    return new_dirs


def extract(package: Package, root: Path) -> list[str]:
    """Rename the staged new directories into `root`, releases/<vsn> first (a crash before
    RELEASES lists the release leaves garbage the recovery pass removes); return what was
    added."""
    new_dirs = plan(package, root)
    added: list[Path] = []
    try:
        for new_dir in new_dirs:
            destination = root / new_dir
            destination.parent.mkdir(parents=True, exist_ok=True)
            os.rename(package.staging / new_dir, destination)
            added.append(destination)
    except OSError as exc:
        for new_dir, destination in reversed(list(zip(new_dirs, added, strict=False))):
            try:  # back into staging (one rename), which is removed with it
                os.rename(destination, package.staging / new_dir)
            except OSError:
                shutil.rmtree(destination, ignore_errors=True)
        raise ReleaseError(f"{package.source}: unpack into {root} failed ({exc})") from None
    return new_dirs
