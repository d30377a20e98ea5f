"""An upgrade plan's step per app or library: what plan.py, libraries.py and compile.py share."""

from __future__ import annotations

from dataclasses import dataclass

from primes_build.upgrade import instructions as hl


@dataclass(frozen=True)
class AppStep:
    """One app whose version changes between the two releases, and what to do about it."""

    app: str
    from_vsn: str
    to_vsn: str
    from_path: str
    to_path: str
    instructions: tuple[hl.HighLevel, ...]
    changed: tuple[str, ...]
    """Modules new or changed in the target version (what a restart loads)."""
    gone: tuple[str, ...]
    """Modules only the source version has (what a restart removes)."""
    how: str
    """`declared in <file>` or `derived from module changes`, for the script's comments."""
