"""The listener: an async process that owns the listening socket and the uvicorn server.

The socket is bound in ``init`` (a bad host or port fails the start with one clear
line); the listener accepts on it (acceptor.py) and uvicorn serves each connection on the
node's event loop, under the guard's bounds (guard.py). Neither is touched by
an upgrade of the served application: the socket and idle keep-alive connections stay,
and each new request looks the application up again (dispatch.py). Why uvicorn: see
docs/asyncio-and-web.md.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import socket
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import uvicorn
from primes_runtime import Pid, PrimesError, app_env, self_pid, start_async_server
from primes_runtime.context import current_node
from primes_runtime.handover import adopting, forget, listen
from primes_runtime.server import Reply

from asgi_host.accepting import Accepting
from asgi_host.dispatch import AppSpec, Dispatch
from asgi_host.errors import AsgiHostError
from asgi_host.guard import Guard, Limits, fd_cap, protocol_for

NAME = "asgi_host"
APP = "asgi_host"
STARTUP_TIMEOUT = 10.0
FD_RESERVE_FACTOR = 2
"""HTTP connections leave this many times the control channel's reserved_fds free."""

log = logging.getLogger("asgi_host")


@dataclass(frozen=True)
class State:
    """The running server: socket, uvicorn, its task, the accept loop, the dispatcher and its
    watcher, and the guard of its connections."""

    sock: socket.socket
    server: uvicorn.Server
    task: asyncio.Task[None]
    acceptor: Accepting
    watcher: asyncio.Task[None]
    dispatch: Dispatch
    port: int
    shutdown_timeout: float
    guard: Guard


DEFAULTS: dict[str, object] = {
    "host": "127.0.0.1",
    "port": 0,
    "keep_alive": 5.0,
    "header_timeout": 10.0,
    "max_connections": 10000,
    "shutdown_timeout": 5.0,
}


def start_link(settings: Mapping[str, object] | None = None) -> Pid:
    """Start the listener, registered as ``asgi_host`` (the supervisor's child spec).

    ``settings`` override the app env keys (app, host, port, keep_alive, header_timeout,
    max_connections, shutdown_timeout, handover_after).
    """
    return start_async_server(__name__, dict(settings or {}), name=NAME)


def setting(settings: Mapping[str, object], key: str) -> object:
    """A setting: given at start, else the app env, else its default."""
    if key in settings:
        return settings[key]
    return app_env(APP, key, DEFAULTS.get(key, ""))


def seconds(settings: Mapping[str, object], key: str) -> float:
    """A setting that is a positive number of seconds; AsgiHostError otherwise."""
    value = setting(settings, key)
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        raise AsgiHostError(f"app env asgi_host.{key} must be a positive number ({value!r})")
    return float(value)


def count(settings: Mapping[str, object], key: str) -> int:
    """A setting that is a positive integer; AsgiHostError otherwise."""
    value = setting(settings, key)
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise AsgiHostError(f"app env asgi_host.{key} must be a positive integer ({value!r})")
    return value


def bind(host: object, port: object) -> socket.socket:
    """A listening TCP socket on host:port; AsgiHostError naming the app env key otherwise."""
    if not isinstance(host, str) or not host:
        raise AsgiHostError(f"app env asgi_host.host must be a host name or address ({host!r})")
    if isinstance(port, bool) or not isinstance(port, int) or not 0 <= port <= 65535:
        raise AsgiHostError(f"app env asgi_host.port must be an integer 0..65535 ({port!r})")
    try:
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        # IPPROTO_TCP, not 0: asyncio sets TCP_NODELAY only on sockets that say TCP, and
        # without it a keep-alive client waits 40 ms (delayed ACK) for every response.
        sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.bind((host, port))
        sock.listen(socket.SOMAXCONN)  # the kernel caps it at net.core.somaxconn
    except OSError as exc:
        raise AsgiHostError(
            f"cannot listen on {host}:{port} ({exc.strerror or exc}); "
            "change [env.asgi_host] host/port"
        ) from None
    sock.setblocking(False)
    return sock


