"""Put a module's new functions and classes into its old ones, in place.

Every holder of an old function (a from-import, a partial, a bound method, a registry, a
closure) runs the new code once the old function object has the new code; every instance
of an old class has the new methods once the old class has the new namespace, and
``isinstance`` keeps holding. The old objects stay in the module under their names, so
identities hold too. What cannot be done in place (a closure whose free variables changed,
a class whose layout changed, an Enum whose members changed) is *replaced*: the module
holds the new object, and each place that held the old one must be rebound or refused.

A dry run (no journal) takes the same decisions without changing anything.
"""

from __future__ import annotations

import enum
import functools
import sys
import types
from collections.abc import Iterator
from dataclasses import dataclass, field
from types import CellType, FunctionType

from .journal import Journal

_MISSING = object()

_KEEP_KEYS = frozenset(
    {"__dict__", "__weakref__", "__slots__", "__module__", "__qualname__", "_abc_impl"}
)
"""Class namespace entries that belong to the class object itself: never copied."""

_ENUM_KEYS = frozenset(
    {
        "_member_names_",
        "_member_map_",
        "_value2member_map_",
        "_unhashable_values_",
        "_unhashable_values_map_",
        "_member_type_",
        "_value_repr_",
        "_new_member_",
        "_use_args_",
        "_singles_mask_",
        "_all_bits_",
        "_flag_mask_",
        "_inverted_",
        "__new__",
    }
)
"""Enum bookkeeping made with the members; an Enum keeps its own members and these."""

_LRU = type(functools.lru_cache(lambda: None))

_LAYOUT_DESCRIPTORS = (types.MemberDescriptorType, types.GetSetDescriptorType)


@dataclass
class Replaced:
    """An old object the new code could not be put into: the new object takes its place."""

    old: object
    new: object
    where: str
    why: str


