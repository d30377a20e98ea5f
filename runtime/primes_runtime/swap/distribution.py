"""Swap one distribution (an app or a library) from its old code dir to its new one, whole.

``prepare`` (before the point of no return) imports the new version of every module the
node loaded from the old dir together, in a shadow, and decides what every old function,
class and running closure becomes; anything that cannot run the new code is refused there,
in one line, while nothing has changed. ``install`` (after it) executes the new code into
the node's own module objects and merges each module's new functions and classes into its
old ones right after, so every holder runs the new code; its journal undoes all of it.
"""

from __future__ import annotations

import contextlib
import functools
import gc
import importlib.machinery
import os
import sys
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import CodeType, FunctionType, GeneratorType, ModuleType

from primes_runtime.errors import CodeLoadError
from primes_runtime.loading import collector

from . import shadow, stale
from .holders import Holders, distinct, find_holders, move_paths, rebind
from .journal import Journal
from .outside import Outside, overloads
from .patch import Patcher, Replaced, functions_of

_SWITCH_INTERVAL = 0.1
"""Seconds between the interpreter's thread switches while the new code goes in (5 ms by
default): other threads rarely run while a module is executed again in place."""


@dataclass
class Prepared:
    """A distribution's new version, imported and checked, ready to install."""

    name: str
    old_dir: Path
    new_dir: Path
    names: list[str]
    """Modules the node loaded from the old dir, in import order (a package first)."""
    run: shadow.Run
    tops: frozenset[str]
    defined: dict[str, frozenset[str]]
    """Each module's names in its new namespace."""
    changed: frozenset[str] = frozenset()
    """Loaded modules whose source the new version changes or drops: executed again."""
    closures: list[tuple[FunctionType, CodeType]] = field(default_factory=list)
    """Functions made at run time by the old code (closures, lambdas) and their new code."""
    fresh_extensions: frozenset[str] = frozenset()
    outside: Outside | None = None
    """What other modules hold, taken before the suspend (the install's undo puts back only
    what the distribution's code changed, so it may be taken early)."""
    holders: Holders | None = None
    """Where other modules hold the changed modules' objects and old paths, found before
    the suspend."""

    @property
    def modules(self) -> list[str]:
        """The modules this swap executes again."""
        return [n for n in self.names if n in self.changed and n not in self.run.missing]


def loaded_from(code_dir: Path) -> list[str]:
    """Modules in sys.modules loaded from ``code_dir``, a package before its submodules."""
    prefix = str(code_dir) + os.sep
    names = []
    for name, module in sys.modules.copy().items():
        where = getattr(module, "__file__", None)
        if isinstance(where, str) and where.startswith(prefix):
            names.append(name)
    return sorted(names)


def prepare(
    name: str,
    old_dir: Path,
    new_dir: Path,
    owners: Iterable[tuple[str, object]] = (),
    restarting: bool = False,
    library: bool = False,
) -> Prepared:
    """Import the new version in a shadow and check it can be swapped in whole.

    Raises CodeLoadError with one line naming the module, the object and the way out.
    ``restarting``: the distribution's app is stopped around the swap, so a changed
    compiled extension may be loaded anew from the new dir.
    """
    names = loaded_from(old_dir)
    tops = _tops(names, new_dir)
    reuse = {n: m for n in names if _is_extension(m := sys.modules[n])}
    plan = shadow.Plan(new_dir, old_dir, tops, reuse, {}, fresh_extension=lambda _n, _p: restarting)
    try:
        run = shadow.import_together(names, plan)
    except CodeLoadError as exc:
        raise CodeLoadError(f"{name}: {exc}{_way_out(name, exc)}") from exc
    defined = {n: frozenset(m.__dict__) for n, m in run.modules.items()}
    changed = frozenset(n for n in names if not _same_source(n, run, run.extensions))
    prepared = Prepared(name, old_dir, new_dir, names, run, tops, defined, changed)
    # listed on first use: a node's 10,000 processes take milliseconds to list, and a swap
    # that finds nothing old to name holders of never needs them
    _check(prepared, functools.cache(lambda: list(owners)), library)
    prepared.outside = Outside(lambda n: n.partition(".")[0] in tops)
    mine = [sys.modules[n] for n in changed if n in sys.modules]
    prepared.holders = find_holders(mine, old_dir, new_dir)
    return prepared


