"""`import pkg.mod as m; m.f()`: a reference to the module, never to its function."""

from __future__ import annotations

import idioms_app.plain as m


def answer() -> str:
    return m.f()
