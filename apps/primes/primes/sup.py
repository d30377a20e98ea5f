"""primes' top supervisor: empty, as in the seed (a place for children to come)."""

from __future__ import annotations

from primes_runtime.supervisor import SupSpec


def init(args: object) -> SupSpec:
    """No children."""
    return SupSpec(strategy="one_for_one", intensity=3, period=5.0, children=[])
