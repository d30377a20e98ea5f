"""The primes runtime: OTP-style processes, supervisors, applications and release handling.

The public API below is loaded on first use (PEP 562), so that importing a subpackage such as
`primes_runtime.formats` (which the build backend does) does not start the whole runtime.
"""

from __future__ import annotations

import importlib

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (bin/<name> ping)
if TYPE_CHECKING:  # what a type checker sees: the same names, from the same modules, as _PUBLIC
    from typing import Any

    from .behaviours.aio import async_call as async_call
    from .behaviours.aio import blocking as blocking
    from .behaviours.aioserver import start as start_async_server
    from .behaviours.server import start as start_server
    from .behaviours.statem import start as start_statem
    from .errors import CallFailed as CallFailed
    from .errors import CallTimeout as CallTimeout
    from .errors import CodeChangeError as CodeChangeError
    from .errors import NoProcess as NoProcess
    from .errors import PrimesError as PrimesError
    from .errors import StartError as StartError
    from .errors import SuspendTimeout as SuspendTimeout
    from .host.application import AppInfo as AppInfo
    from .host.application import app_env as app_env
    from .host.introspect import ProcessInfo as ProcessInfo
    from .host.introspect import applications as applications
    from .host.introspect import processes as processes
    from .host.node import Node as Node
    from .kernel.caller import Caller as Caller
    from .kernel.messaging import Down as Down
    from .kernel.messaging import MonitorRef as MonitorRef
    from .kernel.messaging import call as call
    from .kernel.messaging import cancel_timer as cancel_timer
    from .kernel.messaging import cast as cast
    from .kernel.messaging import demonitor as demonitor
    from .kernel.messaging import monitor as monitor
    from .kernel.messaging import reply as reply
    from .kernel.messaging import send as send
    from .kernel.messaging import send_after as send_after
    from .kernel.messaging import stop as stop
    from .kernel.pid import Pid as Pid
    from .kernel.process import self_pid as self_pid
    from .kernel.registry import register as register
    from .kernel.registry import unregister as unregister
    from .kernel.registry import whereis as whereis
    from .kernel.timers import TimerRef as TimerRef

# The public API: name -> (module under primes_runtime, attribute). tests/runtime/test_public_api.py
# checks that the TYPE_CHECKING imports above name the same things.
_PUBLIC: dict[str, tuple[str, str]] = {
    "AppInfo": ("host.application", "AppInfo"),
    "CallFailed": ("errors", "CallFailed"),
    "CallTimeout": ("errors", "CallTimeout"),
    "Caller": ("kernel.caller", "Caller"),
    "CodeChangeError": ("errors", "CodeChangeError"),
    "Down": ("kernel.messaging", "Down"),
    "MonitorRef": ("kernel.messaging", "MonitorRef"),
    "NoProcess": ("errors", "NoProcess"),
    "Node": ("host.node", "Node"),
    "Pid": ("kernel.pid", "Pid"),
    "PrimesError": ("errors", "PrimesError"),
    "ProcessInfo": ("host.introspect", "ProcessInfo"),
    "StartError": ("errors", "StartError"),
    "SuspendTimeout": ("errors", "SuspendTimeout"),
    "TimerRef": ("kernel.timers", "TimerRef"),
    "app_env": ("host.application", "app_env"),
    "applications": ("host.introspect", "applications"),
    "async_call": ("behaviours.aio", "async_call"),
    "blocking": ("behaviours.aio", "blocking"),
    "call": ("kernel.messaging", "call"),
    "cancel_timer": ("kernel.messaging", "cancel_timer"),
    "cast": ("kernel.messaging", "cast"),
    "demonitor": ("kernel.messaging", "demonitor"),
    "monitor": ("kernel.messaging", "monitor"),
    "processes": ("host.introspect", "processes"),
    "register": ("kernel.registry", "register"),
    "reply": ("kernel.messaging", "reply"),
    "self_pid": ("kernel.process", "self_pid"),
    "send": ("kernel.messaging", "send"),
    "send_after": ("kernel.messaging", "send_after"),
    "start_async_server": ("behaviours.aioserver", "start"),
    "start_server": ("behaviours.server", "start"),
    "start_statem": ("behaviours.statem", "start"),
    "stop": ("kernel.messaging", "stop"),
    "unregister": ("kernel.registry", "unregister"),
    "whereis": ("kernel.registry", "whereis"),
}

__all__ = [  # the keys of _PUBLIC (tests/runtime/test_public_api.py)
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