def install(prepared: Prepared, journal: Journal) -> None:
    """Execute the changed modules' new code into the node's module objects, merge it into
    their old functions and classes, point the unchanged ones at the new dir.

    On failure (CodeLoadError) ``journal`` holds what was done: undo it.
    """
    patcher = Patcher(journal, prepared.changed)
    current = {n: sys.modules[n] for n in prepared.names if n in sys.modules}
    for module in current.values():
        if not _is_extension(module):
            journal.namespace(module)
    reuse = {n: m for n, m in current.items() if n in prepared.changed}
    reuse.update(prepared.run.extensions)
    before: dict[str, dict[str, object]] = {}

    def executed(name: str, module: ModuleType, namespace: dict[str, object] | None) -> None:
        if namespace is None:
            return
        before[name] = namespace
        patcher.merge_module(name, namespace, module.__dict__)
        _drop_removed(module, namespace, prepared.defined.get(name))

    plan = shadow.Plan(
        prepared.new_dir,
        prepared.old_dir,
        prepared.tops,
        reuse,
        prepared.run.codes,
        fresh_extension=lambda _n, _p: True,
        executed=executed,
    )
    outside = prepared.outside or Outside(lambda n: n.partition(".")[0] in prepared.tops)
    journal.step(outside.restore, outside, *outside.containers())
    journal.step(lambda: _put_back(current, prepared.tops), *current.values())
    with _quiet():
        registry = overloads()
        for name in prepared.changed:  # the new code registers its own
            registry.pop(name, None)
        for fn, code in prepared.closures:  # first: what the changed code calls makes new code
            journal.function(fn)
            fn.__code__ = code
        run = shadow.import_together(prepared.modules, plan, keep=True)
        for name in run.missing:
            _drop_module(name, current.get(name))
        for name, module in current.items():
            made = prepared.run.modules.get(name)
            if name not in prepared.changed and made is not None and made.__spec__ is not None:
                spec = made.__spec__
                shadow.set_import_attrs(module, spec, spec.loader)  # type: ignore[arg-type]
        found = prepared.holders or find_holders((), prepared.old_dir, prepared.new_dir)
        rebind(found, _new_values(before, current, prepared.changed), set(before), journal)
        move_paths(found, prepared.old_dir, prepared.new_dir, journal)
    prepared.run.modules.clear()  # the shadow's objects go: nothing may hold them
    prepared.holders = None
    prepared.closures.clear()


