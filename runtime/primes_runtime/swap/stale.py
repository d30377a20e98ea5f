"""Find what still runs code from an old lib dir, and who holds it.

An object is bound to an old lib dir when it is a module loaded from one, a module global
holding a path into one, a function whose
code was compiled from a file in one, a generator or coroutine in progress in such code, a
thread running such code, or a class of a loaded module that is no longer the one its
module holds under its name. After a good upgrade the list is empty.
"""

from __future__ import annotations

import gc
import os
import sys
import threading
from collections.abc import Collection, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import (
    AsyncGeneratorType,
    CoroutineType,
    FrameType,
    FunctionType,
    GeneratorType,
    ModuleType,
)
from typing import Any, Protocol

from ..loading import collector
from .holders import path_globals

_HERE = os.path.dirname(__file__)
"""The swap package's own frames hold what they look at: never a holder."""

UNRESOLVED = "objects more than"
"""How a holder label begins when no module, process or frame was found near enough."""

_HOLDER_LOOKUPS = 40
"""At most this many objects get their holders looked up (each level of a lookup walks the
heap)."""

_BATCH = 32
"""Objects whose referrers one heap walk finds (gc.get_referrers compares each reference
against every one of them)."""


@dataclass(frozen=True)
class Stale:
    """One object bound to an old lib dir."""

    kind: str
    name: str
    file: str
    held_by: tuple[str, ...] = ()
    path: str = field(default="", compare=False, repr=False)
    """The file as the code names it (absolute)."""

    def line(self) -> str:
        """`kind object (file) held by ...` on one line."""
        held = f" held by {'; '.join(self.held_by)}" if self.held_by else ""
        return f"{self.kind} {self.name} ({self.file}){held}"

    def to_data(self) -> dict[str, object]:
        return {
            "kind": self.kind,
            "object": self.name,
            "file": self.file,
            "held_by": list(self.held_by),
        }


class _Table(Protocol):
    def all(self) -> list[Any]: ...
    def name_of(self, pid: Any) -> str | None: ...


def process_owners(table: _Table) -> Iterator[tuple[str, object]]:
    """A node's processes as holders to name: ("process <pid> (<name>)", process); read
    from the table as it is when iterated (`find` only does when it names holders)."""
    for proc in table.all():
        name = table.name_of(proc.pid)
        yield (f"process {proc.pid}" + (f" ({name})" if name else ""), proc)


def old_dirs(root: Path, current: Collection[str]) -> list[Path]:
    """The directories under ``root/lib`` that the current release does not use."""
    lib = root / "lib"
    keep = {(root / p).resolve() for p in current}
    try:
        entries = sorted(p for p in lib.iterdir() if p.is_dir())
    except OSError:
        return []
    return [p for p in entries if p.resolve() not in keep]


def find(
    root: Path,
    dirs: Mapping[Path, Path | None],
    owners: Iterable[tuple[str, object]] = (),
    ignore: Iterable[object] = (),
) -> list[Stale]:
    """Every object bound to one of the old dirs ``dirs`` (each mapped to the dir that
    replaced it, if any), with its holders.

    A generator, coroutine or thread in progress in a file the replacing dir has byte for
    byte runs the same code: not listed. ``owners`` names roots that are not modules (a
    process); it is iterated only when there are holders to name (a node's 10,000 processes
    take milliseconds to list). ``ignore`` holds containers whose references do not count
    (an undo journal's).
    """
    old = tuple(str(d) + os.sep for d in dirs)
    if not old:
        return []
    same = _SameSource(dirs)
    if not _find(root, old, (), (), name_holders=False):
        return []  # (the frozen heap stays frozen: its code objects are indexed)
    with collector.visible():
        # Garbage may be all of it: collect (a full collection holds the GIL for tens of ms
        # in a large node, so only when there is something), then name what is left's
        # holders (each level of that walks the heap too).
        gc.collect()
        found = _find(root, old, owners, ignore)
    return [s for s in found if not same.running(s)]


def successors(
    root: Path, old: Iterable[Path], current: Collection[str]
) -> dict[Path, Path | None]:
    """Each old dir ``lib/<name>-<vsn>`` mapped to the current release's dir of ``name``."""
    by_name = {Path(p).name.rpartition("-")[0]: root / p for p in current}
    return {d: by_name.get(d.name.rpartition("-")[0]) for d in old}


class _SameSource:
    """Whether code in progress from an old dir is byte for byte the replacing dir's."""

    def __init__(self, dirs: Mapping[Path, Path | None]) -> None:
        self.dirs = dirs
        self.known: dict[str, bool] = {}

    def running(self, item: Stale) -> bool:
        if item.kind not in ("generator", "coroutine", "thread"):
            return False
        known = self.known.get(item.path)
        if known is None:
            known = self.known[item.path] = self._compare(Path(item.path))
        return known

    def _compare(self, old: Path) -> bool:
        for base, new_base in self.dirs.items():
            if new_base is None or not old.is_relative_to(base):
                continue
            try:
                same: bool = old.read_bytes() == (new_base / old.relative_to(base)).read_bytes()
            except OSError:
                return False
            return same
        return False


