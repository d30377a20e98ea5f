"""Faults a test injects into a successor (PRIMES_HANDOVER_FAULT=boot|import|hang)."""

from __future__ import annotations

import os
import threading

VAR = "PRIMES_HANDOVER_FAULT"


def at(step: str) -> None:
    """Fail (or hang, for `hang`) here when the variable names `step`."""
    wanted = os.environ.get(VAR, "")
    if wanted != step:
        return
    if step == "hang":
        threading.Event().wait()
    raise RuntimeError(f"fault injected at {step} ({VAR}={wanted})")
