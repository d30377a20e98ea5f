"""The modules an installed code dir provides, each by the sha256 of its file."""

from __future__ import annotations

import hashlib
import importlib.machinery
from collections.abc import Mapping

# Longest first: `x.cpython-311-x86_64-linux-gnu.so` is module `x`, not `x.cpython-311-...`.
EXTENSION_SUFFIXES = tuple(sorted(importlib.machinery.EXTENSION_SUFFIXES, key=len, reverse=True))


def module_hashes(files: Mapping[str, bytes]) -> dict[str, str]:
    """Dotted module name -> sha256 of its source, for every importable .py of a code dir."""
    return _hashes(files, (".py",))


def extension_hashes(files: Mapping[str, bytes]) -> dict[str, str]:
    """Dotted module name -> sha256 of the file, for every compiled extension module of a
    code dir (a file ending in one of this Python's importlib.machinery.EXTENSION_SUFFIXES)."""
    return _hashes(files, EXTENSION_SUFFIXES)


def _hashes(files: Mapping[str, bytes], suffixes: tuple[str, ...]) -> dict[str, str]:
    """Dotted module name (`pkg/__init__<suffix>` is `pkg`) -> sha256, per file with a suffix."""
    modules: dict[str, str] = {}
    for path in sorted(files):
        suffix = next((s for s in suffixes if path.endswith(s)), None)
        if suffix is None:
            continue
        parts = path[: -len(suffix)].split("/")
        if parts[-1] == "__init__":
            parts = parts[:-1]
        if not parts or not all(p.isidentifier() for p in parts):
            continue
        if any(p.endswith((".dist-info", ".data")) for p in path.split("/")[:-1]):
            continue
        modules[".".join(parts)] = hashlib.sha256(files[path]).hexdigest()
    return modules