def _find(
    root: Path,
    prefixes: tuple[str, ...],
    owners: Iterable[tuple[str, object]],
    ignore: Iterable[object],
    name_holders: bool = True,
) -> list[Stale]:
    """What `find` lists; without ``name_holders``, every object bound to an old dir, kept
    or not (whether there is anything to look at)."""
    found: list[tuple[str, str, str]] = []
    objects: list[object] = []  # beside `found`, so that only this list refers to them
    obj: object = None
    for name, module in sys.modules.copy().items():
        where = _module_file(module)
        if where is not None and where.startswith(prefixes):
            found.append(("module", name, where))
            objects.append(None)
        namespace = getattr(module, "__dict__", None)
        paths = path_globals(namespace, prefixes) if isinstance(namespace, dict) else ()
        for key, _, path in paths:
            found.append(("path", f"{name}.{key}", path))
            objects.append(None)
    for obj in collector.code_objects():
        entry = _bound(obj, prefixes)
        if entry is not None:
            found.append(entry)
            objects.append(obj)
    del obj
    for thread_id, frame in sys._current_frames().items():
        for code_name, where in _frames(frame, prefixes):
            found.append(("thread", f"{code_name} in thread {_thread_name(thread_id)}", where))
            objects.append(None)
    if not name_holders:
        return [Stale(kind, name, _relative(root, where), (), where) for kind, name, where in found]
    owners = list(owners)
    ignored = [*ignore, objects]
    roots = _Roots(owners, ignored)
    looked_up = [i for i, obj in enumerate(objects[:_HOLDER_LOOKUPS]) if obj is not None]
    holders_by_index = dict(
        zip(looked_up, roots.holders_of([objects[i] for i in looked_up]), strict=True)
    )
    reach: set[int] | None = None
    result: list[Stale] = []
    for index, (kind, name, where) in enumerate(found):
        held: tuple[str, ...] = ()
        item = objects[index]
        if index in holders_by_index:
            holders = holders_by_index[index]
            if holders is None:
                continue  # only the ignored containers keep it
            if holders[0].startswith(UNRESOLVED):
                if reach is None:
                    reach = reachable([obj for _, obj in owners], ignored)
                if id(item) not in reach:
                    continue  # garbage only an undo log (or a C registry) keeps
            held = tuple(holders)
        result.append(Stale(kind, name, _relative(root, where), held, where))
    return result


def reachable(owners: list[object], ignore: list[object]) -> set[int]:
    """Ids of every object reachable from the modules, the threads' frames and ``owners``,
    not through ``ignore``."""
    skip = {id(o) for o in ignore}
    skip.update(id(o) for o in (ignore, owners))
    stack: list[object] = [sys.modules, *owners]
    stack.extend(f for f in sys._current_frames().values() if not _mine(f))
    seen: set[int] = set()
    while stack:
        obj = stack.pop()
        key = id(obj)
        if key in seen or key in skip:
            continue
        seen.add(key)
        if isinstance(obj, ModuleType):  # its names, not its C state: get_referents of
            stack.append(obj.__dict__)  # _asyncio hands out freed memory on 3.12/3.13.0
            continue  # (CPython gh-122695) and the next collection never ends
        stack.extend(gc.get_referents(obj))
    return seen


def _mine(frame: FrameType) -> bool:
    return frame.f_code.co_filename.startswith(_HERE)


def _module_file(module: object) -> str | None:
    where = getattr(module, "__file__", None)
    return where if isinstance(where, str) else None


def _bound(obj: object, prefixes: tuple[str, ...]) -> tuple[str, str, str] | None:
    """(kind, name, file) if ``obj`` is code from an old dir, else None."""
    kind = type(obj)
    if kind is FunctionType:
        code = obj.__code__  # type: ignore[attr-defined]
        if code.co_filename.startswith(prefixes) and code.co_name != "<module>":
            return "function", f"{obj.__module__}.{obj.__qualname__}", code.co_filename  # type: ignore[attr-defined]
        return None
    if kind is GeneratorType or kind is CoroutineType or kind is AsyncGeneratorType:
        frame = getattr(obj, "gi_frame", None) or getattr(obj, "cr_frame", None)
        frame = frame or getattr(obj, "ag_frame", None)
        code = frame.f_code if frame is not None else None
        if code is not None and code.co_filename.startswith(prefixes):
            label = "generator" if kind is GeneratorType else "coroutine"
            return label, code.co_qualname, code.co_filename
        return None
    if isinstance(obj, type):
        return _replaced_class(obj, prefixes)
    return None


