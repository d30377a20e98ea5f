"""The on-disk release state: releases/RELEASES and releases/start_data, written atomically."""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from .errors import ReleaseError

#: Statuses written to RELEASES; "current" is never written (it is the running node's knowledge).
STORED_STATUSES = ("unpacked", "permanent", "old")


@dataclass(frozen=True)
class StoredRelease:
    """One entry of releases/RELEASES."""

    version: str
    status: str


@dataclass(frozen=True)
class StartData:
    """releases/start_data: the release `start` boots and the runtime dir it runs."""

    version: str
    runtime_dir: str


def releases_file(root: Path) -> Path:
    """Where RELEASES lives in a tree."""
    return root / "releases" / "RELEASES"


def start_data_file(root: Path) -> Path:
    """Where start_data lives in a tree."""
    return root / "releases" / "start_data"


def atomic_write(path: Path, text: str) -> None:
    """Replace `path` with `text` so that a kill at any moment leaves the old or the new file."""
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as tmp:
            tmp.write(text)
            tmp.flush()
            os.fsync(tmp.fileno())
        os.chmod(tmp_name, 0o644)
        os.replace(tmp_name, path)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def read_releases(root: Path) -> tuple[StoredRelease, ...]:
    """Read RELEASES; a missing or damaged file is an error naming the file."""
    path = releases_file(root)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ReleaseError(f"{path}: missing; this is not a deployed release tree") from None
    except (OSError, ValueError) as exc:
        raise ReleaseError(f"{path}: unreadable ({exc}); restore it from a backup") from None
    if not isinstance(data, dict) or data.get("format") != 1:
        raise ReleaseError(f"{path}: expected a JSON object with format 1; restore it")
    entries = data.get("releases")
    if not isinstance(entries, list):
        raise ReleaseError(f"{path}: key 'releases' must be a list")
    result: list[StoredRelease] = []
    for i, entry in enumerate(entries):
        if not (
            isinstance(entry, dict)
            and isinstance(entry.get("version"), str)
            and entry.get("status") in STORED_STATUSES
        ):
            raise ReleaseError(
                f"{path}: releases[{i}] must be {{'version': str, 'status': one of "
                f"{', '.join(STORED_STATUSES)}}}"
            )
        result.append(StoredRelease(entry["version"], entry["status"]))
    return tuple(result)


def write_releases(root: Path, releases: tuple[StoredRelease, ...]) -> None:
    """Write RELEASES atomically (temp file, fsync, rename)."""
    for rel in releases:
        if rel.status not in STORED_STATUSES:
            raise ValueError(f"status {rel.status!r} is never written to RELEASES")
    data = {
        "format": 1,
        "releases": [{"status": r.status, "version": r.version} for r in releases],
    }
    atomic_write(releases_file(root), json.dumps(data, indent=2, sort_keys=True) + "\n")


def read_start_data(root: Path) -> StartData:
    """Read start_data: `<permanent vsn> <runtime dir>`."""
    path = start_data_file(root)
    try:
        fields = path.read_text(encoding="utf-8").split()
    except OSError as exc:
        raise ReleaseError(f"{path}: unreadable ({exc.strerror}); restore it") from None
    if len(fields) != 2:
        raise ReleaseError(f"{path}: expected one line '<vsn> <runtime dir>'; restore it")
    return StartData(fields[0], fields[1])


def write_start_data(root: Path, data: StartData) -> None:
    """Write start_data atomically."""
    atomic_write(start_data_file(root), f"{data.version} {data.runtime_dir}\n")
