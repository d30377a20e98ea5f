"""Changed by version 2: the closure's code, not its free variables (prefix, in both)."""

from __future__ import annotations

from collections.abc import Callable


def make(prefix: str) -> Callable[[], str]:
    def tagged() -> str:
        return prefix + "1"

    return tagged
