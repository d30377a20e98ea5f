"""Process identifiers: small frozen values, unique within a node."""

from __future__ import annotations

import itertools
from dataclasses import dataclass

_ids = itertools.count(1)


@dataclass(frozen=True, slots=True)
class Pid:
    """A process identifier; printed the Erlang way, ``<0.42>``."""

    id: int

    def __str__(self) -> str:
        return f"<0.{self.id}>"


def new_pid() -> Pid:
    """Return a pid never handed out before in this node."""
    return Pid(next(_ids))
