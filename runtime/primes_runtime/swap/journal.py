"""Every in-place change of a swap, recorded so that undo puts each object back exactly."""

from __future__ import annotations

from collections.abc import Callable
from types import CellType, FunctionType, ModuleType

_EMPTY = object()
"""An empty closure cell (or a missing attribute) in a record."""

_FUNCTION_ATTRS = ("__code__", "__defaults__", "__kwdefaults__", "__doc__", "__annotations__")


class Journal:
    """Undo steps of one swap, newest last; `undo()` runs them newest first, once."""

    def __init__(self) -> None:
        self._steps: list[Callable[[], None]] = []
        self.saved: list[object] = []
        """What the steps keep alive to put back (the stale-code check looks through it)."""

    def __len__(self) -> int:
        return len(self._steps)

    def step(self, undo: Callable[[], None], *keep: object) -> None:
        """Record an undo step and the old objects it will put back."""
        self._steps.append(undo)
        self.saved.extend(keep)

    def function(self, fn: FunctionType) -> None:
        """Record a function's code, defaults, doc, annotations and attribute dict."""
        before = [getattr(fn, a) for a in _FUNCTION_ATTRS]
        attrs = dict(fn.__dict__)

        def back() -> None:
            for name, value in zip(_FUNCTION_ATTRS, before, strict=True):
                setattr(fn, name, value)
            fn.__dict__.clear()
            fn.__dict__.update(attrs)

        self.step(back, before, attrs)

    def cell(self, cell: CellType) -> None:
        """Record a closure cell's content."""
        try:
            before = cell.cell_contents
        except ValueError:
            before = _EMPTY

        def back() -> None:
            if before is _EMPTY:
                del cell.cell_contents
            else:
                cell.cell_contents = before

        self.step(back, before)

    def attribute(self, obj: object, name: str) -> None:
        """Record one entry of a class's (or any object's) own namespace."""
        before = vars(obj).get(name, _EMPTY)

        def back() -> None:
            if before is _EMPTY:
                if name in vars(obj):
                    delattr(obj, name)
            else:
                setattr(obj, name, before)

        self.step(back, before)

    def instance_class(self, obj: object) -> None:
        """Record the class of an instance whose ``__class__`` is about to change."""
        before = type(obj)

        def back() -> None:
            object.__setattr__(obj, "__class__", before)

        self.step(back, before)

    def namespace(self, module: ModuleType) -> None:
        """Record a whole module namespace (restored entry for entry)."""
        namespace = module.__dict__
        before = dict(namespace)

        def back() -> None:
            namespace.clear()
            namespace.update(before)

        self.step(back, before)

    def containers(self) -> list[object]:
        """The journal's own containers and closures: references from these keep an old
        object only for the undo, not for the running node."""
        found: list[object] = [self._steps, self.saved, *self.saved]
        for step in self._steps:
            found.append(step)
            found.extend(getattr(step, "__closure__", None) or ())
        return found

    def forget(self) -> None:
        """Keep nothing: the change stands."""
        self._steps.clear()
        self.saved.clear()

    def undo(self) -> list[str]:
        """Undo every step, newest first; returns what could not be undone."""
        problems: list[str] = []
        while self._steps:
            try:
                self._steps.pop()()
            except Exception as exc:
                problems.append(f"{type(exc).__name__}: {exc}")
        self.saved.clear()
        return problems
