"""A package that re-exports a function and a class from its submodule (impl changes)."""

from __future__ import annotations

from .impl import Square, area

__all__ = ["Square", "area"]
