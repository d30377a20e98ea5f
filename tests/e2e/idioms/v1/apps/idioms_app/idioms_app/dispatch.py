"""Changed by version 2: a functools.singledispatch function and a registered implementation."""

from __future__ import annotations

import functools


@functools.singledispatch
def describe(value: object) -> str:
    return "v1"


@describe.register
def _(value: int) -> str:
    return "v1"
