"""pylock.toml (PEP 751), read with packaging.pylock, and what it selects for the target Python."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

from packaging.pylock import (
    PackageSdist,
    PackageWheel,
    Pylock,
    PylockSelectError,
    PylockUnsupportedVersionError,
    PylockValidationError,
)
from packaging.utils import canonicalize_name

from primes_build.deps.target import Target
from primes_build.errors import BuildError

LOCK_FILE = "pylock.toml"


@dataclass(frozen=True)
class Locked:
    """One distribution the lock selects for this interpreter, and the file to fetch."""

    name: str
    """Canonical name (`sortedcontainers`)."""
    version: str
    filename: str
    url: str | None
    path: str | None
    """A path in the lock, relative to the lock's directory."""
    sha256: str
    is_wheel: bool


@dataclass(frozen=True)
class Lock:
    """A read pylock.toml: where it is and what it selects."""

    path: Path
    shown: str
    packages: tuple[Locked, ...]

    def get(self, name: str) -> Locked | None:
        """The locked distribution of that (any-form) name, or None."""
        want = canonicalize_name(name)
        return next((p for p in self.packages if p.name == want), None)

    def error(self, message: str) -> BuildError:
        """A BuildError naming the lock file."""
        return BuildError(message, file=self.shown)


def load(root: Path, target: Target | None = None) -> Lock | None:
    """Read root/pylock.toml, selecting for `target` (default: this interpreter); None when
    there is none."""
    path = root / LOCK_FILE
    if not path.is_file():
        return None
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        pylock = Pylock.from_dict(data)
        target = target or Target()
        selected = list(pylock.select(environment=target.environment(), tags=target.tags()))
    except tomllib.TOMLDecodeError as exc:
        raise BuildError(f"TOML syntax error: {exc}; run primes lock", file=LOCK_FILE) from None
    except (PylockValidationError, PylockUnsupportedVersionError, PylockSelectError) as exc:
        raise BuildError(f"{exc}; run primes lock", file=LOCK_FILE) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise BuildError(f"cannot read it: {exc}", file=LOCK_FILE) from None
    packages = []
    for package, artifact in selected:
        if not isinstance(artifact, PackageWheel | PackageSdist):
            raise BuildError(
                f"{package.name}: only wheels and sdists can be shipped, not "
                f"{type(artifact).__name__}; lock it from an index",
                file=LOCK_FILE,
            )
        packages.append(_locked(package.name, str(package.version or ""), artifact))
    return Lock(path=path, shown=LOCK_FILE, packages=tuple(packages))


def _locked(name: str, version: str, artifact: PackageWheel | PackageSdist) -> Locked:
    sha256 = artifact.hashes.get("sha256")
    where = artifact.url or artifact.path or ""
    filename = artifact.name or where.rstrip("/").rsplit("/", 1)[-1]
    if not sha256:
        raise BuildError(f"{name} {version}: {filename} has no sha256 hash", file=LOCK_FILE)
    if not filename or not version:
        raise BuildError(f"{name}: no version or file name; run primes lock", file=LOCK_FILE)
    return Locked(
        name=canonicalize_name(name),
        version=version,
        filename=filename,
        url=artifact.url,
        path=artifact.path,
        sha256=sha256.lower(),
        is_wheel=isinstance(artifact, PackageWheel),
    )