def _replaced_class(cls: type, dirs: tuple[str, ...]) -> tuple[str, str, str] | None:
    """A class of a module still loaded from an old dir that its module no longer holds
    under its name (a replaced class's methods are found as functions)."""
    module = sys.modules.get(getattr(cls, "__module__", "") or "")
    where = _module_file(module)
    qualname = getattr(cls, "__qualname__", "")
    if module is None or where is None or not where.startswith(dirs) or "<" in qualname:
        return None
    holder: object = module
    for part in qualname.split("."):
        holder = getattr(holder, part, None)
        if holder is None:
            return None
    if holder is cls:
        return None
    return "class", f"{cls.__module__}.{qualname}", where


def _frames(frame: FrameType | None, prefixes: tuple[str, ...]) -> Iterable[tuple[str, str]]:
    while frame is not None:
        code = frame.f_code
        if code.co_filename.startswith(prefixes):
            yield code.co_qualname, code.co_filename
        frame = frame.f_back


def _thread_name(ident: int) -> str:
    for thread in threading.enumerate():
        if thread.ident == ident:
            return thread.name
    return str(ident)


def _relative(root: Path, where: str) -> str:
    try:
        return Path(where).relative_to(root).as_posix()
    except ValueError:
        return where


class _Roots:
    """Names the places that keep an object alive: a module's name, an owner, a frame."""

    def __init__(self, owners: Iterable[tuple[str, object]], ignore: Iterable[object]) -> None:
        self.modules = {
            id(m.__dict__): (n, m.__dict__) for n, m in sys.modules.copy().items() if m is not None
        }
        self.owners = {id(obj): label for label, obj in owners}
        self.ignore = {id(obj) for obj in ignore}
        self.ignore.add(id(sys.modules))

    def holders(self, obj: object, depth: int = 4) -> list[str] | None:
        """What `holders_of` says of one object."""
        return self.holders_of([obj], depth)[0]

    def holders_of(self, items: list[object], depth: int = 4) -> list[list[str] | None]:
        """For each of ``items``, the labels of the roots that reach it within ``depth``
        references; None if every path ends in an ignored container. One heap walk per
        level serves up to _BATCH objects (a walk per object was most of a check's time).
        The objects and their origins are kept in separate lists: a tuple holding an object
        would be one more referrer of it."""
        labels: list[list[str]] = [[] for _ in items]
        unresolved = [False] * len(items)
        seen = [{id(item)} for item in items]
        mine = sys._getframe()
        objects = list(items)
        origins = list(range(len(items)))
        kept: list[object] = [objects]  # every list made here stays alive: no id in skip reused
        skip = {id(items), id(objects), id(kept)}
        for level in range(depth):
            upper: list[object] = []
            upper_origins: list[int] = []
            skip.add(id(upper))
            kept.append(upper)
            for start in range(0, len(objects), _BATCH):
                part = objects[start : start + _BATCH]
                skip.add(id(part))
                refs, positions = self._referrers(part, skip, mine, kept)
                for ref, position in zip(refs, positions, strict=True):
                    item, origin = part[position], origins[start + position]
                    if id(ref) in seen[origin]:
                        continue
                    seen[origin].add(id(ref))
                    label = self._label(ref, item)
                    if label is not None:
                        labels[origin].append(label)
                    elif level + 1 < depth:
                        upper.append(ref)
                        upper_origins.append(origin)
                    else:
                        unresolved[origin] = True
            objects, origins = upper, upper_origins
            if not objects:
                break
        far = f"{UNRESOLVED} {depth} references away from any module or process"
        return [
            found if found else ([far] if lost else None)
            for found, lost in zip(labels, unresolved, strict=True)
        ]

    def _referrers(
        self, part: list[object], skip: set[int], mine: FrameType, kept: list[object]
    ) -> tuple[list[object], list[int]]:
        """Each container that refers to an object of ``part``, with that object's position
        in ``part``, in the order one walk per object would give (the list of containers
        is added to ``skip`` and to ``kept``)."""
        targets = tuple(part)
        skip.add(id(targets))
        positions: dict[int, list[int]] = {}
        for position, item in enumerate(targets):
            positions.setdefault(id(item), []).append(position)
        found: list[object] = []
        skip.add(id(found))
        order: list[tuple[int, int]] = []  # (position, index in found): numbers only
        for ref in gc.get_referrers(*targets):
            if id(ref) in skip or id(ref) in self.ignore or ref is mine:
                continue
            if isinstance(ref, FrameType):
                continue  # a frame's locals hold for a moment (another request's)
            hit = {id(r) for r in gc.get_referents(ref)}.intersection(positions)
            if hit:
                order.extend((p, len(found)) for key in hit for p in positions[key])
                found.append(ref)
        order.sort()
        ordered = [found[index] for _, index in order]
        skip.add(id(ordered))
        kept.extend((part, targets, found, ordered))
        return ordered, [position for position, _ in order]

    def _label(self, ref: object, item: object) -> str | None:
        module = self.modules.get(id(ref))
        if module is not None and module[1] is ref:
            name, namespace = module
            keys = [k for k, v in namespace.items() if v is item]
            return f"module {name} name {keys[0]}" if keys else f"module {name}"
        owner = self.owners.get(id(ref))
        if owner is not None:
            return owner
        return None
