"""Version 2: a subclass method that calls super()."""

from __future__ import annotations


class Base:
    def answer(self) -> str:
        return "v"


class Child(Base):
    def answer(self) -> str:
        return super().answer() + "2"
