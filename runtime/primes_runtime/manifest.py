"""The release manifest (releases/<vsn>/release.json, docs/formats.md) as frozen dataclasses."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import ConfigError

FORMAT = 1


@dataclass(frozen=True)
class RuntimeSpec:
    """The runtime a release runs on."""

    name: str
    version: str
    path: str  # code dir, relative to the tree root
    modules: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class AppSpec:
    """One app of a release, as the manifest lists it (in start order)."""

    name: str
    version: str
    path: str  # code dir, relative to the tree root (an absolute path is also accepted)
    start: str  # "module:function" returning the top supervisor's pid
    stop: str | None = None  # optional "module:function" called after its processes stopped
    needs: tuple[str, ...] = ()
    env: Mapping[str, Any] = field(default_factory=dict)  # default env
    description: str = ""
    modules: Mapping[str, str] = field(default_factory=dict)  # module -> sha256 of its source


@dataclass(frozen=True)
class LibrarySpec:
    """A third-party library a release ships (deps, issue 14): code on sys.path, no start."""

    name: str
    version: str
    path: str  # code dir, relative to the tree root
    wheel: str = ""
    tags: tuple[str, ...] = ()  # the wheel's tags (release/wheeltags.py checks them)
    requires: tuple[str, ...] = ()  # libraries it needs, which come before it
    used_by: tuple[str, ...] = ()  # apps that need it
    modules: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Manifest:
    """A release: its name, version, runtime and apps in start order."""

    name: str
    version: str
    requires_python: str
    runtime: RuntimeSpec
    apps: tuple[AppSpec, ...]
    up_from: tuple[str, ...] = ()
    down_to: tuple[str, ...] = ()
    libraries: tuple[LibrarySpec, ...] = ()  # deps (issue 14): in dependency order

    def app(self, name: str) -> AppSpec | None:
        """The app called ``name``, or None."""
        return next((a for a in self.apps if a.name == name), None)


def path_of(root: Path, version: str) -> Path:
    """Where a release's manifest lives in a tree."""
    return root / "releases" / version / "release.json"


def load(root: Path, version: str) -> Manifest:
    """Read and check releases/<version>/release.json of the tree at ``root``."""
    path = path_of(root, version)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such file; is release {version} unpacked?") from None
    except (OSError, ValueError) as exc:
        msg = f"{path}: cannot read the manifest ({exc}); rebuild the release"
        raise ConfigError(msg) from None
    return parse(data, str(path))


def parse(data: object, where: str = "release.json") -> Manifest:
    """Check a decoded manifest; errors name the file and the key."""
    doc = _table(data, where, "")
    if doc.get("format") != FORMAT:
        raise ConfigError(f"{where}: key 'format' must be {FORMAT}, not {doc.get('format')!r}")
    runtime = _table(doc.get("runtime"), where, "runtime")
    apps_raw = doc.get("apps")
    if not isinstance(apps_raw, list):
        raise ConfigError(f"{where}: key 'apps' must be a list")
    apps = tuple(_app(entry, where, f"apps[{i}]") for i, entry in enumerate(apps_raw))
    seen: set[str] = set()
    for app in apps:
        for need in app.needs:
            if need not in seen:
                raise ConfigError(
                    f"{where}: app {app.name!r} needs {need!r}, which does not come before it"
                )
        seen.add(app.name)
    upgrades = doc.get("upgrades") or {}
    if not isinstance(upgrades, dict):
        raise ConfigError(f"{where}: key 'upgrades' must be an object")
    return Manifest(
        name=_str(doc, "name", where, ""),
        version=_str(doc, "version", where, ""),
        requires_python=str(doc.get("requires_python", "")),
        runtime=RuntimeSpec(
            name=_str(runtime, "name", where, "runtime."),
            version=_str(runtime, "version", where, "runtime."),
            path=_str(runtime, "path", where, "runtime."),
            modules=dict(runtime.get("modules") or {}),
        ),
        apps=apps,
        up_from=tuple(str(v) for v in upgrades.get("up_from", ())),
        down_to=tuple(str(v) for v in upgrades.get("down_to", ())),
        libraries=_libraries(doc.get("libraries"), where),  # deps (issue 14)
    )


def _libraries(raw: object, where: str) -> tuple[LibrarySpec, ...]:
    """The optional `libraries` list: each after the libraries it requires."""
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise ConfigError(f"{where}: key 'libraries' must be a list")
    found: list[LibrarySpec] = []
    for index, entry in enumerate(raw):
        key = f"libraries[{index}]"
        table = _table(entry, where, key)
        lists = {k: table.get(k, []) for k in ("tags", "requires", "used_by")}
        for k, value in lists.items():
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise ConfigError(f"{where}: key '{key}.{k}' must be a list of strings")
        library = LibrarySpec(
            name=_str(table, "name", where, f"{key}."),
            version=_str(table, "version", where, f"{key}."),
            path=_str(table, "path", where, f"{key}."),
            wheel=str(table.get("wheel") or ""),
            tags=tuple(lists["tags"]),
            requires=tuple(lists["requires"]),
            used_by=tuple(lists["used_by"]),
            modules=dict(table.get("modules") or {}),
        )
        before = {lib.name for lib in found}
        missing = [r for r in library.requires if r not in before]
        if missing:
            raise ConfigError(
                f"{where}: library {library.name!r} requires {missing[0]!r}, "
                "which does not come before it"
            )
        found.append(library)
    return tuple(found)


def _app(entry: object, where: str, key: str) -> AppSpec:
    table = _table(entry, where, key)
    prefix = f"{key}."
    needs = table.get("needs", [])
    if not isinstance(needs, list) or not all(isinstance(n, str) for n in needs):
        raise ConfigError(f"{where}: key '{prefix}needs' must be a list of app names")
    env = table.get("env", {})
    if not isinstance(env, dict):
        raise ConfigError(f"{where}: key '{prefix}env' must be an object")
    start = _str(table, "start", where, prefix)
    if ":" not in start:
        raise ConfigError(f"{where}: key '{prefix}start' must be 'module:function', not {start!r}")
    stop = table.get("stop")
    if stop is not None and (not isinstance(stop, str) or ":" not in stop):
        raise ConfigError(f"{where}: key '{prefix}stop' must be 'module:function' or null")
    return AppSpec(
        name=_str(table, "name", where, prefix),
        version=_str(table, "version", where, prefix),
        path=_str(table, "path", where, prefix),
        start=start,
        stop=stop,
        needs=tuple(needs),
        env=dict(env),
        description=str(table.get("description") or ""),
        modules=dict(table.get("modules") or {}),
    )


def _table(value: object, where: str, key: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        what = f"key '{key}'" if key else "the top level"
        raise ConfigError(f"{where}: {what} must be a JSON object")
    return value


def _str(table: Mapping[str, Any], key: str, where: str, prefix: str) -> str:
    value = table.get(key)
    if not isinstance(value, str) or not value:
        raise ConfigError(f"{where}: key '{prefix}{key}' must be a non-empty string")
    return value
