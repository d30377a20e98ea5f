"""Read and verify a release package, then unpack its new directories into a deployed tree."""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from . import wheeltags
from .errors import ReleaseError

_VERSION = re.compile(r"[A-Za-z0-9][A-Za-z0-9._+-]*")
_SUM_LINE = re.compile(r"([0-9a-f]{64})  (.+)")
_IGNORED_IN_TREE = ("__pycache__",)


@dataclass(frozen=True)
class Package:
    """A verified package held in memory: its release and every regular file's bytes."""

    source: Path
    name: str
    version: str
    files: dict[str, bytes]
    executables: frozenset[str]

    def under(self, prefix: str) -> dict[str, bytes]:
        """The files below directory `prefix` (paths relative to the tree root)."""
        return {p: b for p, b in self.files.items() if p.startswith(prefix + "/")}


def _clean_name(source: Path, member: tarfile.TarInfo) -> str:
    """The member's path as a safe relative POSIX path, or a refusal."""
    name = member.name
    while name.startswith("./"):
        name = name[2:]
    name = name.rstrip("/")
    pure = PurePosixPath(name)
    if name.startswith("/") or pure.is_absolute():
        raise ReleaseError(f"{source}: refused, absolute path {member.name!r} in the package")
    if ".." in pure.parts:
        raise ReleaseError(f"{source}: refused, path {member.name!r} climbs out with '..'")
    if member.issym() or member.islnk():
        target = PurePosixPath(member.linkname)
        joined = target if member.islnk() else pure.parent / target
        outside = target.is_absolute() or _climbs_out(joined)
        where = "points outside the tree" if outside else "is a link; packages hold no links"
        raise ReleaseError(f"{source}: refused, {member.name!r} -> {member.linkname!r} {where}")
    if not (member.isfile() or member.isdir()):
        raise ReleaseError(f"{source}: refused, {member.name!r} is not a regular file or dir")
    return name


def _climbs_out(path: PurePosixPath) -> bool:
    depth = 0
    for part in path.parts:
        depth += -1 if part == ".." else 0 if part == "." else 1
        if depth < 0:
            return True
    return False


def read(source: Path) -> Package:
    """Read a package and verify every file against its SHA256SUMS; nothing is written."""
    if not source.is_file():
        raise ReleaseError(f"{source}: no such package file; give the path of a .tar.gz")
    files: dict[str, bytes] = {}
    executables: set[str] = set()
    try:
        with tarfile.open(source, "r:gz") as tar:
            for member in tar:
                name = _clean_name(source, member)
                if not member.isfile():
                    continue
                if name in files:
                    raise ReleaseError(f"{source}: refused, {name!r} appears twice")
                stream = tar.extractfile(member)
                assert stream is not None
                files[name] = stream.read()
                if member.mode & 0o111:
                    executables.add(name)
    except (tarfile.TarError, OSError, EOFError) as exc:
        raise ReleaseError(f"{source}: not a readable .tar.gz package ({exc})") from None
    version = _release_version(source, files)
    name = _verify(source, version, files)
    return Package(source, name, version, files, frozenset(executables))


def _release_version(source: Path, files: dict[str, bytes]) -> str:
    versions = {
        parts[1]
        for parts in (p.split("/") for p in files)
        if len(parts) == 3 and parts[0] == "releases" and parts[2] == "release.json"
    }
    if len(versions) != 1:
        raise ReleaseError(
            f"{source}: refused, expected exactly one releases/<vsn>/release.json, "
            f"found {len(versions)}; is this a primes release package?"
        )
    version = versions.pop()
    if not _VERSION.fullmatch(version):
        raise ReleaseError(f"{source}: refused, release version {version!r} is not a safe name")
    return version


def _verify(source: Path, version: str, files: dict[str, bytes]) -> str:
    """Check SHA256SUMS and the manifest; return the release name."""
    sums_path = f"releases/{version}/SHA256SUMS"
    if sums_path not in files:
        raise ReleaseError(f"{source}: refused, {sums_path} is missing; rebuild the package")
    listed: dict[str, str] = {}
    for number, line in enumerate(files[sums_path].decode("utf-8", "replace").splitlines(), 1):
        match = _SUM_LINE.fullmatch(line)
        if match is None:
            raise ReleaseError(f"{source}: refused, {sums_path}:{number} is not '<sha256>  <path>'")
        listed[match.group(2)] = match.group(1)
    for path, data in sorted(files.items()):
        if path == sums_path:
            continue
        expected = listed.pop(path, None)
        if expected is None:
            raise ReleaseError(f"{source}: refused, {path} is not listed in {sums_path}")
        if hashlib.sha256(data).hexdigest() != expected:
            raise ReleaseError(
                f"{source}: refused, {path} does not match its sha256 in {sums_path}; "
                "the package is damaged or tampered with"
            )
    if listed:
        missing = sorted(listed)[0]
        raise ReleaseError(f"{source}: refused, {missing} is listed in {sums_path} but missing")
    manifest_path = f"releases/{version}/release.json"
    try:
        manifest = json.loads(files[manifest_path])
    except ValueError as exc:
        raise ReleaseError(f"{source}: refused, {manifest_path} is not JSON ({exc})") from None
    if not isinstance(manifest, dict) or manifest.get("version") != version:
        raise ReleaseError(f"{source}: refused, {manifest_path} does not say version {version!r}")
    name = manifest.get("name")
    if not isinstance(name, str):
        raise ReleaseError(f"{source}: refused, {manifest_path} has no release name")
    wheeltags.refuse_unloadable(source, manifest)  # deps (issue 14): wheels this Python loads
    return name


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
    lib_dirs = sorted({"/".join(p.split("/")[:2]) for p in package.files if p.startswith("lib/")})
    for lib_dir in lib_dirs:
        if "/" not in lib_dir:
            raise ReleaseError(f"{package.source}: refused, a file directly in lib/: {lib_dir}")
        target = root / lib_dir
        if not target.exists():
            new_dirs.append(lib_dir)
            continue
        wanted = {p: hashlib.sha256(b).hexdigest() for p, b in package.under(lib_dir).items()}
        if _tree_hashes(target, root) != wanted:
            raise ReleaseError(
                f"{package.source}: refused, {lib_dir} exists in {root} with different content; "
                "an app version's code must never change — bump its version"
            )
    return new_dirs


def extract(package: Package, root: Path) -> list[str]:
    """Write the new directories into `root` (staged, then renamed in); return what was added."""
    new_dirs = plan(package, root)
    staging = Path(tempfile.mkdtemp(prefix=".unpack-", dir=root / "releases"))
    added: list[Path] = []
    try:
        for new_dir in new_dirs:
            for path, data in package.under(new_dir).items():
                target = staging / path
                target.parent.mkdir(parents=True, exist_ok=True, mode=0o755)
                target.write_bytes(data)
                target.chmod(0o755 if path in package.executables else 0o644)
        for new_dir in new_dirs:
            destination = root / new_dir
            destination.parent.mkdir(parents=True, exist_ok=True)
            os.rename(staging / new_dir, destination)
            added.append(destination)
    except OSError as exc:
        for destination in added:
            shutil.rmtree(destination, ignore_errors=True)
        raise ReleaseError(f"{package.source}: unpack into {root} failed ({exc})") from None
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return new_dirs