async def init(args: Mapping[str, object]) -> State:
    spec = AppSpec.parse(setting(args, "app"))
    try:
        spec.resolve()  # a wrong module or attribute fails the start, not the first request
    except (AsgiHostError, AttributeError, PrimesError) as exc:
        raise AsgiHostError(f"app env asgi_host.app = {setting(args, 'app')!r}: {exc}") from None
    keep_alive, shutdown = seconds(args, "keep_alive"), seconds(args, "shutdown_timeout")
    limits = Limits(count(args, "max_connections"), keep_alive, seconds(args, "header_timeout"))
    loop = asyncio.get_running_loop()
    accepting = Accepting(loop, current_node(), NAME)
    host, port_setting = setting(args, "host"), setting(args, "port")
    sock = listen(
        NAME,
        lambda: bind(host, port_setting),
        accepting.pause,
        accepting.resume,
        connections=accepting.handed,
    )
    sock.setblocking(False)
    handover_after = setting(args, "handover_after")
    if isinstance(handover_after, bool) or not isinstance(handover_after, int | float):
        raise AsgiHostError(
            f"app env asgi_host.handover_after must be seconds ({handover_after!r})"
        )
    dispatch = Dispatch(spec, loop, float(handover_after))
    config = uvicorn.Config(
        dispatch,
        lifespan="off",
        log_config=None,
        access_log=False,
        timeout_keep_alive=max(1, round(keep_alive)),
        timeout_graceful_shutdown=max(1, round(shutdown)),
    )
    server = uvicorn.Server(config)
    # Requests run as no process (a fresh context): self_pid() is None in a request.
    # uvicorn gets no socket: the accept loop below hands it each connection.
    task = loop.create_task(server.serve(sockets=[]), context=contextvars.Context())
    watcher = loop.create_task(dispatch.watch(), context=contextvars.Context())
    waited = 0.0
    while not server.started:
        if task.done():
            watcher.cancel()
            forget(NAME)
            sock.close()
            raise AsgiHostError(f"uvicorn did not start: {task.exception()!r}")
        if waited > STARTUP_TIMEOUT:
            raise AsgiHostError(f"uvicorn did not start within {STARTUP_TIMEOUT:g} s")
        await asyncio.sleep(0.01)
        waited += 0.01
    node = current_node()
    reserve = FD_RESERVE_FACTOR * node.config.control.reserved_fds
    guard = Guard(limits, fd_cap(limits.max_connections, reserve))
    protocol = protocol_for(guard)

    def connection() -> asyncio.Protocol:
        return protocol(
            config=config, server_state=server.server_state, app_state=server.lifespan.state
        )

    accepting.arm(sock, server, connection, guard)
    if not adopting():  # a successor accepts once its predecessor let it serve
        accepting.start()
    port = sock.getsockname()[1]
    node.report_old_code(self_pid(), dispatch.old_lines)
    log.info(
        "asgi_host: serving %s:%s on port %d (at most %d connections, %d descriptors kept free)",
        spec.module,
        spec.attribute,
        port,
        guard.cap,
        reserve,
    )
    return State(sock, server, task, accepting, watcher, dispatch, port, shutdown, guard)


async def handle_call(request: Any, caller: Any, state: State) -> Reply:
    if request == "port":
        return Reply(state.port, state)
    if request == "connections":
        return Reply(state.dispatch.lines(), state)
    if request == "open_connections":
        return Reply(len(state.server.server_state.connections), state)
    if request == "limits":
        limits = state.guard.limits
        return Reply(
            {
                "max_connections": state.guard.cap,
                "keep_alive": limits.keep_alive,
                "header_timeout": limits.header_timeout,
            },
            state,
        )
    return Reply(("error", "unknown_request"), state)


async def terminate(reason: object, state: State) -> None:
    current_node().forget_old_code(self_pid())
    forget(NAME)
    state.acceptor.stop()
    state.server.should_exit = True
    state.watcher.cancel()
    try:
        await asyncio.wait_for(asyncio.shield(state.task), state.shutdown_timeout + 1)
    except TimeoutError:
        state.server.force_exit = True
    state.sock.close()


def export_state(state: State) -> None:
    """Nothing to hand over: the socket moves as a listener, the successor starts its own
    server on it."""
    return None


def code_change(old_vsn: object, state: State, extra: object) -> State:
    return state  # the socket, the server and its connections stay as they are
