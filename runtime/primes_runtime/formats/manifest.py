"""`releases/<vsn>/release.json`, the release manifest: frozen dataclasses, parse, render."""

from __future__ import annotations

import datetime
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .errors import FormatError
from .hashing import HEX64

FORMAT = 1
NAME = "release.json"
PYTHON = re.compile(r"3\.[0-9]{1,3}")
"""An interpreter a release names: `3.<minor>` (its `python` key)."""


def path_for(version: str) -> str:
    """Where a release's manifest is, relative to the tree root."""
    return f"releases/{version}/{NAME}"


@dataclass(frozen=True)
class RuntimeSpec:
    """The runtime a release runs on."""

    name: str
    version: str
    path: str  # code dir, relative to the tree root
    modules: Mapping[str, str] = field(default_factory=dict)
    extensions: Mapping[str, str] = field(default_factory=dict)


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
    extensions: Mapping[str, str] = field(default_factory=dict)  # extension module -> sha256


@dataclass(frozen=True)
class LibrarySpec:
    """A third-party library a release ships: code on sys.path, no start (docs/build.md)."""

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
    libraries: tuple[LibrarySpec, ...] = ()  # in dependency order
    python: str = ""  # the interpreter it runs on, "3.12"; "": any that fits requires_python

    def app(self, name: str) -> AppSpec | None:
        """The app called ``name``, or None."""
        return next((a for a in self.apps if a.name == name), None)


def render(data: Mapping[str, Any]) -> str:
    """JSON, keys sorted, 2-space indent, UTF-8, trailing newline; refuses an invalid manifest.

    TOML dates and times (from an app's env) are written as ISO 8601 strings.
    """
    text = json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False, default=_isoformat)
    parse(json.loads(text), NAME)
    return text + "\n"


def _isoformat(value: object) -> str:
    if isinstance(value, datetime.date | datetime.time):
        return value.isoformat()
    raise TypeError(f"cannot write {type(value).__name__} to release.json")


def loads(text: str, where: str = NAME) -> Manifest:
    """Parse release.json text."""
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise FormatError(f"not JSON ({exc}); rebuild the release", file=where) from None
    return parse(data, where)


def parse(data: object, where: str = "release.json") -> Manifest:
    """Check a decoded manifest; errors name the file and the key."""
    doc = _table(data, where, "")
    if doc.get("format") != FORMAT:
        raise FormatError(f"key 'format' must be {FORMAT}, not {doc.get('format')!r}", file=where)
    runtime = _table(doc.get("runtime"), where, "runtime")
    apps_raw = doc.get("apps")
    if not isinstance(apps_raw, list):
        raise FormatError("key 'apps' must be a list", file=where)
    apps = tuple(_app(entry, where, f"apps[{i}]") for i, entry in enumerate(apps_raw))
    seen: set[str] = set()
    for app in apps:
        for need in app.needs:
            if need not in seen:
                raise FormatError(
                    f"app {app.name!r} needs {need!r}, which does not come before it", file=where
                )
        seen.add(app.name)
    upgrades = doc.get("upgrades") or {}
    if not isinstance(upgrades, dict):
        raise FormatError("key 'upgrades' must be an object", file=where)
    return Manifest(
        name=_str(doc, "name", where, ""),
        version=_str(doc, "version", where, ""),
        requires_python=str(doc.get("requires_python", "")),
        runtime=RuntimeSpec(
            name=_str(runtime, "name", where, "runtime."),
            version=_str(runtime, "version", where, "runtime."),
            path=_str(runtime, "path", where, "runtime."),
            modules=_hashes(runtime, "modules", where, "runtime."),
            extensions=_hashes(runtime, "extensions", where, "runtime."),
        ),
        apps=apps,
        up_from=_versions(upgrades, "up_from", where),
        down_to=_versions(upgrades, "down_to", where),
        libraries=_libraries(doc.get("libraries"), where),
        python=_python(doc, where),
    )


