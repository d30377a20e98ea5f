"""The node's side of the control channel: a Unix socket in run/, one thread per connection."""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import threading
import time
from pathlib import Path

from primes_runtime.control import auth, frames, watch
from primes_runtime.control.cookie import configured, node_cookie
from primes_runtime.control.errors import AuthError, ControlError, FrameError, NotRunning
from primes_runtime.control.ops import NodeLike, Session
from primes_runtime.control.tree import Tree, address, connect

log = logging.getLogger("primes_runtime.control")

HANDSHAKE_TIMEOUT = 10.0
"""Seconds a new connection has to complete the challenge-response."""


class ControlServer:
    """Accepts authenticated clients on run/node.sock and answers their requests."""

    def __init__(self, node: NodeLike, tree: Tree, cookie: str) -> None:
        self.node = node
        self.tree = tree
        self._cookie = cookie
        self._started = time.monotonic()
        self._closed = threading.Event()
        self._listener: socket.socket | None = None
        self._inode: int | None = None

    def open(self) -> None:
        """Bind run/node.sock (0600 in a 0700 run/) and start accepting in a daemon thread."""
        self.tree.make_run_dir()
        sock_path = self.tree.sock
        if sock_path.exists() or sock_path.is_symlink():
            try:
                connect(sock_path, timeout=2.0).close()
            except (NotRunning, OSError):
                log.info("removing stale control socket %s", sock_path)
                sock_path.unlink(missing_ok=True)
            else:
                raise ControlError(f"another node already answers on {sock_path}; stop it first")
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            listener.bind(address(sock_path))
            os.chmod(sock_path, 0o600)
            listener.listen(16)
            listener.settimeout(0.5)
        except BaseException:
            listener.close()
            raise
        self._inode = sock_path.stat().st_ino
        self._listener = listener
        threading.Thread(target=self._accept_loop, name="primes-control", daemon=True).start()
        log.info("control channel listening on %s", sock_path)

    def close(self) -> None:
        """Stop accepting, remove the socket and (if it names this process) run/node.pid."""
        if self._closed.is_set():
            return
        self._closed.set()
        if self._listener is not None:
            self._listener.close()
        with contextlib.suppress(OSError):
            if self.tree.sock.stat().st_ino == self._inode:
                self.tree.sock.unlink()
        with contextlib.suppress(OSError, ValueError, IndexError):
            if int(self.tree.pid_file.read_text().split()[0]) == os.getpid():
                self.tree.pid_file.unlink()

    def ensure_socket(self) -> bool:
        """Bind run/node.sock again if it was removed or replaced; True when it did."""
        if self._closed.is_set() or self._listener is None:
            return False
        with contextlib.suppress(OSError):
            if self.tree.sock.stat().st_ino == self._inode:
                return False
        self.tree.make_run_dir()
        self.tree.sock.unlink(missing_ok=True)
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            listener.bind(address(self.tree.sock))
            os.chmod(self.tree.sock, 0o600)
            listener.listen(16)
            listener.settimeout(0.5)
        except BaseException:
            listener.close()
            raise
        self._inode = self.tree.sock.stat().st_ino
        old, self._listener = self._listener, listener
        closer = threading.Timer(2.0, old.close)  # the accept loop moves on within 0.5 s
        closer.daemon = True
        closer.start()
        return True

    def _accept_loop(self) -> None:
        assert self._listener is not None
        while not self._closed.is_set():
            try:
                conn, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                if self._closed.is_set():
                    return
                log.exception("control channel accept failed")
                time.sleep(0.1)
                continue
            threading.Thread(
                target=self._serve, args=(conn,), name="primes-control-conn", daemon=True
            ).start()

    def _serve(self, conn: socket.socket) -> None:
        with conn:
            conn.settimeout(HANDSHAKE_TIMEOUT)
            try:
                auth.server_handshake(conn, self._cookie)
            except AuthError:
                log.warning("control channel: refused a client with a wrong cookie")
                return
            except (FrameError, OSError) as exc:
                log.warning("control channel: closed a connection during the handshake: %s", exc)
                return
            conn.settimeout(None)
            session = Session(self.node, self._started)
            while not self._closed.is_set():
                try:
                    request = frames.recv(conn)
                    if request is None:
                        return
                    reply = session.handle(request)
                    try:
                        data = frames.encode(reply.message)
                    except FrameError as exc:
                        data = frames.encode({"ok": False, "error": f"reply too large: {exc}"})
                    conn.sendall(data)
                except FrameError as exc:
                    log.warning("control channel: closed a connection: %s", exc)
                    return
                except OSError as exc:
                    log.info("control channel: connection lost: %s", exc)
                    return
                if reply.then is not None:
                    reply.then()


def start(node: NodeLike) -> ControlServer:
    """Serve the control channel of a booted node until it shuts down."""
    tree = Tree(Path(node.root))
    cookie = node_cookie(tree, node.release)
    server = ControlServer(node, tree, cookie)
    server.open()
    node.on_shutdown(server.close)
    generated = None if configured(tree, node.release) is not None else cookie
    limit = tree.node_config(node.release).log_max_bytes
    watch.start(watch.Watch(tree, server.ensure_socket, generated, limit), server._closed)
    return server
