"""asgi_host's application callback and its rpc entry points."""

from __future__ import annotations

from primes_runtime import Pid, call, supervisor

SUP_NAME = "asgi_host_sup"
LISTENER = "asgi_host"


def start() -> Pid:
    """Start the top supervisor (and with it the listener process); return its pid."""
    return supervisor.start("asgi_host.sup", name=SUP_NAME)


def port() -> int:
    """The port the listener is bound to (what `bin/<release> rpc asgi_host.app port` prints)."""
    value = call(LISTENER, "port")
    assert isinstance(value, int)
    return value


def connections() -> list[str]:
    """One line per request or connection in flight, with the code it runs on."""
    value = call(LISTENER, "connections")
    assert isinstance(value, list)
    return [str(line) for line in value]


def limits() -> dict[str, object]:
    """The connection bounds in force: max_connections (after the fd cap), keep_alive,
    header_timeout (what `bin/<release> rpc asgi_host.app limits` prints)."""
    value = call(LISTENER, "limits")
    assert isinstance(value, dict)
    return {str(k): v for k, v in value.items()}
