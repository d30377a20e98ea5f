"""The application callback: import every holder at boot, start the keeper's supervisor."""

from __future__ import annotations

from primes_runtime import Pid, supervisor

# Imported at boot, so each holds release 1's objects before any upgrade.
from . import callbacks, closures, greeter, kept, modref, plugins, shapes  # noqa: F401

SUP_NAME = "idioms_app_sup"


def start() -> Pid:
    return supervisor.start("idioms_app.sup", name=SUP_NAME)
