"""The server process that owns frontman's listening socket and keeps it across upgrades.

The socket is bound once, in `init`; `code_change` hands the same socket to the new code.
Each request is dispatched through the *current* `frontman.handler` module, so new handler
code applies at the next request without re-binding: no client ever sees a refused
connection because of an upgrade. A client that is too slow to send its request is
dropped after `request_timeout` seconds, on its own thread, without blocking others.
"""

from __future__ import annotations

import contextlib
import logging
import selectors
import socket
import socketserver
import threading
from collections.abc import Mapping
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, TypedDict

from primes_runtime import Pid, app_env, code_server, start_server
from primes_runtime.handover import adopting, forget, listen
from primes_runtime.server import Reply

from frontman.errors import FrontmanError

NAME = "frontman"
HOST = "127.0.0.1"
HANDLER = "frontman.handler"
UNKNOWN_REQUEST = ("error", "unknown_request")

log = logging.getLogger("frontman")


class Listener(ThreadingHTTPServer):
    """A threading HTTP server whose connections time out after `request_timeout` seconds.

    Its serving loop sleeps until a client connects or :meth:`stop` wakes it (no polling), so
    a stop takes as long as the loop needs to notice it: microseconds, not a poll interval.
    """

    daemon_threads = True
    block_on_close = False
    request_queue_size = socket.SOMAXCONN
    """The listen backlog (socketserver's is 5: a burst of new connections past it has its
    SYNs dropped, and each such client waits the kernel's 1 s retransmit)."""

    def __init__(
        self, port: int, request_timeout: float, sock: socket.socket | None = None
    ) -> None:
        """Bind 127.0.0.1:`port`, or serve on `sock` (a listening socket handed over)."""
        self.request_timeout = request_timeout
        self._stopping = threading.Event()
        self._active = 0
        self._idle = threading.Condition()
        self._wake_r, self._wake_w = socket.socketpair()
        try:
            super().__init__((HOST, port), Dispatch, bind_and_activate=sock is None)
        except BaseException:
            self._wake_r.close()
            self._wake_w.close()
            raise
        if sock is not None:
            self.socket.close()
            self.socket = sock
            self.server_address = sock.getsockname()
            self.server_name, self.server_port = HOST, self.server_address[1]

    def server_bind(self) -> None:
        """Bind as HTTPServer does, less its reverse DNS lookup of the host (socket.getfqdn)."""
        socketserver.TCPServer.server_bind(self)
        self.server_name = HOST
        self.server_port = self.socket.getsockname()[1]

    def get_request(self) -> tuple[socket.socket, Any]:
        conn, addr = super().get_request()
        conn.settimeout(self.request_timeout)
        return conn, addr

    def serve_until_stopped(self) -> None:
        """Accept and dispatch connections until :meth:`stop` is called."""
        with selectors.DefaultSelector() as selector:
            selector.register(self, selectors.EVENT_READ)
            selector.register(self._wake_r, selectors.EVENT_READ)
            while not self._stopping.is_set():
                for key, _ in selector.select():
                    if key.fileobj is self and not self._stopping.is_set():
                        self.accept_one()
                self.service_actions()

    def accept_one(self) -> None:
        """Accept the waiting connection and hand it to a thread of its own."""
        try:
            request, addr = self.get_request()
        except OSError:
            return  # the client left before it was accepted
        if not self.verify_request(request, addr):
            self.shutdown_request(request)
            return
        try:
            self.process_request(request, addr)
        except Exception:
            self.handle_error(request, addr)
            self.shutdown_request(request)

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        """Serve one connection on its thread, counted until it is done (see :meth:`drain`)."""
        with self._idle:
            self._active += 1
        try:
            super().process_request_thread(request, client_address)
        finally:
            with self._idle:
                self._active -= 1
                self._idle.notify_all()

    def drain(self, timeout: float) -> None:
        """Return once no connection is being served (FrontmanError after `timeout` s)."""
        with self._idle:
            if not self._idle.wait_for(lambda: self._active == 0, timeout):
                raise FrontmanError(
                    f"frontman: {self._active} requests still in flight after {timeout:g} s"
                )

    def stop(self) -> None:
        """Wake the serving loop and make it return (it is joined by its caller)."""
        self._stopping.set()
        with contextlib.suppress(OSError):  # already closed: the loop is gone
            self._wake_w.send(b"x")

    def serve_in_thread(self) -> threading.Thread:
        """Start the serving loop on a thread of its own (again after :meth:`pause`)."""
        with contextlib.suppress(BlockingIOError):  # a stop's wake-up byte, already seen
            self._wake_r.recv(64, socket.MSG_DONTWAIT)
        self._stopping.clear()
        self.thread = threading.Thread(
            target=self.serve_until_stopped, name="frontman-http", daemon=True
        )
        self.thread.start()
        return self.thread

    def pause(self, timeout: float) -> None:
        """A hand-over: stop accepting (the kernel queues new connections) and return once
        the requests in flight are answered."""
        self.stop()
        thread = getattr(self, "thread", None)
        if thread is not None:
            thread.join(timeout)
        self.drain(timeout)

    def resume(self) -> None:
        """Accept again: after a failed hand-over, or in the successor once it serves."""
        self.serve_in_thread()

    def server_close(self) -> None:
        super().server_close()
        self._wake_r.close()
        self._wake_w.close()


