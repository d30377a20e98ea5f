"""The listener: an async process that owns the listening socket and the uvicorn server.

The socket is bound in ``init`` (a bad host or port fails the start with one clear
line) and handed to uvicorn, which serves on the node's event loop. Neither is touched by
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
from primes_runtime.server import Reply

from asgi_host.dispatch import AppSpec, Dispatch
from asgi_host.errors import AsgiHostError

NAME = "asgi_host"
APP = "asgi_host"
STARTUP_TIMEOUT = 10.0

log = logging.getLogger("asgi_host")


@dataclass(frozen=True)
class State:
    """The running server: socket, uvicorn, its task, the dispatcher and its watcher."""

    sock: socket.socket
    server: uvicorn.Server
    task: asyncio.Task[None]
    watcher: asyncio.Task[None]
    dispatch: Dispatch
    port: int
    shutdown_timeout: float


DEFAULTS: dict[str, object] = {
    "host": "127.0.0.1",
    "port": 0,
    "keep_alive": 5.0,
    "shutdown_timeout": 5.0,
}


def start_link(settings: Mapping[str, object] | None = None) -> Pid:
    """Start the listener, registered as ``asgi_host`` (the supervisor's child spec).

    ``settings`` override the app env keys (app, host, port, keep_alive, shutdown_timeout,
    handover_after).
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
        sock.listen(1024)
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
    sock = bind(setting(args, "host"), setting(args, "port"))
    handover_after = setting(args, "handover_after")
    if isinstance(handover_after, bool) or not isinstance(handover_after, int | float):
        raise AsgiHostError(
            f"app env asgi_host.handover_after must be seconds ({handover_after!r})"
        )
    loop = asyncio.get_running_loop()
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
    task = loop.create_task(server.serve(sockets=[sock]), context=contextvars.Context())
    watcher = loop.create_task(dispatch.watch(), context=contextvars.Context())
    waited = 0.0
    while not server.started:
        if task.done():
            watcher.cancel()
            sock.close()
            raise AsgiHostError(f"uvicorn did not start: {task.exception()!r}")
        if waited > STARTUP_TIMEOUT:
            raise AsgiHostError(f"uvicorn did not start within {STARTUP_TIMEOUT:g} s")
        await asyncio.sleep(0.01)
        waited += 0.01
    port = sock.getsockname()[1]
    me = self_pid()
    current_node().lingering[me] = dispatch.old_lines
    log.info("asgi_host: serving %s:%s on port %d", spec.module, spec.attribute, port)
    return State(sock, server, task, watcher, dispatch, port, shutdown)


async def handle_call(request: Any, caller: Any, state: State) -> Reply:
    if request == "port":
        return Reply(state.port, state)
    if request == "connections":
        return Reply(state.dispatch.lines(), state)
    if request == "open_connections":
        return Reply(len(state.server.server_state.connections), state)
    return Reply(("error", "unknown_request"), state)


async def terminate(reason: object, state: State) -> None:
    current_node().lingering.pop(self_pid(), None)
    state.server.should_exit = True
    state.watcher.cancel()
    try:
        await asyncio.wait_for(asyncio.shield(state.task), state.shutdown_timeout + 1)
    except TimeoutError:
        state.server.force_exit = True
    state.sock.close()


def code_change(old_vsn: object, state: State, extra: object) -> State:
    return state  # the socket, the server and its connections stay as they are
