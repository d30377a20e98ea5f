"""Compiled extension modules: refuse an in-place upgrade of an app whose extensions differ."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from primes_build.errors import BuildError


@dataclass(frozen=True)
class ExtensionChange:
    """One extension module that differs between two versions of an app."""

    module: str
    what: str
    """`changed`, `is new in <app> <vsn>` or `is gone from <app> <vsn>` (the target version)."""


def extension_changes(
    app: str, target_vsn: str, before: Mapping[str, str], after: Mapping[str, str]
) -> tuple[ExtensionChange, ...]:
    """Extensions new, gone or changed going from `before` to `after`, sorted by module."""
    out: list[ExtensionChange] = []
    for module in sorted(set(before) | set(after)):
        if module not in before:
            out.append(ExtensionChange(module, f"is new in {app} {target_vsn}"))
        elif module not in after:
            out.append(ExtensionChange(module, f"is gone from {app} {target_vsn}"))
        elif before[module] != after[module]:
            out.append(ExtensionChange(module, "changed"))
    return tuple(out)


def check_extensions(
    app: str, sv: str, dv: str, changes: tuple[ExtensionChange, ...], *,
    restart: bool, file: str | None, declare_at: str,
) -> list[str]:  # fmt: skip
    """Refuse `changes` unless the app restarts; then warn about each changed one.

    `declare_at` is where a restart would go, e.g. `[tool.primes.app.upgrade."2"] up_from."1"`.
    """
    if not changes:
        return []
    if not restart:
        first = changes[0]
        where = file or "the app's pyproject.toml"
        more = f" (and {len(changes) - 1} more)" if len(changes) > 1 else ""
        raise BuildError(
            f"cannot upgrade {app} {sv} -> {dv} in place: its compiled extension module "
            f"{first.module} {first.what}{more}, and compiled extensions cannot be replaced "
            f'in a running node; declare {declare_at} = [{{ restart_application = "{app}" }}] '
            f"in {where} (docs/app-config.md)",
            file=file,
        )
    return [
        f"{app} {sv} -> {dv}: compiled extension module {c.module} changed; if the node "
        "has imported it, it keeps the old one until the node restarts (restart_application "
        "cannot replace it)"
        for c in changes
        if c.what == "changed"
    ]
