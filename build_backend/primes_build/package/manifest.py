"""The release manifest releases/<vsn>/release.json (docs/formats.md) and its module hashes."""

from __future__ import annotations

import hashlib
import importlib.machinery
from collections.abc import Mapping, Sequence
from typing import Any

from primes_runtime.formats import FormatError, manifest

from primes_build.errors import BuildError
from primes_build.project.appmeta import AppMeta
from primes_build.project.config import ReleaseConfig
from primes_build.wheels.install import Installed

FORMAT = manifest.FORMAT


def lib_path(name: str, version: str) -> str:
    """The code directory of an app (or the runtime) in a release tree."""
    return f"lib/{name}-{version}"


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


def build_manifest(
    config: ReleaseConfig,
    runtime: Installed,
    apps: Sequence[tuple[AppMeta, Installed]],
    upgrades: Mapping[str, Sequence[str]] | None = None,
    libraries: Sequence[Mapping[str, Any]] = (),
) -> dict[str, Any]:
    """The manifest dict; `apps` in start order; `upgrades` {"up_from": [...], "down_to": [...]};
    `libraries` the third-party code dirs in dependency order (primes_build.deps)."""
    upgrades = upgrades or {}
    target = {"python": config.python} if config.python else {}
    return {
        **target,
        "libraries": [dict(entry) for entry in libraries],  # third-party, in dependency order
        "format": FORMAT,
        "name": config.name,
        "version": config.version,
        "requires_python": config.requires_python,
        "runtime": {
            "name": runtime.name,
            "version": runtime.version,
            "path": lib_path(runtime.name, runtime.version),
            "modules": module_hashes(runtime.files),
            "extensions": extension_hashes(runtime.files),
        },
        "apps": [
            {
                "name": meta.name,
                "version": installed.version,
                "path": lib_path(meta.name, installed.version),
                "description": meta.description,
                "start": meta.start,
                "stop": meta.stop,
                "needs": list(meta.needs),
                "env": dict(meta.env),
                "modules": module_hashes(installed.files),
                "extensions": extension_hashes(installed.files),
            }
            for meta, installed in apps
        ],
        "upgrades": {
            "up_from": list(upgrades.get("up_from", [])),
            "down_to": list(upgrades.get("down_to", [])),
        },
    }


def dumps(data: Mapping[str, Any]) -> str:
    """JSON, keys sorted, 2-space indent, trailing newline: the format layer's render, which
    refuses a manifest the runtime would not read."""
    try:
        return manifest.render(data)
    except (FormatError, TypeError) as exc:
        raise BuildError(f"internal error: the build made an invalid release.json: {exc}") from None
