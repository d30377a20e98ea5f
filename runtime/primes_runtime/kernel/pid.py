"""Process identifiers: small frozen values, unique within a node (its table hands them out)."""

from __future__ import annotations

from typing import NamedTuple


class Pid(NamedTuple):
    """A process identifier; printed the Erlang way, ``<0.42>``.

    A named tuple, not a frozen dataclass: its hash and equality run in C (a dataclass's are
    Python functions), and every table, mailbox and install keys by pid (10,000 lookups in a
    10,000-process upgrade's pause).
    """

    id: int

    def __str__(self) -> str:
        return f"<0.{self.id}>"
