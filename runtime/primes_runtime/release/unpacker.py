"""Stream a package into a staging dir under limits, verifying it; run in a child process.

The node never holds a package in memory: `stage_in_child` has a child process (a worker
forked by the node's warm child, or a fresh interpreter; with its own address-space limit)
that reads the tar member by member, refuses it past a limit,
writes each file into the staging dir while hashing it, then checks SHA256SUMS and
release.json. It prints the result as one JSON line; an error is one line on stderr.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import resource
import sys
import tarfile
from dataclasses import asdict, dataclass
from pathlib import Path, PurePosixPath
from typing import BinaryIO

from primes_runtime.formats import FormatError, sha256sums
from primes_runtime.formats.unpack_limits import UnpackLimits
from primes_runtime.loading import bytecode, child
from primes_runtime.loading.warm import Finished, WarmChild

from . import diskfull, interpreter, layout
from .errors import ReleaseError

_VERSION = re.compile(r"[A-Za-z0-9][A-Za-z0-9._+-]*")
_CHUNK = 1 << 20
_RATIO_FLOOR = 1 << 20


@dataclass(frozen=True)
class Staged:
    """What the child verified: the release it holds and every file's sha256 by tree path."""

    name: str
    version: str
    hashes: dict[str, str]


def stage_in_child(
    source: Path,
    package: BinaryIO,
    staging: Path,
    limits: UnpackLimits,
    warm: WarmChild | None = None,
) -> Staged:
    """Verify the open `package` (named `source`) into `staging` in a child process: a
    worker of the node's `warm` child when it has one (no interpreter start, no imports),
    else a fresh interpreter.

    The child reads the very file the caller opened (and checked the signature of), not the
    path again: a package swapped for another after the check is never the one unpacked.
    ReleaseError (one line) if refused.
    """
    fd = package.fileno()
    os.lseek(fd, 0, os.SEEK_SET)
    args = [str(source), str(fd), str(staging), json.dumps(asdict(limits))]
    done = warm.run(__name__, args, 1, fd, limits.timeout) if warm is not None else None
    if done is None:
        done = _fresh_child(args, fd, limits.timeout)
    if done.timed_out:
        raise ReleaseError(
            f"{source}: refused, unpacking took over {limits.timeout:g}s (unpack.timeout)"
        )
    if done.returncode == 0:
        data = json.loads(done.stdout)
        return Staged(data["name"], data["version"], data["hashes"])
    lines = done.stderr.strip().splitlines()
    if done.returncode == 2 and lines:
        raise ReleaseError(lines[-1])
    code = done.returncode
    why = f"signal {-code}" if code < 0 else f"status {code}"
    last = f": {lines[-1]}" if lines else ""
    raise ReleaseError(f"{source}: the unpacker process failed ({why}){last}")


def _fresh_child(args: list[str], fd: int, timeout: float) -> Finished:
    """`main(args)` in a fresh interpreter that inherits descriptor `fd`."""
    import subprocess  # here: the unpack child imports this module and seldom needs it

    argv = child.command(__name__, *args)
    try:
        done = subprocess.run(
            argv, capture_output=True, text=True, timeout=timeout, check=False, pass_fds=(fd,)
        )
    except subprocess.TimeoutExpired:
        return Finished(-9, "", "", timed_out=True)
    return Finished(done.returncode, done.stdout, done.stderr)


