"""Changed by version 2; modref reaches f only through the module (`import ... as m`)."""

from __future__ import annotations


def f() -> str:
    return "v1"
