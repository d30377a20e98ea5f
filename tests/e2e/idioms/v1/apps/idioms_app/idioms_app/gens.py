"""A generator function; the keeper's state holds one of its generators, in progress.

Version 2 leaves it alone; tests/e2e/idioms/refused/generator/ changes it.
"""

from __future__ import annotations

from collections.abc import Iterator


def counting() -> Iterator[str]:
    n = 0
    while True:
        n += 1
        yield f"v1 {n}"
