"""What a module's top level may change outside its own distribution, put back exactly.

Executing a module's new code (in the shadow before the point of no return, and again at the
install) can rebind other modules' globals (``typing._collect_parameters = ...``), put an
importer on ``sys.meta_path`` (six), add warning filters (requests), pickling reducers or
``@overload`` entries (typing keeps every one). A
snapshot of those, taken before, puts them back after the shadow and when an install is undone.
Registrations inside other objects (a codec search function, an ``atexit`` callback) cannot be
taken back and stay.
"""

from __future__ import annotations

import copyreg
import sys
import typing
import warnings
from collections.abc import Callable
from types import ModuleType
from typing import Any


class Outside:
    """Other modules' globals, the import system's lists, warning filters, reducers: as now."""

    def __init__(self, skip: Callable[[str], bool]) -> None:
        self.skip = skip
        self.namespaces = [
            (module.__dict__, dict(module.__dict__))
            for name, module in sys.modules.copy().items()
            if module is not None
            and not skip(name)
            and isinstance(getattr(module, "__dict__", None), dict)
        ]
        self.meta_path = list(sys.meta_path)
        self.path_hooks = list(sys.path_hooks)
        self.filters = list(warnings.filters)
        self.dispatch = dict(copyreg.dispatch_table)
        registry = overloads()
        self.overloads = {k: {q: dict(v) for q, v in d.items()} for k, d in registry.items()}
        self.containers_ = [
            (value, _copy(value))
            for namespace, _ in self.namespaces
            for value in namespace.values()
            if type(value) in _PLAIN and len(value) < _LARGEST and value is not registry  # type: ignore[arg-type]
        ]

    def ours(self, value: object) -> bool:
        """Whether a value another module's global now holds comes from the distribution
        (a name another thread rebinds meanwhile is left alone)."""
        owner = getattr(value, "__module__", None)
        if isinstance(value, ModuleType):
            owner = value.__name__
        if owner is None:  # a bound method (a cache's cache_clear): its object's module
            owner = getattr(getattr(value, "__self__", None), "__module__", None)
        return isinstance(owner, str) and self.skip(owner)

    def containers(self) -> list[object]:
        """Everything this snapshot keeps (references from these hold nothing alive)."""
        found: list[object] = [self.namespaces, self.meta_path, self.filters, self.dispatch]
        found.append(self.overloads)
        found.append(self.containers_)
        for pair in self.containers_:
            found.extend((pair, pair[1]))
        found.extend(self.overloads.values())
        for pair in self.namespaces:
            found.append(pair)
            found.append(pair[1])  # the copy: the live namespace (pair[0]) holds for real
        return found

    def restore(self) -> None:
        """Put every snapshotted name and list back as it was (unchanged ones untouched)."""
        ours = self.ours
        for namespace, before in self.namespaces:
            if len(namespace) == len(before) and all(
                namespace.get(k, _GONE) is v for k, v in before.items()
            ):
                continue
            for key in [k for k, v in list(namespace.items()) if k not in before and ours(v)]:
                del namespace[key]
            for key, value in before.items():
                now = namespace.get(key, _GONE)
                if now is not value and (now is _GONE or ours(now)):
                    namespace[key] = value
        for container, content in self.containers_:  # a list typing keeps its caches' clears in
            if container != content:
                _take_back(container, content, ours)  # only what the distribution's code put
        for clear in list(getattr(typing, "_cleanups", ())):  # typing's caches of generics
            clear()
        sys.meta_path[:] = self.meta_path
        sys.path_hooks[:] = self.path_hooks
        if warnings.filters != self.filters:
            filters: list[object] = warnings.filters  # type: ignore[assignment]
            filters[:] = self.filters
            warnings._filters_mutated()  # type: ignore[attr-defined]
        registry = overloads()
        if registry != self.overloads:
            registry.clear()
            for module, functions in self.overloads.items():
                for qualname, lines in functions.items():
                    registry[module][qualname].update(lines)
        if copyreg.dispatch_table != self.dispatch:
            copyreg.dispatch_table.clear()
            copyreg.dispatch_table.update(self.dispatch)


_GONE = object()

_PLAIN = (list, dict, set)
_LARGEST = 10_000
"""Containers in other modules' globals larger than this are not copied (tables, not
registries)."""


def _copy(value: object) -> object:
    return value.copy()  # type: ignore[attr-defined]


def _take_back(value: Any, before: Any, ours: Callable[[object], bool]) -> None:
    """Take out of a list, dict or set what the distribution's code added to it (another
    thread's changes meanwhile stay)."""
    if isinstance(value, list):
        kept = {id(v) for v in before}
        value[:] = [v for v in value if id(v) in kept or not ours(v)]
    elif isinstance(value, dict):
        for key in [k for k, v in value.items() if before.get(k, _GONE) is not v and ours(v)]:
            if key in before:
                value[key] = before[key]
            else:
                del value[key]
    else:
        value.difference_update({v for v in value if v not in before and ours(v)})


def overloads() -> dict[str, dict[str, dict[int, object]]]:
    """typing's registry of @overload functions (module -> qualname -> line -> function)."""
    registry: dict[str, dict[str, dict[int, object]]] = getattr(typing, "_overload_registry", {})
    return registry
