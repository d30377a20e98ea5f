"""The on-disk release state: releases/RELEASES and releases/start_data, written atomically."""

from __future__ import annotations

import os
import tempfile
from contextlib import suppress
from pathlib import Path

from primes_runtime.formats import FormatError, releases, start_data

from .errors import ReleaseError

STORED_STATUSES = releases.STATUSES
StoredRelease = releases.Release
StartData = start_data.StartData


def releases_file(root: Path) -> Path:
    """Where RELEASES lives in a tree."""
    return root / releases.PATH


def start_data_file(root: Path) -> Path:
    """Where start_data lives in a tree."""
    return root / start_data.PATH


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
        return releases.parse(path.read_text(encoding="utf-8"), str(path))
    except FileNotFoundError:
        raise ReleaseError(f"{path}: missing; this is not a deployed release tree") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ReleaseError(f"{path}: unreadable ({exc}); restore it from a backup") from None
    except FormatError as exc:
        raise ReleaseError(str(exc)) from None


def write_releases(root: Path, entries: tuple[StoredRelease, ...]) -> None:
    """Write RELEASES atomically (temp file, fsync, rename)."""
    try:
        text = releases.render(entries)
    except FormatError as exc:
        raise ValueError(exc.message) from None
    atomic_write(releases_file(root), text)


def read_start_data(root: Path) -> StartData:
    """Read start_data: `<permanent vsn> <runtime dir>`."""
    path = start_data_file(root)
    try:
        return start_data.parse(path.read_text(encoding="utf-8"), str(path))
    except (OSError, UnicodeDecodeError) as exc:
        raise ReleaseError(f"{path}: unreadable ({exc}); restore it") from None
    except FormatError as exc:
        raise ReleaseError(str(exc)) from None


def write_start_data(root: Path, data: StartData) -> None:
    """Write start_data atomically."""
    atomic_write(start_data_file(root), start_data.render(data))


def commit(
    root: Path,
    old: tuple[StoredRelease, ...],
    new: tuple[StoredRelease, ...],
    start: tuple[StartData | None, StartData] | None = None,
) -> None:
    """The commit point of a release operation: RELEASES `old` -> `new`, then start_data
    (`start`: its old and new value). On an error the old files are put back (best effort;
    what stays, the recovery pass repairs) and the error is raised."""
    try:
        write_releases(root, new)
        if start is not None:
            write_start_data(root, start[1])
    except OSError:
        with suppress(OSError):
            write_releases(root, old)
            if start is not None and start[0] is not None:
                write_start_data(root, start[0])
        raise
