"""The recovery pass: bring a tree an interrupted release operation left back to a known state.

The on-disk protocol (docs/release-handling.md) makes releases/RELEASES the commit point:

- unpack renames releases/<vsn> first, then its new lib/ dirs, and lists the release in
  RELEASES last; uninstall drops the release from RELEASES first, then moves its lib/ dirs
  and releases/<vsn> (last) aside. So a releases/<vsn> holding a release.json that RELEASES
  does not list is garbage, and its release.json names the lib/ dirs that may be garbage too.
- make_permanent writes RELEASES, then start_data: start_data is derived from RELEASES'
  permanent entry, and repaired from it.
- staging (releases/.unpack-*), trash (releases/.uninstall-*) and the temp files of the
  atomic writes (releases/.RELEASES.*.tmp, releases/.start_data.*.tmp) are leftovers.

Callers run :func:`recover` holding the tree: the node under its release lock (and at start,
holding the node lock), the CLI only while no node holds the node lock (:func:`recover_idle`).
"""

from __future__ import annotations

import errno
import fcntl
import os
import shutil
import tempfile
from collections.abc import Collection
from pathlib import Path

from primes_runtime.errors import ConfigError
from primes_runtime.host import manifest

from . import layout, store
from .errors import ReleaseError
from .store import StartData

_LEFTOVER_DIRS = (".unpack-", ".uninstall-")
_LEFTOVER_FILES = (".RELEASES.", ".start_data.")


def recover(root: Path, keep: Collection[str] = ()) -> tuple[str, ...]:
    """Repair the tree at `root`; one line per repair. `keep`: versions never removed (the
    running release). A tree with no releases/RELEASES is not touched."""
    root = Path(root)
    if not store.releases_file(root).is_file():
        return ()
    repairs = _clean_leftovers(root)
    try:
        entries = store.read_releases(root)
    except ReleaseError:
        return tuple(repairs)  # nothing to derive from; the command reading it says why
    repairs += _drop_missing(root, entries, keep)
    listed = {e.version for e in store.read_releases(root)} | set(keep)
    for garbage in _unlisted_release_dirs(root, listed):
        repairs.append(_remove_release(root, garbage, listed))
    repairs += _repair_start_data(root)
    return tuple(repairs)


def recover_idle(root: Path, lock: Path) -> tuple[str, ...]:
    """:func:`recover` while holding the node lock `lock`; nothing when a node holds it.

    A tree without the lock file never ran a node, so no release operation ever ran on it:
    there is nothing to recover, and a read-only command must not create the file."""
    if not store.releases_file(root).is_file():
        return ()
    try:
        fd = os.open(lock, os.O_RDWR)
    except OSError:
        return ()
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN):
                return ()  # a node runs: it recovers its own tree
            raise
        return recover(root)
    finally:
        os.close(fd)


def _clean_leftovers(root: Path) -> list[str]:
    repairs: list[str] = []
    for entry in sorted((root / "releases").iterdir()):
        name = entry.name
        if name.startswith(_LEFTOVER_DIRS) and entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry)
            repairs.append(f"removed the leftover releases/{name}")
        elif name.startswith(_LEFTOVER_FILES) and name.endswith(".tmp") and entry.is_file():
            entry.unlink()
            repairs.append(f"removed the leftover releases/{name}")
    return repairs


def _unlisted_release_dirs(root: Path, listed: set[str]) -> list[str]:
    return [
        entry.name
        for entry in sorted((root / "releases").iterdir())
        if not entry.name.startswith(".")
        and entry.name not in listed
        and entry.is_dir()
        and (entry / "release.json").is_file()
    ]


def _paths(root: Path, version: str) -> set[str]:
    """The lib/ dirs release `version` uses, from its release.json."""
    return layout.code_dirs(manifest.load(root, version))


def _remove_release(root: Path, version: str, listed: set[str]) -> str:
    """Move the lib/ dirs only `version` used, then releases/<vsn> (last), aside; delete them."""
    try:
        used: set[str] = set()
        for other in listed:
            used |= _paths(root, other)
        doomed = sorted(d for d in _paths(root, version) - used if layout.is_lib_dir(d))
    except ConfigError:
        doomed = []  # a listed release is unreadable: keep every lib/ dir
    doomed = [d for d in doomed if (root / d).is_dir()]
    trash = Path(tempfile.mkdtemp(prefix=".uninstall-", dir=root / "releases"))
    for index, rel_dir in enumerate(doomed):
        os.rename(root / rel_dir, trash / str(index))
    os.rename(root / "releases" / version, trash / "release")
    shutil.rmtree(trash)
    gone = ", ".join(doomed)
    return f"removed release {version}, which RELEASES does not list" + (
        f" (and {gone})" if gone else ""
    )


def _drop_missing(
    root: Path, entries: tuple[store.StoredRelease, ...], keep: Collection[str]
) -> list[str]:
    """Forget unpacked and old entries whose releases/<vsn>/release.json is gone."""
    missing = [
        e.version
        for e in entries
        if e.status != "permanent"
        and e.version not in keep
        and not (root / "releases" / e.version / "release.json").is_file()
    ]
    if not missing:
        return []
    store.write_releases(root, tuple(e for e in entries if e.version not in missing))
    return [f"forgot release {v}: RELEASES listed it, releases/{v} is gone" for v in missing]


def _repair_start_data(root: Path) -> list[str]:
    """start_data names RELEASES' permanent release and its runtime dir."""
    permanent = [e.version for e in store.read_releases(root) if e.status == "permanent"]
    if not permanent:
        return []
    version = permanent[0]
    try:
        expected = StartData(version, manifest.load(root, version).runtime.path)
    except ConfigError:
        return []
    try:
        found: StartData | None = store.read_start_data(root)
    except ReleaseError:
        found = None
    if found == expected:
        return []
    store.write_start_data(root, expected)
    was = f"{found.version} {found.runtime_dir}" if found is not None else "unreadable"
    return [f"rewrote releases/start_data for permanent release {version} (it was {was})"]
