"""A class with __slots__; the keeper's state holds an instance.

Version 2 leaves it alone; tests/e2e/idioms/refused/slots/ changes its slots.
"""

from __future__ import annotations


class Cell:
    __slots__ = ("value",)

    def __init__(self, value: int) -> None:
        self.value = value
