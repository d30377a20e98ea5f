"""The format layer: the one definition of every file the build, a node and the CLI exchange.

Stdlib only; importing it does not import the rest of the runtime. docs/formats.md is the
contract each module implements (parse, render, check).
"""

from __future__ import annotations

from .errors import FormatError

__all__ = ["FormatError"]
