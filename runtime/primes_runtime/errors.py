"""The runtime's exceptions: one root, one class per way things go wrong."""

from __future__ import annotations


class PrimesError(Exception):
    """Root of every error the runtime raises on purpose."""


class NoProcess(PrimesError):
    """The destination is an unknown name or a pid whose process is dead."""


class NoNode(PrimesError):
    """Runtime code ran on a thread that belongs to no node."""


class CallTimeout(PrimesError):
    """A call got no reply within its timeout."""


class CallFailed(PrimesError):
    """The callee crashed or stopped before it replied."""


class StartError(PrimesError):
    """A process, child or application could not be started (the cause says why)."""


class BadReturn(PrimesError):
    """A callback returned a value its behaviour does not accept."""


class SuspendTimeout(PrimesError):
    """A process did not finish its current message within the suspend timeout."""


class NotSuspended(PrimesError):
    """An operation that needs a suspended process was given a running one."""


class CodeChangeError(PrimesError):
    """A callback module's code_change raised (the cause is the original exception)."""


class CodeLoadError(PrimesError):
    """A module could not be found, compiled or executed by the code server."""


class RestartIntensity(PrimesError):
    """Exit reason of a supervisor that saw more restarts than its intensity allows."""


class SupervisorError(PrimesError):
    """A supervisor request was wrong (unknown child, wrong strategy for the request)."""


class ApplicationError(PrimesError):
    """An application could not be started, stopped or found."""


class ConfigError(PrimesError):
    """A release manifest or node config file is missing or malformed."""
