"""Refused: the generator function changed while a generator of it runs in the keeper's state
(whose module has no code_change): its frame cannot move to the new code."""

from __future__ import annotations

from collections.abc import Iterator


def counting() -> Iterator[str]:
    n = 0
    while True:
        n += 1
        yield f"v2 {n}"
