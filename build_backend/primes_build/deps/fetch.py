"""Fetch each locked file once (lock URL, lock path or a wheelhouse), check its sha256, cache it."""

from __future__ import annotations

import hashlib
import os
import tempfile
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

from primes_build.deps.lockfile import Lock, Locked
from primes_build.errors import BuildError
from primes_build.wheels.cache import CACHE_DIR

TIMEOUT = 60.0


class FileCache:
    """Locked files kept as `<outdir>/.primes-cache/files/<sha256>/<filename>`."""

    def __init__(self, outdir: Path) -> None:
        self.top = outdir / CACHE_DIR / "files"

    def slot(self, locked: Locked) -> Path:
        """Where the file of that hash lives in the cache."""
        return self.top / locked.sha256 / locked.filename

    def fetch(self, lock: Lock, locked: Locked, wheelhouse: Path | None) -> tuple[Path, bool]:
        """The cached file (fetched now if missing); True when it was already cached."""
        target = self.slot(locked)
        if target.is_file() and _sha256(target.read_bytes()) == locked.sha256:
            return target, True
        data = _read(lock, locked, wheelhouse)
        got = _sha256(data)
        if got != locked.sha256:
            raise lock.error(
                f"{locked.filename} has sha256 {got}, but the lock says {locked.sha256}; "
                "the file is not the one locked: fix its source or run primes lock"
            )
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, temp = tempfile.mkstemp(dir=target.parent, prefix=".part-")
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        os.replace(temp, target)
        return target, False


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _read(lock: Lock, locked: Locked, wheelhouse: Path | None) -> bytes:
    """The file's bytes: from the wheelhouse if given, else the lock's path or URL."""
    if wheelhouse is not None:
        candidate = wheelhouse / locked.filename
        if not candidate.is_file():
            raise BuildError(
                f"-C wheelhouse={wheelhouse}: no {locked.filename} there "
                f"({locked.name} {locked.version} in {lock.shown}); add it or drop the setting"
            )
        return candidate.read_bytes()
    if locked.path is not None:
        return _read_file(lock, lock.path.parent / locked.path, locked)
    if locked.url is None:
        raise lock.error(f"{locked.filename}: neither url nor path; run primes lock")
    parsed = urllib.parse.urlsplit(locked.url)
    if parsed.scheme == "file":
        return _read_file(lock, Path(urllib.request.url2pathname(parsed.path)), locked)
    if parsed.scheme not in ("http", "https"):
        raise lock.error(f"{locked.filename}: cannot fetch a {parsed.scheme}: URL")
    try:
        with urllib.request.urlopen(locked.url, timeout=TIMEOUT) as response:
            data: bytes = response.read()
            return data
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise lock.error(
            f"cannot fetch {locked.filename} from {locked.url} ({reason}); "
            "for a build with no network pass -C wheelhouse=DIR"
        ) from None


def _read_file(lock: Lock, path: Path, locked: Locked) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise lock.error(
            f"cannot read {locked.filename} at {path} ({exc.strerror}); "
            "pass -C wheelhouse=DIR or run primes lock"
        ) from None
