"""A registry that plugins fill when they are imported (plugins changes, this does not)."""

from __future__ import annotations

from collections.abc import Callable

HANDLERS: dict[str, Callable[[], str]] = {}


def register(name: str) -> Callable[[Callable[[], str]], Callable[[], str]]:
    def store(func: Callable[[], str]) -> Callable[[], str]:
        HANDLERS[name] = func
        return func

    return store