@dataclass
class Patcher:
    """Merges new objects into old ones; `journal` None is a dry run that changes nothing."""

    journal: Journal | None
    scope: frozenset[str] = frozenset()
    """The modules whose code changes: a function or class of another module is its own old
    object already (it is not executed again), never merged."""
    canonical: dict[int, object] = field(default_factory=dict)
    """id(new object) -> the old object that stays in its place (or the new one itself)."""
    replaced: list[Replaced] = field(default_factory=list)
    _alive: list[object] = field(default_factory=list)

    @property
    def dry(self) -> bool:
        return self.journal is None

    def canon(self, obj: object) -> object:
        """The object that stands for ``obj`` after the swap."""
        return self.canonical.get(id(obj), obj)

    @property
    def _kept(self) -> set[int]:
        return {id(v) for v in self.canonical.values()}

    def pair(self, new: object, old: object) -> None:
        """Let ``new`` stand for ``old`` (an object of a module that is not executed again)."""
        self.canonical[id(new)] = old
        self._alive.append(new)

    # -- modules --------------------------------------------------------------------------

    def merge_module(self, name: str, old: dict[str, object], new: dict[str, object]) -> None:
        """Merge module ``name``'s new namespace ``new`` into the objects of ``old``.

        In a real run ``new`` is the module's own namespace, executed again in place, and
        each merged name gets its old object back; in a dry run nothing is written.
        """
        for key, value in list(new.items()):
            before = old.get(key, _MISSING)
            if before is _MISSING or before is value or not _defined_in(before, name):
                continue
            if not _defined_in(value, name):
                continue  # the name now holds something else: plain rebinding
            if self.merge(before, value, f"{name}.{key}"):
                if not self.dry:
                    new[key] = before
            else:
                self.replaced.append(Replaced(before, value, f"{name}.{key}", self._why(before)))
        if not self.dry:
            self._settle(new)
            self._adopt_instances(new)

    def _settle(self, namespace: dict[str, object]) -> None:
        """Values set before their class or function was merged (a class attribute naming a
        class defined later in the module) now name the object that stays."""
        merged = [v for v in namespace.values() if isinstance(v, type) and id(v) in self._kept]
        for key, value in list(namespace.items()):
            kept = self.canonical.get(id(value))
            if kept is not None and kept is not value:
                namespace[key] = kept
        for cls in merged:
            for key, value in list(vars(cls).items()):
                kept = self.canonical.get(id(value))
                if kept is not None and kept is not value and not key.startswith("__"):
                    self._set(cls, key, kept)

    # -- one pair -------------------------------------------------------------------------

    def merge(self, old: object, new: object, where: str) -> bool:
        """Put ``new`` into ``old`` in place if their kinds allow it; True if done."""
        if old is new or self.canonical.get(id(new)) is old:
            return True
        if (
            isinstance(old, FunctionType | type)
            and getattr(old, "__module__", None) not in self.scope
        ):
            same = type(old) is type(new) and old.__qualname__ == new.__qualname__  # type: ignore[union-attr]
            if same:
                self.pair(new, old)
            return same
        if isinstance(old, FunctionType) and isinstance(new, FunctionType):
            return self.merge_function(old, new)
        if isinstance(old, type) and isinstance(new, type):
            return old.__qualname__ == new.__qualname__ and self.merge_class(old, new)
        if isinstance(old, staticmethod | classmethod) and type(old) is type(new):
            return self.merge(old.__func__, new.__func__, where)  # type: ignore[union-attr]
        if isinstance(old, property) and isinstance(new, property):
            parts = [(old.fget, new.fget), (old.fset, new.fset), (old.fdel, new.fdel)]
            if any((a is None) != (b is None) for a, b in parts):
                return False
            return all(a is None or self.merge(a, b, where) for a, b in parts)
        if isinstance(old, _LRU) and isinstance(new, _LRU):
            inner = self.merge(old.__wrapped__, new.__wrapped__, where)  # type: ignore[attr-defined]
            if inner and self.journal is not None:  # the old code's results are not the new's
                self.journal.step(old.cache_clear)
                old.cache_clear()
            return inner
        return False

    def merge_function(self, old: FunctionType, new: FunctionType) -> bool:
        """The old function object gets the new code, defaults, attributes and closure.

        Not a function made by exec with globals of its own (attrs' and namedtuple's
        generated methods): the new code would read the old globals, which hold the old
        version's objects. The new function takes its place where it is held instead.
        """
        if old.__code__.co_freevars != new.__code__.co_freevars or not _module_globals(old):
            return False
        self.pair(new, old)
        journal = self.journal
        if journal is not None:
            journal.function(old)
            old.__code__ = new.__code__
            old.__defaults__ = new.__defaults__
            old.__kwdefaults__ = new.__kwdefaults__
            old.__doc__ = new.__doc__
            old.__annotations__ = new.__annotations__
        for before, after in zip(old.__closure__ or (), new.__closure__ or (), strict=True):
            self._merge_cell(before, after)
        attrs = {k: self._merged_value(old.__dict__.get(k, _MISSING), v, k) for k, v in
                 new.__dict__.items()}  # fmt: skip
        if journal is not None:
            old.__dict__.clear()
            old.__dict__.update(attrs)
        return True

    def merge_class(self, old: type, new: type) -> bool:
        """The old class gets the new namespace; its instances get the new methods."""
        if len(old.__bases__) == len(new.__bases__):  # bases first, whatever the order
            for old_base, new_base in zip(old.__bases__, new.__bases__, strict=True):
                if old_base is not new_base and old_base.__qualname__ == new_base.__qualname__:
                    self.merge(old_base, new_base, f"{old_base.__module__}.{old_base.__qualname__}")
        if self._layout(old) != self._layout(new):
            return False
        is_enum = issubclass(old, enum.Enum)
        if is_enum and _members(old) != _members(new):
            return False
        self.pair(new, old)
        skip = _KEEP_KEYS | (_ENUM_KEYS | set(_members(old)) if is_enum else frozenset())
        old_ns, new_ns = dict(vars(old)), dict(vars(new))
        where = f"{old.__module__}.{old.__qualname__}"
        for key, value in new_ns.items():
            if key in skip or isinstance(value, _LAYOUT_DESCRIPTORS):
                continue  # a slot's descriptor belongs to the class it was made for
            before = old_ns.get(key, _MISSING)
            after = self._merged_value(before, value, f"{where}.{key}")
            if after is not before:
                self._set(old, key, after)
            self._claim_class_cells(after, new, old)
        for key in old_ns.keys() - new_ns.keys() - skip:
            self._set(old, key, _MISSING)
        return True

    # -- helpers --------------------------------------------------------------------------

    def _merged_value(self, before: object, value: object, where: str) -> object:
        """What an attribute holds after the merge: its old object with the new code in it,
        or the new value (standing for its canonical object)."""
        if before is not _MISSING and self.merge(before, value, where):
            return before
        return self.canon(value)

    def _merge_cell(self, before: CellType, after: CellType) -> None:
        try:
            old_value = before.cell_contents
        except ValueError:
            old_value = _MISSING
        try:
            new_value = after.cell_contents
        except ValueError:
            return
        if old_value is not _MISSING and self.merge(old_value, new_value, "a closure"):
            return
        value = self.canon(new_value)
        if value is old_value or self.journal is None:
            return
        self.journal.cell(before)
        before.cell_contents = value

    def _claim_class_cells(self, value: object, new: type, old: type) -> None:
        """A new method using ``super()`` or ``__class__`` refers to the new class through
        its ``__class__`` cell: point it at the old class that stays."""
        for fn in functions_of(value):
            if "__class__" not in fn.__code__.co_freevars or fn.__closure__ is None:
                continue
            cell = fn.__closure__[fn.__code__.co_freevars.index("__class__")]
            try:
                held = cell.cell_contents
            except ValueError:
                continue
            if held is new and self.journal is not None:
                self.journal.cell(cell)
                cell.cell_contents = old

    def _set(self, cls: type, key: str, value: object) -> None:
        if self.journal is None:
            return
        self.journal.attribute(cls, key)
        if value is _MISSING:
            delattr(cls, key)
        else:
            setattr(cls, key, value)

    def _layout(self, cls: type) -> tuple[object, ...]:
        slots = vars(cls).get("__slots__", ())
        slots = (slots,) if isinstance(slots, str) else tuple(sorted(slots))  # type: ignore[arg-type]
        # (the same slots in another order: the old class keeps its descriptors, so its
        # instances and the new code agree)
        return (
            self.canon(type(cls)),
            tuple(self.canon(b) for b in cls.__bases__),
            slots,
            cls.__basicsize__,
            cls.__itemsize__,
            cls.__dictoffset__,
            cls.__weakrefoffset__,
        )

    def _why(self, old: object) -> str:
        if isinstance(old, FunctionType):
            return "its closure's free variables changed"
        if isinstance(old, type) and issubclass(old, enum.Enum):
            return "its members changed"
        if isinstance(old, type):
            return "its layout changed (bases, metaclass or __slots__)"
        return "it cannot be changed in place"

    def _adopt_instances(self, namespace: dict[str, object]) -> None:
        """Instances made by the new top level of a class merged into its old one become
        instances of the old class (an Enum member becomes the old member)."""
        journal = self.journal
        assert journal is not None
        for holder, key, value in _shallow(namespace):
            cls = type(value)
            old = self.canonical.get(id(cls))
            if old is None or old is cls or not isinstance(old, type):
                continue
            if isinstance(value, enum.Enum):
                member = old.__members__.get(value.name)  # type: ignore[attr-defined]
                if member is None:
                    continue
                if isinstance(holder, type):
                    self._set(holder, str(key), member)
                elif isinstance(holder, dict):
                    holder[key] = member
                elif isinstance(holder, list):
                    holder[int(str(key))] = member
                continue
            try:
                journal.instance_class(value)
                object.__setattr__(value, "__class__", old)
            except TypeError:
                pass  # an instance of a builtin-layout class: left as it is


