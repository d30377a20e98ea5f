"""Changed by version 2: a context manager class and a @contextlib.contextmanager function."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator


class Scope:
    def __enter__(self) -> str:
        return "v1"

    def __exit__(self, *exc: object) -> None:
        return None


@contextlib.contextmanager
def scope() -> Iterator[str]:
    yield "v1"
