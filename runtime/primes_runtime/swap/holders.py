"""Module globals outside a distribution that hold its objects or paths into its old dir:
found before the suspend, pointed at the new ones inside it (a scan of every module there
would lengthen every pause)."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path, PurePath
from types import ModuleType

from .journal import Journal

Namespace = dict[str, object]

_SYS_MODULES = ""
"""The name a holder in sys.modules itself goes by (a module object another module made)."""


@dataclass
class Holders:
    """Where other modules hold a distribution's current objects, and its old paths."""

    seen: frozenset[str]
    """The modules there were when they were looked for; a module imported since is
    looked at when the new code goes in."""
    values: dict[int, list[tuple[str, Namespace, str]]] = field(default_factory=dict)
    """id(object) -> (holding module, its namespace, the name) for each holder."""
    paths: list[tuple[Namespace, str, object, object]] = field(default_factory=list)
    """(namespace, name, path into the old dir, the same path in the new dir)."""


def find_holders(changed: Iterable[ModuleType], old_dir: Path, new_dir: Path) -> Holders:
    """Look, in every module, for holders of ``changed``'s module objects and of the values
    their namespaces bind, and for paths into ``old_dir`` that the new dir also has."""
    wanted: set[int] = set()
    for module in changed:
        wanted.add(id(module))
        wanted.update(id(v) for v in module.__dict__.values() if distinct(v))
    holders = Holders(frozenset(sys.modules))
    for name, namespace in _namespaces(sys.modules):
        _look(holders, name, namespace, wanted, old_dir, new_dir)
    return holders


def rebind(
    holders: Holders,
    values: dict[int, tuple[object, object]],
    executed: set[str],
    journal: Journal,
) -> None:
    """Holders outside the modules executed again that still hold an old value get the new
    one (a from-import of a constant, of a replaced class); a module imported since the
    holders were found is looked at now."""
    if not values:
        return
    places = [p for i in values for p in holders.values.get(i, ())]
    places += [
        (name, namespace, key)
        for name, namespace in _namespaces(sys.modules)
        if name not in holders.seen
        for key, value in list(namespace.items())
        if id(value) in values
    ]
    for name, namespace, key in places:
        if name in executed:
            continue
        value = namespace.get(key)
        found = values.get(id(value))
        if found is not None and found[0] is value:
            namespace[key] = found[1]
            journal.step(_setter(namespace, key, value), value)


def move_paths(holders: Holders, old_dir: Path, new_dir: Path, journal: Journal) -> None:
    """A module global holding a path into the old dir (a cached data file's, say) gets the
    same path in the new dir, where the new dir has that file."""
    later = Holders(holders.seen)
    for name, namespace in _namespaces(sys.modules):
        if name not in holders.seen:
            _look(later, name, namespace, set(), old_dir, new_dir)
    for namespace, key, old, moved in [*holders.paths, *later.paths]:
        if namespace.get(key) is old:
            namespace[key] = moved
            journal.step(_setter(namespace, key, old), old)


def distinct(value: object) -> bool:
    """Whether ``value`` is an object only its own binding could hold (not a small int, an
    interned string or a singleton another module may hold by chance)."""
    if value is None or isinstance(value, bool | int | float | complex):
        return False
    if isinstance(value, str | bytes):
        return len(value) > 1 and not (isinstance(value, str) and value.isidentifier())
    if isinstance(value, tuple | frozenset):
        return len(value) > 0
    return True


def _namespaces(modules: dict[str, ModuleType]) -> list[tuple[str, Namespace]]:
    out: list[tuple[str, Namespace]] = [(_SYS_MODULES, modules)]  # type: ignore[list-item]
    for name, module in list(modules.items()):
        namespace = getattr(module, "__dict__", None)
        if isinstance(namespace, dict):
            out.append((name, namespace))
    return out


def _look(
    holders: Holders, name: str, namespace: Namespace, wanted: set[int], old: Path, new: Path
) -> None:
    if wanted:
        for key, value in list(namespace.items()):
            if id(value) in wanted:
                holders.values.setdefault(id(value), []).append((name, namespace, key))
    if name == _SYS_MODULES:
        return
    prefix = str(old) + os.sep
    for key, value, text in path_globals(namespace, (prefix,)):
        moved = new / text[len(prefix) :]
        if moved.exists():
            again = str(moved) if isinstance(value, str) else type(value)(moved)
            holders.paths.append((namespace, key, value, again))


def path_globals(
    namespace: Namespace, prefixes: tuple[str, ...]
) -> list[tuple[str, str | PurePath, str]]:
    """A module's globals that hold a path under one of `prefixes` (a cached data file's):
    each name, its value and the path as text (one comprehension: every module of the node
    is looked at, twice an upgrade)."""
    return [
        (key, value, text)
        for key, value in list(namespace.items())
        if isinstance(value, (str, PurePath))
        and (text := str(value)).startswith(prefixes)
        and not key.startswith("__")
    ]


def _setter(namespace: Namespace, key: str, value: object) -> Callable[[], None]:
    return lambda: namespace.__setitem__(key, value)
