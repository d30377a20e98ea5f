"""Lookups over a release manifest and cached source facts, shared by one planning run."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from primes_build.upgrade.analysis import ModuleFacts, analyse
from primes_build.upgrade.release_view import ReleaseView


def apps(view: ReleaseView) -> dict[str, Mapping[str, Any]]:
    """The release's apps by name, in start order."""
    return {str(app["name"]): app for app in view.manifest.get("apps", [])}


def app_modules(app: Mapping[str, Any]) -> dict[str, str]:
    """An app entry's modules: dotted name -> sha256."""
    return {str(k): str(v) for k, v in app.get("modules", {}).items()}


def app_extensions(app: Mapping[str, Any]) -> dict[str, str]:
    """An app entry's compiled extension modules: dotted name -> sha256 (none if not listed)."""
    return {str(k): str(v) for k, v in app.get("extensions", {}).items()}


def module_owners(view: ReleaseView) -> dict[str, str]:
    """Every app module of the release -> the app that installs it."""
    return {m: name for name, app in apps(view).items() for m in app_modules(app)}


def libraries(view: ReleaseView) -> dict[str, Mapping[str, Any]]:
    """The release's libraries by name, in dependency order (none in an older manifest)."""
    return {str(lib["name"]): lib for lib in view.manifest.get("libraries", []) or []}


def library_owners(view: ReleaseView) -> dict[str, str]:
    """Every library module of the release -> the library that installs it."""
    return {m: name for name, lib in libraries(view).items() for m in app_modules(lib)}


def runtime_modules(view: ReleaseView) -> frozenset[str]:
    """The runtime's modules (always present, never upgraded by an app's script)."""
    return frozenset(view.manifest.get("runtime", {}).get("modules", {}))


class Facts:
    """Source facts per (module, sha256), parsed at most once per planning run."""

    def __init__(self) -> None:
        self._cache: dict[tuple[str, str], ModuleFacts] = {}
        self._callbacks: dict[int, tuple[ReleaseView, frozenset[str]]] = {}

    def of(self, view: ReleaseView, app: str, module: str) -> ModuleFacts:
        """The facts of `module` of `app` as `view` has it."""
        modules = app_modules(apps(view)[app])
        key = (module, modules[module])
        if key not in self._cache:
            is_package = any(other.startswith(module + ".") for other in modules)
            source = view.read_source(app, module)
            origin = f"{app} in {view.origin}"
            self._cache[key] = analyse(module, source, is_package=is_package, origin=origin)
        return self._cache[key]

    def all_of(self, view: ReleaseView) -> list[ModuleFacts]:
        """The facts of every app module of the release."""
        return [self.of(view, app, m) for m, app in sorted(module_owners(view).items())]

    def callbacks(self, view: ReleaseView) -> frozenset[str]:
        """Modules of the release used as a process's callback module (docs/upgrades.md)."""
        key = id(view)
        if key not in self._callbacks:
            owners = module_owners(view)
            found: set[str] = set()
            for facts in self.all_of(view):
                found |= facts.callback_refs
                if facts.is_callback:
                    found.add(facts.name)
            self._callbacks[key] = (view, frozenset(found & set(owners)))
        return self._callbacks[key][1]
