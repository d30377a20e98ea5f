"""Refused: Cell's __slots__ changed while the keeper's state holds an instance (and the
keeper has no code_change to convert it)."""

from __future__ import annotations


class Cell:
    __slots__ = ("unit", "value")

    def __init__(self, value: int) -> None:
        self.value = value
        self.unit = "kg"
