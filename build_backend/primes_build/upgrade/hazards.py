"""Hazards the build can see: stale `from m import f` names, changed process-state classes,
changed handlers with no code_change."""

from __future__ import annotations

from collections.abc import Iterable
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


def stale_from_imports(
    replaced: Iterable[str], modules: Iterable[ModuleFacts], module_names: frozenset[str]
) -> list[str]:
    """Warnings for modules that bound a name of a replaced module with `from m import f`."""
    gone = set(replaced)
    warnings = []
    for facts in modules:
        for imp in facts.from_imports:
            if imp.source not in gone or f"{imp.source}.{imp.name}" in module_names:
                continue
            if imp.name == "*":
                use = f"`import {imp.source}` and `{imp.source}.<name>`"
            else:
                use = f"`import {imp.source}` and `{imp.source}.{imp.name}`"
            warnings.append(
                f"{facts.name} (line {imp.line}) binds `{imp.name}` with "
                f"`from {imp.source} import {imp.name}`; after {imp.source} is replaced it still "
                f"holds the old object; use {use} instead"
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
