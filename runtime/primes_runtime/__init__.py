"""The primes runtime: OTP-style processes, supervisors, applications and release handling."""

from __future__ import annotations

from .application import AppInfo, app_env
from .caller import Caller
from .errors import (
    CallFailed,
    CallTimeout,
    CodeChangeError,
    NoProcess,
    PrimesError,
    StartError,
    SuspendTimeout,
)
from .introspect import ProcessInfo, applications, processes
from .messaging import (
    Down,
    MonitorRef,
    call,
    cancel_timer,
    cast,
    demonitor,
    monitor,
    reply,
    send,
    send_after,
    stop,
)
from .pid import Pid
from .process import self_pid
from .registry import register, unregister, whereis
from .server import start as start_server
from .statem import start as start_statem
from .timers import TimerRef

__all__ = [
    "AppInfo",
    "CallFailed",
    "CallTimeout",
    "Caller",
    "CodeChangeError",
    "Down",
    "MonitorRef",
    "NoProcess",
    "Pid",
    "PrimesError",
    "ProcessInfo",
    "StartError",
    "SuspendTimeout",
    "TimerRef",
    "app_env",
    "applications",
    "call",
    "cancel_timer",
    "cast",
    "demonitor",
    "monitor",
    "processes",
    "register",
    "reply",
    "self_pid",
    "send",
    "send_after",
    "start_server",
    "start_statem",
    "stop",
    "unregister",
    "whereis",
]
