"""Changed by version 2: a runtime_checkable Protocol and a class that meets it structurally."""

from __future__ import annotations

from typing import Protocol, runtime_checkable


@runtime_checkable
class Answers(Protocol):
    def answer(self) -> str: ...


class Impl:
    def answer(self) -> str:
        return "v1"