def _check(
    prepared: Prepared, owners: Callable[[], list[tuple[str, object]]], library: bool
) -> None:
    """Refuse, before anything changes, what the swap could not put new code behind
    (``owners`` lists the roots that are not modules, when a holder is to be named)."""
    dry = Patcher(None, prepared.changed)
    problems: list[str] = []
    for module_name in prepared.names:  # the shadow's copies of unchanged code stand for it
        old_module = sys.modules.get(module_name)
        shadow_module = prepared.run.modules.get(module_name)
        if module_name in prepared.changed or old_module is None or shadow_module is None:
            continue
        for key, value in shadow_module.__dict__.items():
            before = old_module.__dict__.get(key)
            same_kind = isinstance(value, FunctionType | type) and type(before) is type(value)
            if same_kind and value.__module__ == module_name:  # not another module's closure
                dry.pair(value, before)
    for module_name in prepared.run.order:
        old = sys.modules.get(module_name)
        new = prepared.run.modules.get(module_name)
        if old is None or new is None or old is new or module_name not in prepared.changed:
            continue
        dry.merge_module(module_name, dict(old.__dict__), dict(new.__dict__))
    mine = set(prepared.changed)  # the modules executed again: their names start afresh
    with collector.visible() if dry.replaced else contextlib.nullcontext():
        for replaced in dry.replaced:  # who holds one is a walk of the whole heap
            held = _held_outside(replaced, mine, owners())
            if held:
                problems.append(
                    f"{replaced.where} cannot take the new code in place ({replaced.why}) "
                    f"and {held[0]} holds it"
                )
    merged = {id(v) for v in dry.canonical.values() if getattr(v, "__module__", None) in mine}
    replaced_ids = {id(r.old) for r in dry.replaced}
    for r in dry.replaced:  # a replaced class's functions go with it (its holders decide)
        if isinstance(r.old, type):
            replaced_ids.update(id(fn) for fn in _class_functions(r.old))
    for kept in list(dry.canonical.values()):  # a merged class's functions the new one drops
        if isinstance(kept, type) and kept.__module__ in mine:  # leave it with it
            replaced_ids.update(id(fn) for fn in _class_functions(kept))
    files = _old_files(prepared)
    codes = _CodeIndex(prepared.run.codes)
    changed_files = {f for f, m in files.items() if m in prepared.changed}
    candidates = list(_old_code_objects(files, changed_files))
    executed_again = [sys.modules[n].__dict__ for n in mine if n in sys.modules]
    reach: set[int] | None = None
    refused: list[object] = []  # the objects alone: a tuple holding one would be a holder
    reasons: list[tuple[str, str, bool]] = []  # (kind, why, whether a new code exists)
    for obj in candidates:
        if id(obj) in merged or id(obj) in replaced_ids:
            continue
        if isinstance(obj, FunctionType):
            module = files[obj.__code__.co_filename]
            code = codes.find(module, obj.__code__)
            if code is not None and code.co_freevars == obj.__code__.co_freevars:
                prepared.closures.append((obj, code))
                continue
            why = (
                "the new version has no such function"
                if code is None
                else "its free variables changed"
            )
            reasons.append(("function", why, code is not None))
        else:
            reasons.append(("generator in progress", "it would go on running the old code", False))
        refused.append(obj)
    holders: list[list[str] | None] = []
    if refused:  # who holds one is a walk of the whole heap
        with collector.visible():
            holders = stale._Roots(owners(), [candidates]).holders_of(refused)
    for obj, (kind, why, has_code), labels in zip(refused, reasons, holders, strict=True):
        held = [h for h in labels or [] if _outside(h, mine)]
        if not has_code and _rebound(obj, files, prepared.defined):
            held = [h for h in held if not h.startswith("module ")]
        if not held:
            if reach is None:  # far from any module: does anything but the old code keep it?
                reach = stale.reachable([o for _, o in owners()], [candidates, *executed_again])
            if id(obj) in reach:
                held = [f"{stale.UNRESOLVED} 4 references away from any module or process"]
        if held:
            label = f"{files.get(_file_of(obj), '?')}.{obj.__qualname__}"  # type: ignore[attr-defined]
            problems.append(
                f"{kind} {label} made by the old code cannot take the new code ({why}) "
                f"and {held[0]} holds it"
            )
    if problems:
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        whose = "the apps that use it" if library else prepared.name
        raise CodeLoadError(
            f"{prepared.name}: {problems[0]}{more}; declare a code_change that replaces it, "
            f"or restart_application for {whose}, or restart the node"
        )


def _class_functions(cls: type) -> Iterator[FunctionType]:
    """The functions a class defines (in methods, properties, nested classes too)."""
    for value in vars(cls).values():
        if isinstance(value, type) and value.__qualname__.startswith(cls.__qualname__ + "."):
            yield from _class_functions(value)
        yield from functions_of(value)


def _rebound(obj: object, files: dict[str, str], defined: dict[str, frozenset[str]]) -> bool:
    """Whether module globals holding old function ``obj`` get what its module's new version
    binds under its name (a function turned compiled, say)."""
    if not isinstance(obj, FunctionType):
        return False
    module = files.get(obj.__code__.co_filename)
    return module is not None and obj.__name__ in defined.get(module, frozenset())


def _file_of(obj: object) -> str:
    code = obj.__code__ if isinstance(obj, FunctionType) else obj.gi_code  # type: ignore[attr-defined]
    return str(code.co_filename)


