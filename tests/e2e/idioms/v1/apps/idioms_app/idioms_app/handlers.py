"""Changed by version 2; callbacks keeps a partial of answer and a bound Handler.answer."""

from __future__ import annotations


def answer() -> str:
    return "v1"


class Handler:
    def answer(self) -> str:
        return "v1"
