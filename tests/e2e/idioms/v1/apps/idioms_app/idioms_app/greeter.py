"""Holds a function bound by `from .helpers import greet` (helpers changes, this does not)."""

from __future__ import annotations

from .helpers import greet


def answer() -> str:
    return greet()
