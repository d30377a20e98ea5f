"""The distributions a script swaps in: each swap, its undo, and the check that no old code runs."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from primes_runtime.kernel.registry import ProcessTable
from primes_runtime.swap import distribution, stale
from primes_runtime.swap.journal import Journal

from .preparing import Preparation


class OldCodeRuns(Exception):
    """Something still runs the old code after the swap; str() is what (the evaluator names
    the step)."""


@dataclass
class Swaps:
    """The swaps of one script's prepared distributions, in the tree at `root`."""

    root: Path
    processes: ProcessTable
    preparation: Preparation
    undo_log: list[tuple[str, Callable[[], None]]]
    """The evaluator's undo log: every swap enters its undo step there."""
    journals: dict[str, Journal] = field(default_factory=dict)
    """Each distribution swapped in, and how to undo it."""

    def owners(self) -> Iterator[tuple[str, object]]:
        """The node's processes, as roots that hold state (for naming holders), listed when
        iterated."""
        return stale.process_owners(self.processes)

    def swap(self, name: str) -> None:
        """Put a prepared distribution's new code behind every reference (once)."""
        prepared = self.preparation.dists.get(name)
        if prepared is None or name in self.journals:
            return
        journal = self.journals[name] = Journal()
        try:
            distribution.install(prepared, journal)
        finally:
            self.undo_log.append((f"swap of {name} back to {prepared.old_dir}", _undoing(journal)))

    def swapped_in(self, module: str) -> bool:
        """Whether ``module`` is one a swap of this install loaded from its new dir (a
        compiled extension loaded anew under a restart): a `remove` leaves it."""
        where = getattr(sys.modules.get(module), "__file__", None)
        if not isinstance(where, str):
            return False
        swapped = (d.new_dir for d in self.preparation.dists.values() if d.name in self.journals)
        return any(Path(where).is_relative_to(new_dir) for new_dir in swapped)

    def stale_code(self) -> list[stale.Stale]:
        """What still runs code of the old dirs this install swapped (empty when whole)."""
        dirs = {
            d.old_dir: d.new_dir for d in self.preparation.dists.values() if d.name in self.journals
        }
        ignore: list[object] = []
        for journal in self.journals.values():
            ignore.extend(journal.containers())
        return stale.find(self.root, dirs, self.owners(), ignore)

    def verify(self, wait: float = 2.0) -> None:
        """Raise OldCodeRuns if anything still runs the old code of a swapped distribution.

        A coroutine in progress (a request, a stream) finishes on the code it started on, as
        an OTP process in old code does until it returns; the web host lists such connections
        as old code in the report. A thread in old code gets ``wait`` seconds to leave it.
        """
        deadline = time.monotonic() + wait
        while True:
            found = [s for s in self.stale_code() if s.kind != "coroutine"]
            if not found:
                return
            if any(s.kind != "thread" for s in found) or time.monotonic() >= deadline:
                break
            time.sleep(0.1)
        more = f" (and {len(found) - 1} more)" if len(found) > 1 else ""
        raise OldCodeRuns(f"old code still runs after the swap: {found[0].line()}{more}")

    def forget(self) -> None:
        """Drop what the undo of each swap kept (the old code)."""
        for journal in self.journals.values():
            journal.forget()
        self.journals.clear()


def _undoing(journal: Journal) -> Callable[[], None]:
    """An undo step for a swap: what it could not put back is raised together."""

    def undo() -> None:
        problems = journal.undo()
        if problems:
            more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
            raise RuntimeError(problems[0] + more)

    return undo