def _module_globals(fn: FunctionType) -> bool:
    """Whether ``fn``'s globals are its module's namespace (not a dict exec was given)."""
    name = fn.__globals__.get("__name__")
    module = sys.modules.get(name) if isinstance(name, str) else None
    return module is not None and getattr(module, "__dict__", None) is fn.__globals__


def _defined_in(obj: object, module: str) -> bool:
    """Whether ``obj`` is a function, class or cached function defined by ``module``."""
    if isinstance(obj, FunctionType | type | _LRU):
        return getattr(obj, "__module__", None) == module
    return False


def _members(cls: type) -> dict[str, object]:
    return {k: getattr(v, "value", None) for k, v in cls.__members__.items()}  # type: ignore[attr-defined]


def functions_of(value: object) -> Iterator[FunctionType]:
    if isinstance(value, FunctionType):
        yield value
    elif isinstance(value, staticmethod | classmethod):
        yield from functions_of(value.__func__)
    elif isinstance(value, property):
        for part in (value.fget, value.fset, value.fdel):
            yield from functions_of(part)


def _shallow(namespace: dict[str, object]) -> Iterator[tuple[object, object, object]]:
    """(holder, key, value) for a module's values and one level into its plain containers
    and its classes' own attributes."""
    for key, value in list(namespace.items()):
        yield namespace, key, value
        if isinstance(value, dict):
            for k, item in list(value.items()):
                yield value, k, item
        elif isinstance(value, list):
            for index, item in enumerate(value):
                yield value, index, item
        elif isinstance(value, type) and not isinstance(value, enum.EnumMeta):
            for k, item in list(vars(value).items()):
                if not k.startswith("__"):
                    yield value, k, item
