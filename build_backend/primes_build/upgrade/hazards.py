"""Hazards the build can see: what cannot take new code in place, changed process-state
classes, changed handlers with no code_change."""

from __future__ import annotations

from dataclasses import dataclass

from primes_build.upgrade.analysis import ModuleFacts


@dataclass(frozen=True)
class FieldChange:
    """A class present in both versions of a module whose field set differs."""

    module: str
    cls: str
    added: frozenset[str]
    removed: frozenset[str]

    def describe(self) -> str:
        """`class State in m changed its fields (added: a; removed: b)`."""
        parts = []
        if self.added:
            parts.append("added: " + ", ".join(sorted(self.added)))
        if self.removed:
            parts.append("removed: " + ", ".join(sorted(self.removed)))
        return f"class {self.cls} in {self.module} changed its fields ({'; '.join(parts)})"


def in_place_hazards(before: ModuleFacts, after: ModuleFacts) -> list[str]:
    """What a node cannot put new code into in place: a closure whose free variables changed,
    a class whose bases, metaclass or __slots__ changed. The node refuses the upgrade while
    such an object is alive (and held outside the module); the build says so first."""
    module = after.name
    warnings = []
    for name in sorted(set(before.closures) & set(after.closures)):
        old, new = before.closures[name], after.closures[name]
        if old != new:
            warnings.append(
                f"{module}: closure {name} changed its free variables ({', '.join(old)} -> "
                f"{', '.join(new)}); the node refuses the upgrade while a closure made by the "
                "old code is held outside the module: replace it in a code_change, declare "
                "restart_application, or restart the node"
            )
    for name in sorted(set(before.layouts) & set(after.layouts)):
        old_layout, new_layout = before.layouts[name], after.layouts[name]
        if old_layout != new_layout:
            warnings.append(
                f"{module}: class {name} changed its layout ({old_layout} -> {new_layout}); "
                "the node refuses the upgrade while an instance of it is alive: rebuild them "
                "in a code_change, declare restart_application, or restart the node"
            )
    return warnings


def field_changes(before: ModuleFacts, after: ModuleFacts) -> list[FieldChange]:
    """Classes defined in both versions whose field sets differ."""
    changes = []
    for cls in sorted(set(before.class_fields) & set(after.class_fields)):
        old, new = before.class_fields[cls], after.class_fields[cls]
        if old != new:
            changes.append(FieldChange(after.name, cls, new - old, old - new))
    return changes


def unconverted_handlers(module: str, before: ModuleFacts, after: ModuleFacts) -> list[str]:
    """A warning when `module`'s handlers changed but its newer code has no code_change."""
    changed = sorted(
        name
        for name in set(before.handlers) | set(after.handlers)
        if before.handlers.get(name) != after.handlers.get(name)
    )
    if not changed:
        return []
    return [
        f"{module}: update derived, its handlers changed ({', '.join(changed)}) but it defines "
        "no code_change, so its processes keep their state as it is; if the new handlers "
        "expect another state, add code_change (a crash in the upgrade's probation rolls it back)"
    ]
