"""Process identifiers: small frozen values, unique within a node (its table hands them out)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Pid:
    """A process identifier; printed the Erlang way, ``<0.42>``."""

    id: int

    def __str__(self) -> str:
        return f"<0.{self.id}>"
