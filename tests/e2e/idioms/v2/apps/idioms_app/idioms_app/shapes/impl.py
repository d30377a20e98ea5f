"""Version 2; the package's __init__ re-exports area and Square."""

from __future__ import annotations


def area() -> str:
    return "v2"


class Square:
    def answer(self) -> str:
        return "v2"
