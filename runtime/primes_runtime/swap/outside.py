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


class Outside:
    """Other modules' globals, the import system's lists, warning filters, reducers: as now."""

    def __init__(self, skip: Callable[[str], bool]) -> None:
        self.namespaces = [
            (module.__dict__, dict(module.__dict__))
            for name, module in list(sys.modules.items())
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

    def containers(self) -> list[object]:
        """Everything this snapshot keeps (references from these hold nothing alive)."""
        found: list[object] = [self.namespaces, self.meta_path, self.filters, self.dispatch]
        found.append(self.overloads)
        found.extend(self.overloads.values())
        for pair in self.namespaces:
            found.append(pair)
            found.append(pair[1])  # the copy: the live namespace (pair[0]) holds for real
        return found

    def restore(self) -> None:
        """Put every snapshotted name and list back as it was (unchanged ones untouched)."""
        for namespace, before in self.namespaces:
            if len(namespace) == len(before) and all(
                namespace.get(k, _GONE) is v for k, v in before.items()
            ):
                continue
            for key in [k for k in namespace if k not in before]:
                del namespace[key]
            for key, value in before.items():
                if namespace.get(key, _GONE) is not value:
                    namespace[key] = value
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


def overloads() -> dict[str, dict[str, dict[int, object]]]:
    """typing's registry of @overload functions (module -> qualname -> line -> function)."""
    registry: dict[str, dict[str, dict[int, object]]] = getattr(typing, "_overload_registry", {})
    return registry
