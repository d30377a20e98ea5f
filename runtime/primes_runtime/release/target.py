"""A release as the handler sees it: its manifest's apps with their effective env."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from primes_runtime.errors import ConfigError
from primes_runtime.host import config, manifest
from primes_runtime.host.config import NodeConfig
from primes_runtime.host.manifest import AppSpec, Manifest

from .errors import ReleaseError


@dataclass(frozen=True)
class AppVersion:
    """One app of a release: version, code dir (tree-relative), effective env, its spec."""

    name: str
    version: str
    path: str
    env: dict[str, Any]
    spec: AppSpec


@dataclass(frozen=True)
class Release:
    """What the handler needs of one release: its apps in start order and its runtime dir."""

    name: str
    version: str
    runtime_dir: str
    apps: Mapping[str, AppVersion]
    manifest: Manifest
    config: NodeConfig

    @property
    def env_overrides(self) -> Mapping[str, Mapping[str, Any]]:
        """The node config's [env.<app>] tables."""
        return self.config.env

    def paths(self) -> set[str]:
        """Every lib/ directory this release uses."""
        libraries = (lib.path for lib in self.manifest.libraries)  # third-party code dirs
        return {self.runtime_dir, *libraries, *(app.path for app in self.apps.values())}


def release_dir(root: Path, version: str) -> Path:
    """releases/<vsn>/ of a tree."""
    return root / "releases" / version


def load(root: Path, version: str) -> Release:
    """Read releases/<vsn>/release.json and node.toml; errors name the file."""
    if not release_dir(root, version).is_dir():
        raise ReleaseError(f"release {version} is not unpacked in {root}; unpack its package")
    try:
        man = manifest.load(root, version)
        node_config = config.load(root, version)
    except ConfigError as exc:
        raise ReleaseError(str(exc)) from None
    apps = {
        spec.name: AppVersion(
            spec.name,
            spec.version,
            spec.path,
            {**spec.env, **node_config.env.get(spec.name, {})},
            spec,
        )
        for spec in man.apps
    }
    return Release(man.name, man.version, man.runtime.path, apps, man, node_config)