class Dispatch(BaseHTTPRequestHandler):
    """Parses a request (stdlib) and hands it to the current handler module.

    Kept this thin on purpose: the running listener holds this class across upgrades.
    """

    server_version = "frontman"

    def dispatch(self) -> None:
        try:
            code_server.current(HANDLER).handle(self)
        except Exception:
            log.exception("frontman: %s %s failed", self.command, self.path)
            self.close_connection = True
            self.send_error(HTTPStatus.INTERNAL_SERVER_ERROR)

    do_GET = do_HEAD = do_POST = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = dispatch

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """Errors the stdlib detects (bad request line, unknown method, ...) answer JSON too."""
        try:
            code_server.current(HANDLER).send_error_json(self, code, message)
        except Exception:
            super().send_error(code, message, explain)

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s - " + format, self.address_string(), *args)


class ServerState(TypedDict):
    """The server process's state: the listener (socket included) and its serving thread."""

    listener: Listener
    thread: threading.Thread


def start_link(args: object = None) -> Pid:
    """Start the server process registered as `frontman` (the supervisor's child start)."""
    return start_server(__name__, args, name=NAME)


def setting(args: object, key: str, default: float) -> object:
    """`key` from the start args (tests) if given there, else from frontman's app env."""
    if isinstance(args, Mapping) and key in args:
        return args[key]
    return app_env("frontman", key, default)


def init(args: object) -> ServerState:
    """Bind 127.0.0.1:`port` (0 picks a free port) and serve on a thread of its own."""
    port = setting(args, "port", 0)
    timeout = setting(args, "request_timeout", 5.0)
    if isinstance(port, bool) or not isinstance(port, int) or not 0 <= port <= 65535:
        raise FrontmanError(
            f"frontman: app env `port` must be an integer 0..65535, got {port!r};"
            " fix [node.env.frontman] port in primes.toml"
        )
    if isinstance(timeout, bool) or not isinstance(timeout, int | float) or timeout <= 0:
        raise FrontmanError(
            f"frontman: app env `request_timeout` must be a positive number, got {timeout!r};"
            " fix [node.env.frontman] request_timeout in primes.toml"
        )
    made: list[Listener] = []

    def bind() -> socket.socket:
        try:
            made.append(Listener(port, float(timeout)))
        except OSError as e:
            raise FrontmanError(
                f"frontman: cannot listen on {HOST}:{port}: {e.strerror or e};"
                " set [node.env.frontman] port in primes.toml to a free port (0 picks one)"
            ) from e
        return made[0].socket

    # A predecessor's socket if one was handed over, else bind's; the listener on it answers
    # the node's pause and resume (made[0] by then).
    sock = listen(NAME, bind, lambda limit: made[0].pause(limit), lambda: made[0].resume())
    if not made:
        made.append(Listener(port, float(timeout), sock))
    listener = made[0]
    if adopting():  # a successor serves once its predecessor let it (the node resumes it)
        thread = threading.Thread(target=lambda: None, name="frontman-http (not yet)")
    else:
        thread = listener.serve_in_thread()
    log.info("frontman listening on http://%s:%d/", HOST, listener.server_address[1])
    return ServerState(listener=listener, thread=thread)


def handle_call(request: object, caller: object, state: ServerState) -> Reply:
    """`port`: the bound port."""
    if request == "port":
        return Reply(state["listener"].server_address[1], state)
    return Reply(UNKNOWN_REQUEST, state)


def handle_cast(msg: object, state: ServerState) -> ServerState:
    """Nothing to do."""
    return state


def handle_info(msg: object, state: ServerState) -> ServerState:
    """Nothing to do."""
    return state


def code_change(old_vsn: object, state: ServerState, extra: object) -> ServerState:
    """Keep the listening socket and its thread: the new code serves on the same socket."""
    return ServerState(listener=state["listener"], thread=state["thread"])


def export_state(state: ServerState) -> None:
    """Nothing to hand over: the socket moves as a listener; the successor serves on it."""
    return None


def terminate(reason: object, state: ServerState) -> None:
    """Stop serving and close the listening socket."""
    listener = state["listener"]
    forget(NAME)
    stop = getattr(listener, "stop", None)
    if stop is not None:
        stop()
    else:  # a listener an older frontman bound (serve_forever with a poll interval)
        listener.shutdown()
    thread = getattr(listener, "thread", None) or state["thread"]
    if thread.is_alive():
        thread.join(timeout=5.0)
    listener.server_close()
