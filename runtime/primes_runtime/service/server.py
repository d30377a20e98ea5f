"""The node's side of the control channel: a Unix socket in run/, one thread per connection."""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import resource
import socket
import threading
import time
from pathlib import Path

from primes_runtime.control import auth, watch
from primes_runtime.control.cookie import configured, node_cookie
from primes_runtime.control.errors import AuthError, ControlError, FrameError, NotRunning
from primes_runtime.control.sealed import Sealed, TamperedFrame
from primes_runtime.control.tree import Tree, address, connect
from primes_runtime.formats.node_toml import ControlLimits
from primes_runtime.kernel import threadstart
from primes_runtime.kernel.reaper import Reaper, owned_by_popen
from primes_runtime.loading import collector
from primes_runtime.service.ops import NodeLike, Session

log = logging.getLogger("primes_runtime.control")

CONTROL_KEY = "primes.control"
"""The control socket's key among the node's listeners (what a hand-over passes on)."""


def free_fds() -> int:
    """How many more file descriptors this process may open (soft RLIMIT_NOFILE)."""
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY:
        return 1 << 30
    try:
        return soft - len(os.listdir("/proc/self/fd"))
    except OSError:
        return soft


class ControlServer:
    """Accepts authenticated clients on run/node.sock and answers their requests.

    Connections that have not proved the cookie are strangers: each gets `handshake_timeout`
    seconds in total, at most `max_pending` of them are kept (a new one closes the oldest, so
    the owner always gets in), and none is kept while fewer than `reserved_fds` descriptors
    are free.
    """

    def __init__(
        self, node: NodeLike, tree: Tree, cookie: str, limits: ControlLimits | None = None
    ) -> None:
        self.node = node
        self.tree = tree
        self.limits = limits or ControlLimits()
        self._cookie = cookie
        self._started = time.monotonic()
        self._closed = threading.Event()
        self._listener: socket.socket | None = None
        self._inode: int | None = None
        self._pending: list[socket.socket] = []
        self._pending_lock = threading.Lock()
        self._last_fd_warning = 0.0
        self._paused = threading.Event()  # a hand-over holds new connections in the queue
        self._handed_off = False

    def open(self) -> None:
        """Bind run/node.sock (0600 in a 0700 run/) and start accepting in a daemon thread."""
        self.tree.make_run_dir()
        sock_path = self.tree.sock
        handed = CONTROL_KEY in self.node.inherited  # a predecessor passed its socket over
        if not handed and (sock_path.exists() or sock_path.is_symlink()):
            try:
                connect(sock_path, timeout=2.0).close()
            except (NotRunning, OSError):
                log.info("removing stale control socket %s", sock_path)
                sock_path.unlink(missing_ok=True)
            else:
                raise ControlError(f"another node already answers on {sock_path}; stop it first")
        from primes_runtime.handover.listeners import listen

        listener = listen(
            CONTROL_KEY, self._bind, self._pause, self._paused.clear, self._hand_off,
            node=self.node,  # type: ignore[arg-type]
        )  # fmt: skip
        listener.settimeout(0.5)
        self._inode = sock_path.stat().st_ino
        self._listener = listener
        threading.Thread(target=self._accept_loop, name="primes-control", daemon=True).start()
        log.info("control channel listening on %s", sock_path)

    def _bind(self) -> socket.socket:
        return _listening(self.tree.sock)

    def _pause(self, timeout: float) -> None:
        """Stop accepting (within the accept loop's 0.5 s poll); connections keep queuing."""
        self._paused.set()

    def _hand_off(self) -> None:
        """The successor serves the socket now: stop, leaving run/node.sock and the pid file."""
        self._handed_off = True
        self.close()

    def close(self) -> None:
        """Stop accepting, remove the socket and (if it names this process) run/node.pid."""
        if self._closed.is_set():
            return
        self._closed.set()
        if self._listener is not None:
            self._listener.close()
        if self._handed_off:
            return
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
        listener = _listening(self.tree.sock)
        self._inode = self.tree.sock.stat().st_ino
        old, self._listener = self._listener, listener
        closer = threading.Timer(2.0, old.close)  # the accept loop moves on within 0.5 s
        closer.daemon = True
        if not threadstart.started(closer, "closing the old socket now"):
            old.close()
        return True

    def _accept_loop(self) -> None:
        assert self._listener is not None
        while not self._closed.is_set():
            if self._paused.is_set():
                time.sleep(0.02)
                continue
            try:
                conn, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError as exc:
                if self._closed.is_set():
                    return
                if exc.errno in (errno.EMFILE, errno.ENFILE):
                    self._warn_fds("no file descriptor left to accept a connection")
                    self._drop_oldest_pending()
                else:
                    log.warning("control channel: accept failed: %s", exc)
                time.sleep(0.1)
                continue
            if not self._admit(conn):
                conn.close()
                continue
            threadstart.start_or_run(self._serve, (conn,), name="primes-control-conn", daemon=True)

    def _admit(self, conn: socket.socket) -> bool:
        """Count a new connection as pending, closing the oldest stranger past the limits."""
        with self._pending_lock:
            self._pending.append(conn)
            over = len(self._pending) - self.limits.max_pending
        for _ in range(max(over, 0)):
            self._drop_oldest_pending()
        if free_fds() >= self.limits.reserved_fds:
            return True
        self._warn_fds(f"fewer than {self.limits.reserved_fds} file descriptors free")
        if not self._drop_oldest_pending(keep=conn):
            with self._pending_lock:
                self._pending.remove(conn)
            return False
        return True

    def _drop_oldest_pending(self, keep: socket.socket | None = None) -> bool:
        """Shut down the oldest connection still in its handshake; False if there is none."""
        with self._pending_lock:
            victims = [c for c in self._pending if c is not keep]
            if not victims:
                return False
            victim = victims[0]
            self._pending.remove(victim)
        with contextlib.suppress(OSError):
            victim.shutdown(socket.SHUT_RDWR)
        return True

    def _logged_in(self, conn: socket.socket) -> bool:
        """Move a connection out of the pending list; False if it was dropped meanwhile."""
        with self._pending_lock:
            if conn not in self._pending:
                return False
            self._pending.remove(conn)
            return True

    def _warn_fds(self, what: str) -> None:
        now = time.monotonic()
        if now - self._last_fd_warning >= 10.0:
            self._last_fd_warning = now
            log.warning("control channel: %s; closing connections not logged in", what)

    def _serve(self, conn: socket.socket) -> None:
        with conn:
            key = self._handshake(conn)
            if self._logged_in(conn) and key is not None:
                self._session(Sealed(conn, key, node=True))

    def _handshake(self, conn: socket.socket) -> bytes | None:
        """Run the challenge-response against a total deadline; the session key if the client
        proved the cookie."""
        deadline = time.monotonic() + self.limits.handshake_timeout
        try:
            return auth.server_handshake(conn, self._cookie, deadline, self.limits.json_depth)
        except AuthError:
            log.warning("control channel: refused a client with a wrong cookie")
        except TimeoutError:
            log.warning(
                "control channel: closed a connection that did not log in within %gs",
                self.limits.handshake_timeout,
            )
        except (FrameError, OSError) as exc:
            log.warning("control channel: closed a connection during the handshake: %s", exc)
        return None

    def _session(self, sealed: Sealed) -> None:
        """Answer a logged-in client's requests until it leaves or stays silent too long."""
        conn = sealed.sock
        conn.settimeout(self.limits.idle_timeout)
        session = Session(self.node, self._started)
        while not self._closed.is_set():
            try:
                request = sealed.recv(depth=self.limits.json_depth)
                if request is None:
                    return
                reply = session.handle(request)
                try:
                    data = sealed.encode(reply.message)
                except FrameError as exc:
                    data = sealed.encode({"ok": False, "error": f"reply too large: {exc}"})
                conn.sendall(data)
            except TimeoutError:
                log.info(
                    "control channel: closed a connection idle for %gs", self.limits.idle_timeout
                )
                return
            except TamperedFrame as exc:
                log.warning("control channel: refused a request and closed its connection: %s", exc)
                with contextlib.suppress(OSError):
                    sealed.send({"ok": False, "error": f"the node refused a request: {exc}"})
                return
            except FrameError as exc:
                log.warning("control channel: closed a connection: %s", exc)
                return
            except OSError as exc:
                log.info("control channel: connection lost: %s", exc)
                return
            if reply.then is not None:
                reply.then()


def _listening(path: Path) -> socket.socket:
    """A Unix socket bound at `path` (0600), listening with the system's largest backlog
    (as servers of the field do: a full queue makes a connecting client wait), its accept
    waking every 0.5 s."""
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        listener.bind(address(path))
        os.chmod(path, 0o600)
        listener.listen(socket.SOMAXCONN)
        listener.settimeout(0.5)
    except BaseException:
        listener.close()
        raise
    return listener


def start(node: NodeLike) -> ControlServer:
    """Serve the control channel of a booted node until it shuts down."""
    tree = Tree(Path(node.root))
    config = tree.node_config(node.release)
    cookie = node_cookie(tree, node.release)
    server = ControlServer(node, tree, cookie, config.control)
    server.open()
    node.on_shutdown(server.close)
    generated = None if configured(tree, node.release) is not None else cookie
    reaper = Reaper(owned=lambda: owned_by_popen(collector.popens()))  # frozen ones too
    watch.start(
        watch.Watch(tree, server.ensure_socket, generated, config.log_max_bytes, reaper),
        server._closed,
    )
    return server