def main(argv: list[str]) -> int:
    """Child entry point: argv is the package's name, its open fd, the staging dir, limits."""
    source, fd, staging = Path(argv[0]), int(argv[1]), Path(argv[2])
    limits = UnpackLimits(**json.loads(argv[3]))
    memory = limits.memory_bytes
    with contextlib.suppress(ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    with contextlib.suppress(OSError):
        os.nice(bytecode.NICENESS)  # the node's serving threads go first when the cores are busy
    try:
        with os.fdopen(fd, "rb") as package:
            staged = stage(
                source, package, staging, limits, present_lib_dirs(staging.parent.parent)
            )
        precompile(staging, staging.parent.parent, staged.version, limits.timeout)
    except ReleaseError as exc:
        print(exc, file=sys.stderr)
        return 2
    except MemoryError:
        print(
            f"{source}: refused, unpacking needed more than {memory} bytes of memory "
            "(unpack.memory_bytes)",
            file=sys.stderr,
        )
        return 2
    print(json.dumps(asdict(staged)))
    return 0


def precompile(staging: Path, root: Path, version: str, timeout: float = 600.0) -> None:
    """Compile the verified code of the lib/ dirs the tree does not have yet into bytecode.

    The node then loads the new code from __pycache__ instead of compiling it: compile()
    holds the GIL for each module, and every client of the node waits meanwhile. A module
    that does not compile is left to the install's load_object_code to report. A release
    that names another interpreter is compiled by that interpreter, or not at all when this
    host lacks it: never bytecode for an interpreter the release does not run on.
    """
    lib = staging / "lib"
    if not lib.is_dir():
        return
    new = [d for d in sorted(lib.iterdir()) if d.is_dir() and not (root / "lib" / d.name).exists()]
    if interpreter.target_of(staging / "releases" / version) in ("", interpreter.own()):
        bytecode.compile_dirs(new)
        return
    target, configured = interpreter.wanted(staging / "releases" / version)
    python = interpreter.located(target, configured)
    if python is None or not new:
        return
    import subprocess

    argv = child.command(bytecode.__name__, *map(str, new), python=python)
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, timeout=timeout)


def present_lib_dirs(root: Path) -> frozenset[str]:
    """The tree's lib dirs ("lib/<name>-<vsn>"), which an unpack never adds again."""
    try:
        return frozenset(f"lib/{d.name}" for d in (root / "lib").iterdir() if d.is_dir())
    except OSError:
        return frozenset()


def stage(
    source: Path,
    package: BinaryIO,
    staging: Path,
    limits: UnpackLimits,
    present: frozenset[str] = frozenset(),
) -> Staged:
    """Stream the open package's files into `staging` (which must exist), then verify them.

    Members under a top-level dir in `present` (lib dirs the tree has already) are hashed
    but not written: the tree's copy stays the one used (the install compares the hashes),
    and creating a file costs ~1 ms on some disks, ~100 files a release."""
    compressed = os.fstat(package.fileno()).st_size
    allowed = max(_RATIO_FLOOR, limits.max_ratio * compressed)
    hashes: dict[str, str] = {}
    count = total = 0
    try:
        with tarfile.open(fileobj=package, mode="r|gz") as tar:
            while (member := tar.next()) is not None:
                tar.members.clear()  # type: ignore[attr-defined]  # a stream keeps no index
                count += 1
                if count > limits.max_members:
                    raise ReleaseError(
                        f"{source}: refused, more than {limits.max_members} members "
                        "(unpack.max_members)"
                    )
                name = _clean_name(source, member)
                written = "/".join(name.split("/")[:2]) not in present
                if member.isdir():
                    if written:
                        (staging / name).mkdir(parents=True, exist_ok=True, mode=0o755)
                    continue
                _check_size(source, member, limits)
                total += member.size
                if total > limits.max_total_bytes:
                    raise ReleaseError(
                        f"{source}: refused, over {limits.max_total_bytes} bytes unpacked "
                        "(unpack.max_total_bytes)"
                    )
                if total > allowed:
                    raise ReleaseError(
                        f"{source}: refused, unpacks to over {limits.max_ratio} times its "
                        f"{compressed} compressed bytes (unpack.max_ratio)"
                    )
                if name in hashes:
                    raise ReleaseError(f"{source}: refused, {name!r} appears twice")
                hashes[name] = (
                    _write(tar, member, staging / name) if written else _hash(tar, member)
                )
    except (tarfile.TarError, EOFError, OSError, ValueError) as exc:
        if diskfull.is_full(exc):
            raise ReleaseError(diskfull.line(f"{source}: cannot unpack", staging.parent)) from None
        raise ReleaseError(f"{source}: not a readable .tar.gz package ({exc})") from None
    version = _release_version(source, hashes)
    _verify_sums(source, version, hashes, staging)
    name = _release_name(source, version, staging)
    manifest_text = (staging / f"releases/{version}/release.json").read_text(errors="replace")
    layout.check_package(source, version, manifest_text, hashes)
    return Staged(name, version, hashes)