def _held_outside(
    replaced: Replaced, mine: set[str], owners: list[tuple[str, object]]
) -> list[str]:
    """Who, outside the distribution's own modules, holds an object that gets replaced (a
    module's name is rebound; an instance, a process or a container is not)."""
    old = replaced.old
    roots = stale._Roots(owners, ())
    found: list[str] = []
    if isinstance(old, type):
        alive = [o for o in gc.get_referrers(old) if type(o) is old]
        held = [h for labels in roots.holders_of(alive[:5]) for h in labels or []]
        if any(_outside(h, set()) and not h.startswith("module ") for h in held):
            found.append(f"a live instance ({len(alive)} in all, held by {held[0]})")
        subclasses: list[type] = old.__subclasses__()
        found.extend(
            f"subclass {s.__module__}.{s.__qualname__}"
            for s in subclasses
            if s.__module__ not in mine
        )
        return found
    holders = roots.holders(old, depth=2) or []
    return [h for h in holders if not h.startswith("module ") and _outside(h, mine)]


def _outside(label: str, mine: set[str]) -> bool:
    """Whether a holder's label names a root outside the distribution (not unresolved)."""
    if label.startswith("module "):
        return label.split()[1] not in mine
    return not label.startswith(stale.UNRESOLVED)


def _old_files(prepared: Prepared) -> dict[str, str]:
    """Source file -> module name, for every module the node loaded from the old dir."""
    files: dict[str, str] = {}
    for name in prepared.names:
        where = getattr(sys.modules.get(name), "__file__", None)
        if isinstance(where, str):
            files[where] = name
    return files


def _old_code_objects(files: dict[str, str], changed: set[str]) -> Iterator[object]:
    """Functions whose code comes from ``files``, and generators in progress in code the new
    version changes (one in unchanged code goes on with the same code)."""
    for obj in collector.code_objects():
        kind = type(obj)
        if kind is FunctionType:
            code = obj.__code__  # type: ignore[attr-defined]
            if code.co_filename in files and code.co_name != "<module>":
                yield obj  # (a module's own top level is wrapped in one while it runs)
        elif kind is GeneratorType:
            frame = obj.gi_frame  # type: ignore[attr-defined]
            if frame is not None and frame.f_code.co_filename in changed:
                yield obj


class _CodeIndex:
    """The new code objects of each module, by qualified name."""

    def __init__(self, codes: dict[str, CodeType]) -> None:
        self.codes = codes
        self._index: dict[str, dict[str, list[CodeType]]] = {}

    def find(self, module: str, old: CodeType) -> CodeType | None:
        """The new code for old code ``old`` of ``module`` (same qualified name; among
        several, the same rank by line)."""
        table = self._index.get(module)
        if table is None:
            table = self._index[module] = {}
            top = self.codes.get(module)
            if top is not None:
                for code in _walk(top):
                    table.setdefault(code.co_qualname, []).append(code)
        candidates = table.get(old.co_qualname, [])
        if len(candidates) <= 1:
            return candidates[0] if candidates else None
        rank = _rank(old)
        return candidates[rank] if rank < len(candidates) else None


def _walk(code: CodeType) -> Iterator[CodeType]:
    for const in code.co_consts:
        if isinstance(const, CodeType):
            yield const
            yield from _walk(const)


def _rank(code: CodeType) -> int:
    """How many code objects of the same name come before ``code`` in its file."""
    try:
        source = Path(code.co_filename).read_text(encoding="utf-8")
        top = compile(source, code.co_filename, "exec")
    except (OSError, SyntaxError, ValueError):
        return 0
    same = [c.co_firstlineno for c in _walk(top) if c.co_qualname == code.co_qualname]
    return same.index(code.co_firstlineno) if code.co_firstlineno in same else 0


