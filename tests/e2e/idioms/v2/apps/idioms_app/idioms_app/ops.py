"""Version 2: a function decorated with decorators.traced (functools.wraps)."""

from __future__ import annotations

from .decorators import traced


@traced
def answer() -> str:
    return "v2"
