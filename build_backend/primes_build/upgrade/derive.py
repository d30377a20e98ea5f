"""Derive an app's instructions for a version pair from its two versions' modules."""

from __future__ import annotations

from collections.abc import Mapping

from primes_build.upgrade import instructions as hl


def derive(
    before: Mapping[str, str], after: Mapping[str, str], callbacks: frozenset[str]
) -> tuple[hl.HighLevel, ...]:
    """Compare module hashes: unchanged -> nothing; changed callback module -> update;
    changed otherwise -> load_module; new -> add_module; gone -> delete_module.

    Sorted by module name, so a package comes before its submodules.
    """
    out: list[hl.HighLevel] = []
    for module in sorted(set(before) | set(after)):
        if module not in before:
            out.append(hl.AddModule(module))
        elif module not in after:
            out.append(hl.DeleteModule(module))
        elif before[module] != after[module]:
            out.append(hl.Update(module) if module in callbacks else hl.LoadModule(module))
    return tuple(out)
