"""Version 2: greet. greeter holds it through `from .helpers import greet`."""

from __future__ import annotations


def greet() -> str:
    return "v2"
