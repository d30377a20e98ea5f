"""The release manifest releases/<vsn>/release.json (docs/formats.md) and its module hashes."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from primes_runtime.formats import FormatError, manifest

from primes_build.errors import BuildError
from primes_build.project.appmeta import AppMeta
from primes_build.project.config import ReleaseConfig
from primes_build.wheels.install import Installed
from primes_build.wheels.modules import extension_hashes, module_hashes

FORMAT = manifest.FORMAT


def lib_path(name: str, version: str) -> str:
    """The code directory of an app (or the runtime) in a release tree."""
    return f"lib/{name}-{version}"


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
