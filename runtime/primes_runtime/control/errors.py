"""The control channel's exceptions: one root, each message one line for a person."""

from __future__ import annotations

from primes_runtime.errors import PrimesError


class ControlError(PrimesError):
    """Root of the control channel's errors; str() is one line saying what to do."""


class FrameError(ControlError):
    """A frame on the socket was malformed, oversize or cut short."""


class AuthError(ControlError):
    """The challenge-response failed: a wrong cookie on one side."""


class NotRunning(ControlError):
    """No node answers on the control socket."""
