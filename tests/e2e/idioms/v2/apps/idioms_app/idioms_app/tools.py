"""Version 2: a classmethod and a staticmethod."""

from __future__ import annotations


class Tool:
    @classmethod
    def build(cls) -> str:
        return "v2"

    @staticmethod
    def version() -> str:
        return "v2"