def _python(doc: Mapping[str, Any], where: str) -> str:
    """The optional `python` key: the interpreter the release targets, `3.<minor>`."""
    value = doc.get("python")
    if value is None:
        return ""
    if not isinstance(value, str) or not PYTHON.fullmatch(value):
        raise FormatError(
            f"key 'python' must be a Python version like \"3.12\", not {value!r}", file=where
        )
    return value


def _libraries(raw: object, where: str) -> tuple[LibrarySpec, ...]:
    """The optional `libraries` list: each after the libraries it requires."""
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise FormatError("key 'libraries' must be a list", file=where)
    found: list[LibrarySpec] = []
    for index, entry in enumerate(raw):
        key = f"libraries[{index}]"
        table = _table(entry, where, key)
        lists = {k: table.get(k, []) for k in ("tags", "requires", "used_by")}
        for k, value in lists.items():
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise FormatError(f"key '{key}.{k}' must be a list of strings", file=where)
        library = LibrarySpec(
            name=_str(table, "name", where, f"{key}."),
            version=_str(table, "version", where, f"{key}."),
            path=_str(table, "path", where, f"{key}."),
            wheel=str(table.get("wheel") or ""),
            tags=tuple(lists["tags"]),
            requires=tuple(lists["requires"]),
            used_by=tuple(lists["used_by"]),
            modules=_hashes(table, "modules", where, f"{key}."),
        )
        before = {lib.name for lib in found}
        missing = [r for r in library.requires if r not in before]
        if missing:
            raise FormatError(
                f"library {library.name!r} requires {missing[0]!r}, which does not come before it",
                file=where,
            )
        found.append(library)
    return tuple(found)


def _app(entry: object, where: str, key: str) -> AppSpec:
    table = _table(entry, where, key)
    prefix = f"{key}."
    needs = table.get("needs", [])
    if not isinstance(needs, list) or not all(isinstance(n, str) for n in needs):
        raise FormatError(f"key '{prefix}needs' must be a list of app names", file=where)
    env = table.get("env", {})
    if not isinstance(env, dict):
        raise FormatError(f"key '{prefix}env' must be an object", file=where)
    start = _str(table, "start", where, prefix)
    if ":" not in start:
        raise FormatError(
            f"key '{prefix}start' must be 'module:function', not {start!r}", file=where
        )
    stop = table.get("stop")
    if stop is not None and (not isinstance(stop, str) or ":" not in stop):
        raise FormatError(f"key '{prefix}stop' must be 'module:function' or null", file=where)
    return AppSpec(
        name=_str(table, "name", where, prefix),
        version=_str(table, "version", where, prefix),
        path=_str(table, "path", where, prefix),
        start=start,
        stop=stop,
        needs=tuple(needs),
        env=dict(env),
        description=str(table.get("description") or ""),
        modules=_hashes(table, "modules", where, prefix),
        extensions=_hashes(table, "extensions", where, prefix),
    )


def _table(value: object, where: str, key: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        what = f"key '{key}'" if key else "the top level"
        raise FormatError(f"{what} must be a JSON object", file=where)
    return value


def _str(table: Mapping[str, Any], key: str, where: str, prefix: str) -> str:
    value = table.get(key)
    if not isinstance(value, str) or not value:
        raise FormatError(f"key '{prefix}{key}' must be a non-empty string", file=where)
    return value


def _hashes(table: Mapping[str, Any], key: str, where: str, prefix: str) -> dict[str, str]:
    """A {module: sha256} map; missing (a manifest older than the key) is {}."""
    value = table.get(key) or {}
    if not isinstance(value, dict) or not all(
        isinstance(k, str) and k and isinstance(v, str) and HEX64.match(v) for k, v in value.items()
    ):
        raise FormatError(f"key '{prefix}{key}' must map module names to sha256s", file=where)
    return dict(value)


def _versions(upgrades: Mapping[str, Any], key: str, where: str) -> tuple[str, ...]:
    value = upgrades.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise FormatError(f"key 'upgrades.{key}' must be a list of versions", file=where)
    return tuple(value)
