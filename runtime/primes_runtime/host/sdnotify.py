"""systemd's readiness protocol (sd_notify): READY=1 once booted, STOPPING=1 on SIGTERM."""

from __future__ import annotations

import logging
import os
import signal
import socket
from collections.abc import Mapping
from types import FrameType

log = logging.getLogger("primes_runtime.sdnotify")

ENV_VAR = "NOTIFY_SOCKET"


def address(raw: str) -> str | bytes | None:
    """The socket NOTIFY_SOCKET names: a path, or `@name` for the abstract namespace."""
    if raw.startswith("@") and len(raw) > 1:
        return b"\0" + raw[1:].encode("utf-8")
    if raw.startswith("/"):
        return raw
    return None  # unset, empty, or a kind (vsock:...) this node does not speak


def notify(state: str, environ: Mapping[str, str] | None = None) -> bool:
    """Send one datagram of `KEY=value` lines to the service manager; False if there is none.

    Never raises: a node runs the same whether or not a supervisor listens.
    """
    env = os.environ if environ is None else environ
    target = address(env.get(ENV_VAR, ""))
    if target is None:
        return False
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
            sock.sendto(state.encode("utf-8"), target)
    except OSError as exc:
        log.warning("sd_notify: cannot tell %s %r: %s", env.get(ENV_VAR), state, exc)
        return False
    return True


def attach(release: str) -> None:
    """Tell systemd the node is ready, and that it is stopping once SIGTERM or SIGINT comes.

    Call from the main thread after boot: it wraps the signal handlers already installed.
    """
    if address(os.environ.get(ENV_VAR, "")) is None:
        return
    for signum in (signal.SIGTERM, signal.SIGINT):
        _wrap(signum)
    notify(f"READY=1\nSTATUS=release {release} running\nMAINPID={os.getpid()}")


def _wrap(signum: int) -> None:
    previous = signal.getsignal(signum)

    def on_signal(number: int, frame: FrameType | None) -> None:
        notify("STOPPING=1\nSTATUS=stopping")
        if callable(previous):
            previous(number, frame)

    signal.signal(signum, on_signal)
