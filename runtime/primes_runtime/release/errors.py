"""The release handler's one exception: a one-line message saying what is wrong and what to do."""

from __future__ import annotations

from primes_runtime.errors import PrimesError


class ReleaseError(PrimesError):
    """A release operation was refused or failed; str() is one line for a person."""
