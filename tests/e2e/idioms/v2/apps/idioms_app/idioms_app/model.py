"""Version 2 (methods only, same fields): the keeper's state holds instances."""

from __future__ import annotations

import enum
from dataclasses import dataclass


class Counter:
    def __init__(self) -> None:
        self.count = 0

    def bump(self) -> int:
        self.count += 1
        return self.count

    def answer(self) -> str:
        return "v2"


@dataclass
class Point:
    x: int
    y: int

    def answer(self) -> str:
        return "v2"


class Colour(enum.Enum):
    RED = "red"
    BLUE = "blue"

    def answer(self) -> str:
        return "v2"
