"""The primes runtime: OTP-style processes, supervisors, applications and release handling.

The public API below is loaded on first use (PEP 562), so that importing a subpackage such as
`primes_runtime.formats` (which the build backend does) does not start the whole runtime.
"""

from __future__ import annotations

import importlib

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (bin/<name> ping)
if TYPE_CHECKING:
    from typing import Any

    from .aio import async_call, blocking
    from .aioserver import start as start_async_server
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

_PUBLIC: dict[str, tuple[str, str]] = {
    "AppInfo": ("application", "AppInfo"),
    "CallFailed": ("errors", "CallFailed"),
    "CallTimeout": ("errors", "CallTimeout"),
    "Caller": ("caller", "Caller"),
    "CodeChangeError": ("errors", "CodeChangeError"),
    "Down": ("messaging", "Down"),
    "MonitorRef": ("messaging", "MonitorRef"),
    "NoProcess": ("errors", "NoProcess"),
    "Node": ("node", "Node"),
    "Pid": ("pid", "Pid"),
    "PrimesError": ("errors", "PrimesError"),
    "ProcessInfo": ("introspect", "ProcessInfo"),
    "StartError": ("errors", "StartError"),
    "SuspendTimeout": ("errors", "SuspendTimeout"),
    "TimerRef": ("timers", "TimerRef"),
    "app_env": ("application", "app_env"),
    "async_call": ("aio", "async_call"),
    "blocking": ("aio", "blocking"),
    "applications": ("introspect", "applications"),
    "call": ("messaging", "call"),
    "cancel_timer": ("messaging", "cancel_timer"),
    "cast": ("messaging", "cast"),
    "demonitor": ("messaging", "demonitor"),
    "monitor": ("messaging", "monitor"),
    "processes": ("introspect", "processes"),
    "register": ("registry", "register"),
    "reply": ("messaging", "reply"),
    "self_pid": ("process", "self_pid"),
    "send": ("messaging", "send"),
    "send_after": ("messaging", "send_after"),
    "start_async_server": ("aioserver", "start"),
    "start_server": ("server", "start"),
    "start_statem": ("statem", "start"),
    "stop": ("messaging", "stop"),
    "unregister": ("registry", "unregister"),
    "whereis": ("registry", "whereis"),
}

__all__ = [
    "AppInfo",
    "CallFailed",
    "CallTimeout",
    "Caller",
    "CodeChangeError",
    "Down",
    "MonitorRef",
    "NoProcess",
    "Node",
    "Pid",
    "PrimesError",
    "ProcessInfo",
    "StartError",
    "SuspendTimeout",
    "TimerRef",
    "app_env",
    "applications",
    "async_call",
    "blocking",
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
    "start_async_server",
    "start_server",
    "start_statem",
    "stop",
    "unregister",
    "whereis",
]


def __getattr__(name: str) -> Any:
    """Import a public name's module on first use and cache the name in this package."""
    try:
        module, attr = _PUBLIC[name]
    except KeyError:
        raise AttributeError(f"module 'primes_runtime' has no attribute {name!r}") from None
    value = getattr(importlib.import_module(f".{module}", __name__), attr)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
