"""Refused: the closure's free variables changed (prefix, number; version 1 had prefix), and
closures.KEPT holds one made by version 1's make."""

from __future__ import annotations

from collections.abc import Callable


def make(prefix: str, number: str = "2") -> Callable[[], str]:
    def tagged() -> str:
        return prefix + number

    return tagged