def _check_size(source: Path, member: tarfile.TarInfo, limits: UnpackLimits) -> None:
    if member.issparse():
        raise ReleaseError(f"{source}: refused, {member.name!r} is a sparse file")
    if member.size > limits.max_member_bytes:
        raise ReleaseError(
            f"{source}: refused, {member.name!r} is {member.size} bytes, over the "
            f"{limits.max_member_bytes}-byte limit (unpack.max_member_bytes)"
        )


def _write(tar: tarfile.TarFile, member: tarfile.TarInfo, target: Path) -> str:
    """Copy one member to `target` in chunks; its sha256."""
    stream = tar.extractfile(member)
    assert stream is not None
    target.parent.mkdir(parents=True, exist_ok=True, mode=0o755)
    digest = hashlib.sha256()
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as out:
        while chunk := stream.read(_CHUNK):
            digest.update(chunk)
            out.write(chunk)
    target.chmod(0o755 if member.mode & 0o111 else 0o644)
    return digest.hexdigest()


def _hash(tar: tarfile.TarFile, member: tarfile.TarInfo) -> str:
    """The sha256 of one member, read in chunks and not written anywhere."""
    stream = tar.extractfile(member)
    assert stream is not None
    digest = hashlib.sha256()
    while chunk := stream.read(_CHUNK):
        digest.update(chunk)
    return digest.hexdigest()


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
    if not name or name == ".":
        raise ReleaseError(f"{source}: refused, a member with an empty name")
    return name


def _climbs_out(path: PurePosixPath) -> bool:
    depth = 0
    for part in path.parts:
        depth += -1 if part == ".." else 0 if part == "." else 1
        if depth < 0:
            return True
    return False


def _release_version(source: Path, hashes: dict[str, str]) -> str:
    versions = {
        parts[1]
        for parts in (p.split("/") for p in hashes)
        if len(parts) == 3 and parts[0] == "releases" and parts[2] == "release.json"
    }
    if not versions:
        _refuse_sdist(source, hashes)
    if len(versions) != 1:
        raise ReleaseError(
            f"{source}: refused, expected exactly one releases/<vsn>/release.json, "
            f"found {len(versions)}; is this a primes release package?"
        )
    version = versions.pop()
    if not _VERSION.fullmatch(version):
        raise ReleaseError(f"{source}: refused, release version {version!r} is not a safe name")
    return version


def _refuse_sdist(source: Path, hashes: dict[str, str]) -> None:
    """A source distribution (`<top>/PKG-INFO`, what `python -m build` writes as
    `<name>-<vsn>.tar.gz` beside the release package `<name>_<vsn>.tar.gz`) is refused saying so."""
    tops = {p.split("/")[0] for p in hashes}
    if len(tops) != 1 or f"{next(iter(tops))}/PKG-INFO" not in hashes:
        return
    stem, _, version = next(iter(tops)).rpartition("-")
    release = source.with_name(f"{stem}_{version}.tar.gz")
    there = " (it is next to this one)" if release.is_file() else ""
    raise ReleaseError(
        f"{source}: refused, this is a source distribution (sdist), not a release package; "
        f"unpack {release.name}{there}, the file python -m build wrote beside it"
    )


def _verify_sums(source: Path, version: str, hashes: dict[str, str], staging: Path) -> None:
    """Every file but SHA256SUMS is listed in it with its sha256, and nothing else is."""
    sums_path = sha256sums.path_for(version)
    if sums_path not in hashes:
        raise ReleaseError(f"{source}: refused, {sums_path} is missing; rebuild the package")
    try:
        sha256sums.verify_digests(hashes, (staging / sums_path).read_bytes(), sums_path)
    except FormatError as exc:
        raise ReleaseError(f"{source}: refused, {exc}") from None


def _release_name(source: Path, version: str, staging: Path) -> str:
    manifest_path = f"releases/{version}/release.json"
    try:
        manifest = json.loads((staging / manifest_path).read_bytes())
    except ValueError as exc:
        raise ReleaseError(f"{source}: refused, {manifest_path} is not JSON ({exc})") from None
    if not isinstance(manifest, dict) or manifest.get("version") != version:
        raise ReleaseError(f"{source}: refused, {manifest_path} does not say version {version!r}")
    name = manifest.get("name")
    if not isinstance(name, str):
        raise ReleaseError(f"{source}: refused, {manifest_path} has no release name")
    return name
