"""Holds what changed modules define, the way ordinary code does: names bound by
`from ... import` and instances made at import time. Version 2 does not change it."""

from __future__ import annotations

from .abcs import Circle
from .cached import lookup
from .contexts import Scope, scope
from .dispatch import describe
from .gauge import Gauge
from .inherit import Child
from .nested import Outer
from .ops import answer as traced_answer
from .protocols import Impl
from .tools import Tool

GAUGE = Gauge()
INNER = Outer.Inner()
CIRCLE = Circle()
IMPL = Impl()
SCOPE = Scope()
CHILD = Child()
CACHED_AT_BOOT = lookup(1)  # the cache holds release 1's answer from here on

__all__ = [
    "CACHED_AT_BOOT",
    "CHILD",
    "CIRCLE",
    "GAUGE",
    "IMPL",
    "INNER",
    "SCOPE",
    "Scope",
    "Tool",
    "describe",
    "lookup",
    "scope",
    "traced_answer",
]
