"""A supervisor callback module whose init returns the SupSpec it is given."""

from __future__ import annotations

from primes_runtime.behaviours.supervisor import SupSpec


def init(args: SupSpec) -> SupSpec:
    return args
