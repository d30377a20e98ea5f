"""The sdist: everything the wheel build needs (primes.toml, apps, runtime, rel, the backend)."""

from __future__ import annotations

import tomllib
from pathlib import Path

from primes_build.dists.metadata import Distribution
from primes_build.package.tarball import targz_bytes, write_atomic
from primes_build.project.config import ReleaseConfig
from primes_build.wheels.sourcetree import source_files

SDIST_ITEMS = (
    "pyproject.toml",
    "primes.toml",
    "pylock.toml",  # the locked third-party libraries, when the project has them
    "README.md",
    "build_backend",
    "rel",
    "apps",
)


def sdist_files(config: ReleaseConfig) -> dict[str, bytes]:
    """The project files an sdist carries, POSIX path relative to the root -> content."""
    root = config.root
    runtime = [config.runtime.path] if config.runtime is not None else []
    tops = [*SDIST_ITEMS, *runtime, *(a.path for a in config.apps)]
    tops += [p for p in _backend_path(root) if p not in tops]
    tops += sorted(p.name for p in root.glob("LICENSE*") if p.is_file())
    files: dict[str, bytes] = {}
    for top in tops:
        path = root / top
        if path.is_file():
            files[top] = path.read_bytes()
        elif path.is_dir():
            for rel in source_files(path):
                files[f"{top}/{rel}"] = (path / rel).read_bytes()
    return files


def _backend_path(root: Path) -> list[str]:
    """pyproject.toml's build-system.backend-path: the wheel build from the sdist needs them."""
    with open(root / "pyproject.toml", "rb") as f:
        entries = tomllib.load(f).get("build-system", {}).get("backend-path", [])
    return [str(e) for e in entries if isinstance(e, str)]


def write_sdist(config: ReleaseConfig, dist: Distribution, sdist_dir: Path) -> Path:
    """Write `<name>-<vsn>.tar.gz` with a `<name>-<vsn>/` top directory and PKG-INFO."""
    base = f"{dist.filename_name}-{dist.version}"
    files = {f"{base}/{rel}": data for rel, data in sdist_files(config).items()}
    files[f"{base}/PKG-INFO"] = dist.metadata
    target = sdist_dir / f"{base}.tar.gz"
    write_atomic(target, targz_bytes(files, executable=lambda _: False))
    return target