def _tops(names: list[str], new_dir: Path) -> frozenset[str]:
    """Top-level names the distribution provides: what it loaded and what its new dir has
    that no other code of the node has loaded."""
    tops = {n.partition(".")[0] for n in names}
    try:
        entries = list(new_dir.iterdir())
    except OSError:
        entries = []
    for entry in entries:
        top = entry.name.partition(".")[0]
        if top in sys.modules or top == "__pycache__" or "-" in top:
            continue
        if entry.is_dir() or entry.suffix == ".py" or _extension_file(entry):
            tops.add(top)
    return frozenset(tops)


def _same_source(name: str, run: shadow.Run, extensions: dict[str, ModuleType]) -> bool:
    """Whether a loaded module's new file is byte for byte its old one (an extension kept as
    it is counts as the same)."""
    old = getattr(sys.modules.get(name), "__file__", None)
    if name in extensions:
        return extensions[name] is sys.modules.get(name)
    new = getattr(run.modules.get(name), "__file__", None)
    if not isinstance(old, str) or not isinstance(new, str):
        return False
    try:
        return Path(old).read_bytes() == Path(new).read_bytes()
    except OSError:
        return False


def _extension_file(path: Path) -> bool:
    return any(path.name.endswith(s) for s in importlib.machinery.EXTENSION_SUFFIXES)


def _is_extension(module: ModuleType) -> bool:
    where = getattr(module, "__file__", None)
    return isinstance(where, str) and _extension_file(Path(where))


def _way_out(name: str, exc: CodeLoadError) -> str:
    if "compiled extension" in str(exc):
        return (
            f'; declare {{ restart_application = "{name}" }} for this upgrade in the app '
            "that uses it, or restart the node"
        )
    return ""


def _drop_removed(
    module: ModuleType, before: dict[str, object], defined: frozenset[str] | None
) -> None:
    """Names the new version no longer defines leave the module (its submodules stay): the
    namespace is the new version's, as after a fresh import."""
    if defined is None:
        return
    namespace = module.__dict__
    prefix = module.__name__ + "."
    for key in [k for k in before if k not in defined and k in namespace]:
        value = namespace[key]
        if isinstance(value, ModuleType) and value.__name__ == prefix + key:
            continue
        del namespace[key]


def _drop_module(name: str, old: ModuleType | None) -> None:
    """A module the new version no longer has: out of sys.modules and its package."""
    sys.modules.pop(name, None)
    parent_name, _, child = name.rpartition(".")
    parent = sys.modules.get(parent_name)
    if parent is not None and old is not None and parent.__dict__.get(child) is old:
        del parent.__dict__[child]


def _new_values(
    before: dict[str, dict[str, object]], current: dict[str, ModuleType], changed: frozenset[str]
) -> dict[int, tuple[object, object]]:
    """id(old value) -> (old, new) for each name a changed module now binds to another
    object, and for a module object replaced by another (a module turned compiled): what
    others bound with `import m` or `from m import name` follows it."""
    found: dict[int, tuple[object, object]] = {}
    for name, module in current.items():
        now = sys.modules.get(name)
        if name not in changed or now is None:
            continue
        namespace = before.get(name)
        if now is not module:
            found[id(module)] = (module, now)
            namespace = dict(module.__dict__)
        if namespace is None:
            continue
        after = now.__dict__
        for key, old in namespace.items():
            new = after.get(key, _GONE)
            if new is _GONE or new is old or key.startswith("__") or not distinct(old):
                continue
            found[id(old)] = (old, new)
    return found


_GONE = object()


def _put_back(saved: dict[str, ModuleType], tops: frozenset[str]) -> None:
    """sys.modules as before the install: modules it made go, the old ones come back."""
    for name in [n for n in list(sys.modules) if n.partition(".")[0] in tops]:
        if saved.get(name) is not sys.modules[name]:
            del sys.modules[name]
    sys.modules.update(saved)
    for name, module in saved.items():
        parent_name, _, child = name.rpartition(".")
        parent = saved.get(parent_name)
        if parent is not None:
            parent.__dict__[child] = module


@contextmanager
def _quiet() -> Iterator[None]:
    before = sys.getswitchinterval()
    sys.setswitchinterval(_SWITCH_INTERVAL)
    try:
        yield
    finally:
        sys.setswitchinterval(before)
