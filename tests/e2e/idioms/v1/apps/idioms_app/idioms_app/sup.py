"""The top supervisor: keeps the keeper running."""

from __future__ import annotations

from primes_runtime.supervisor import ChildSpec, SupSpec

KEEPER = ChildSpec(id="keeper", start=("idioms_app.keeper", "start_link", ()))


def init(args: object) -> SupSpec:
    return SupSpec(strategy="one_for_one", intensity=3, period=5.0, children=[KEEPER])
