"""Which files of a source tree are sources (no caches, no build output), and their hash."""

from __future__ import annotations

import fnmatch
import hashlib
import os
import shutil
from pathlib import Path

SKIP_NAMES = (
    "__pycache__",
    "*.pyc",
    "*.pyo",
    "*.egg-info",
    ".git",
    ".hg",
    ".venv",
    ".tox",
    ".nox",
    ".mypy_cache",
    ".pytest_cache",
    ".ruff_cache",
    ".primes-cache",
    ".DS_Store",
)
SKIP_BESIDE_PYPROJECT = ("build", "dist")


def _skipped(name: str, parent: Path) -> bool:
    if any(fnmatch.fnmatchcase(name, pattern) for pattern in SKIP_NAMES):
        return True
    return name in SKIP_BESIDE_PYPROJECT and (parent / "pyproject.toml").is_file()


def source_files(top: Path) -> list[str]:
    """The source files under `top`, as sorted POSIX paths relative to it."""
    found: list[str] = []
    for here, dirs, files in os.walk(top):
        base = Path(here)
        dirs[:] = sorted(d for d in dirs if not _skipped(d, base))
        for name in files:
            path = base / name
            if not _skipped(name, base) and path.is_file():
                found.append(path.relative_to(top).as_posix())
    return sorted(found)


def tree_hash(top: Path) -> str:
    """sha256 over the source files' relative paths and contents."""
    digest = hashlib.sha256(b"primes source tree 1\n")
    for rel in source_files(top):
        digest.update(rel.encode("utf-8") + b"\0")
        digest.update(hashlib.sha256((top / rel).read_bytes()).digest())
    return digest.hexdigest()


def copy_sources(top: Path, target: Path) -> None:
    """Copy the source files of `top` into the (new) directory `target`."""
    for rel in source_files(top):
        dest = target / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(top / rel, dest)
