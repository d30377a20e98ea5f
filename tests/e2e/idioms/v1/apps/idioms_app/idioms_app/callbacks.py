"""Callbacks kept in a list: a functools.partial and a bound method (handlers changes)."""

from __future__ import annotations

import functools
from collections.abc import Callable

from . import handlers

_HANDLER = handlers.Handler()

CALLBACKS: list[Callable[[], str]] = [functools.partial(handlers.answer), _HANDLER.answer]
