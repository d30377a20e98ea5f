"""Faults a test injects into a hand-over: a successor that fails (PRIMES_HANDOVER_FAULT=
boot|import|hang) and a kill -9 of either node at a step (PRIMES_HANDOVER_KILL=side:step)."""

from __future__ import annotations

import os
import signal
import threading

VAR = "PRIMES_HANDOVER_FAULT"
KILL_VAR = "PRIMES_HANDOVER_KILL"

LEADER_STEPS = ("spawned", "sockets", "frozen", "states", "permanent", "commit", "served")
"""Where the old node can be killed: after it started the successor, sent the sockets,
exported the states, sent them, made the release permanent, sent commit, heard `serving`."""

SUCCESSOR_STEPS = ("sockets", "booted", "imported", "commit", "served", "serving")
"""Where the successor can be killed: after it took the sockets, booted, imported the
states, heard commit, took the tree and the listeners, said `serving`."""


def at(step: str) -> None:
    """Fail (or hang, for `hang`) here when the variable names `step`."""
    wanted = os.environ.get(VAR, "")
    if wanted != step:
        return
    if step == "hang":
        threading.Event().wait()
    raise RuntimeError(f"fault injected at {step} ({VAR}={wanted})")


def kill(side: str, step: str) -> None:
    """SIGKILL this process (only ever itself) when PRIMES_HANDOVER_KILL is `side:step`."""
    if os.environ.get(KILL_VAR, "") == f"{side}:{step}":
        os.kill(os.getpid(), signal.SIGKILL)
