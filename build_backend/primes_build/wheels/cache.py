"""The wheel cache under the output directory, keyed by a hash of each project's sources."""

from __future__ import annotations

import hashlib
import shutil
import sys
from pathlib import Path

from primes_build.wheels.sourcetree import tree_hash

CACHE_DIR = ".primes-cache"


def source_key(project: Path) -> str:
    """The cache key of a project: its source tree hash and the Python it is built for."""
    python = f"py{sys.version_info[0]}.{sys.version_info[1]}"
    return hashlib.sha256(f"{tree_hash(project)} {python}".encode()).hexdigest()[:32]


class WheelCache:
    """Built wheels kept as `<outdir>/.primes-cache/wheels/<name>-<key>/<wheel>`."""

    def __init__(self, outdir: Path) -> None:
        self.top = outdir / CACHE_DIR / "wheels"

    def lookup(self, name: str, key: str) -> Path | None:
        """The cached wheel for this name and key, if there is exactly one."""
        wheels = sorted((self.top / f"{name}-{key}").glob("*.whl"))
        return wheels[0] if len(wheels) == 1 else None

    def store(self, name: str, key: str, wheel: Path) -> Path:
        """Move a freshly built wheel into the cache; returns its new path."""
        slot = self.top / f"{name}-{key}"
        if slot.exists():
            shutil.rmtree(slot)
        slot.mkdir(parents=True)
        target = slot / wheel.name
        shutil.move(str(wheel), target)
        return target
