"""A decorator written with functools.wraps (ops uses it; this module does not change)."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any


def traced(func: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        return func(*args, **kwargs)

    return wrapper
