"""Version 2: a class nested in a class."""

from __future__ import annotations


class Outer:
    class Inner:
        def answer(self) -> str:
            return "v2"
