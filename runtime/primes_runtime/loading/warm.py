"""A warm child: an interpreter the node starts once, which imports the modules it will run
and then forks a worker for each request to run ``module.main(argv)`` with a descriptor the
node passes it. A request then pays for neither an interpreter start nor those imports
(~50 ms of every unpack: the `upgrade` command's largest part after the node's own work).

The warm child is single-threaded, so its forks are safe. The node talks to it over a Unix
socket pair: a request is one framed JSON object and the descriptor (SCM_RIGHTS); the reply
is the worker's pid, then its exit status and what it printed. If the warm child is gone,
`run` says so (None) before anything started, and the caller starts a fresh child itself.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import os
import selectors
import signal
import socket
import subprocess
import sys
import threading
import time
import traceback
from collections.abc import Sequence
from typing import Any, NamedTuple

from . import child

NICENESS = 10
"""How much the warm child (and every worker it forks) lowers its CPU priority."""

_HEADER = 4
_QUICK = 30.0
"""Seconds the warm child may take to say it is ready, or to fork a worker (or reap one)."""
_MAX_MESSAGE = 1 << 26
"""A reply carries what the worker printed (an unpack's hashes: tens of kB)."""


class Finished(NamedTuple):
    """What a worker did: its exit status (negative: the signal that ended it), its output,
    and whether it ran out of time (then it was killed)."""

    returncode: int
    stdout: str
    stderr: str
    timed_out: bool = False


class WarmChild:
    """The node's handle on its warm child (one request at a time)."""

    def __init__(self, proc: subprocess.Popen[bytes], sock: socket.socket) -> None:
        self._proc = proc
        self._sock: socket.socket | None = sock
        self._lock = threading.Lock()
        self._ready = False  # it says so once its imports are done

    @classmethod
    def start(cls, modules: Sequence[str]) -> WarmChild | None:
        """Start a warm child that imports `modules` (runtime modules with a ``main``);
        None if it cannot be started (the caller's requests then start fresh children)."""
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            argv = child.command(__name__, str(theirs.fileno()), *modules)
            argv.insert(1, "-B")  # it may outlive a killed node a moment: it writes no .pyc
            proc = subprocess.Popen(
                argv,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                pass_fds=(theirs.fileno(),),
            )
        except (OSError, subprocess.SubprocessError):
            ours.close()
            return None
        finally:
            theirs.close()
        return cls(proc, ours)

    @property
    def pid(self) -> int:
        """The warm child's process id."""
        return self._proc.pid

    def run(
        self, module: str, args: Sequence[str], fd_arg: int, fd: int, timeout: float
    ) -> Finished | None:
        """Run ``module.main(args)`` in a fresh worker, ``args[fd_arg]`` replaced by the
        worker's number for descriptor `fd`; kill it after `timeout` seconds. None when the
        warm child is gone before the request reached it (nothing ran: start a fresh child)."""
        with self._lock:
            sock = self._sock
            if sock is None:
                return None
            request = {"module": module, "args": list(args), "fd_arg": fd_arg}
            try:
                sock.settimeout(_QUICK)
                if not self._ready:  # (its imports failed: it is gone, nothing was sent)
                    self._ready = _receive(sock)[0].get("ready") is True
                deadline = time.monotonic() + timeout
                _send(sock, request, fd)
            except (OSError, EOFError, ValueError):
                self._gone()
                return None
            pid = 0
            try:
                pid = int(_receive(sock)[0]["pid"])
                sock.settimeout(max(deadline - time.monotonic(), 0.0001))
                try:
                    reply = _receive(sock)[0]
                except TimeoutError:
                    if pid > 1:
                        os.kill(pid, signal.SIGKILL)  # its parent, the warm child, reaps it
                    sock.settimeout(_QUICK)
                    reply = _receive(sock)[0]
                    return Finished(int(reply["returncode"]), "", "", timed_out=True)
                return Finished(int(reply["returncode"]), reply["stdout"], reply["stderr"])
            except (OSError, EOFError, ValueError, KeyError, TypeError) as exc:
                if pid > 1:
                    with contextlib.suppress(OSError):
                        os.kill(pid, signal.SIGKILL)
                self._gone()
                return Finished(1, "", f"the warm child failed ({type(exc).__name__}: {exc})")

    def close(self, timeout: float = 2.0) -> None:
        """End the warm child (it exits when its socket closes) and reap it."""
        with self._lock:
            self._gone()
        try:
            self._proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait()

    def _gone(self) -> None:
        if self._sock is not None:
            self._sock.close()
            self._sock = None


def _send(sock: socket.socket, message: dict[str, object], fd: int | None = None) -> None:
    data = json.dumps(message).encode()
    frame = len(data).to_bytes(_HEADER, "big") + data
    sent = socket.send_fds(sock, [frame], [fd]) if fd is not None else sock.send(frame)
    if sent < len(frame):
        sock.sendall(frame[sent:])


def _receive(sock: socket.socket) -> tuple[dict[str, Any], list[int]]:
    """One framed message and the descriptors that came with it; EOFError at the end."""
    data, fds, _, _ = socket.recv_fds(sock, 1 << 16, 1)
    if not data:
        raise EOFError("the other end closed")
    while len(data) < _HEADER:
        more = sock.recv(_HEADER - len(data))
        if not more:
            raise EOFError("a message was cut short")
        data += more
    size = int.from_bytes(data[:_HEADER], "big")
    if size > _MAX_MESSAGE:
        raise ValueError(f"a message of {size} bytes")
    body = bytearray(data[_HEADER:])
    while len(body) < size:
        more = sock.recv(min(1 << 16, size - len(body)))
        if not more:
            raise EOFError("a message was cut short")
        body += more
    message = json.loads(bytes(body))
    if not isinstance(message, dict):
        raise ValueError("a message that is not an object")
    return message, list(fds)


def main(argv: list[str]) -> int:
    """The warm child: argv is its socket's descriptor, then the modules to import."""
    sock = socket.socket(fileno=int(argv[0]))
    with contextlib.suppress(OSError):
        os.nice(NICENESS)  # the node's serving threads go first when the cores are busy
    # (-B: it writes nothing into the tree; a worker's own compile writes what it stages)
    for name in argv[1:]:
        importlib.import_module(name)
    _send(sock, {"ready": True})
    while True:
        try:
            request, fds = _receive(sock)
        except (EOFError, OSError):
            return 0  # the node closed its end, or is gone
        if len(fds) != 1:
            for fd in fds:
                os.close(fd)
            return 2
        _serve(sock, request, fds[0])


def _serve(sock: socket.socket, request: dict[str, Any], fd: int) -> None:
    """Fork a worker for `request`; tell the node its pid, then how it ended."""
    out_r, out_w = os.pipe()
    err_r, err_w = os.pipe()
    pid = os.fork()
    if pid == 0:  # the worker
        try:
            os.dup2(out_w, 1)
            os.dup2(err_w, 2)
            for unused in (out_r, out_w, err_r, err_w, sock.fileno()):
                os.close(unused)
            args = [str(a) for a in request["args"]]
            args[int(request["fd_arg"])] = str(fd)
            status = importlib.import_module(str(request["module"])).main(args)
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(status)
        except BaseException:
            traceback.print_exc()
            sys.stderr.flush()
            os._exit(1)
    os.close(out_w)
    os.close(err_w)
    os.close(fd)
    _send(sock, {"pid": pid})
    out, err = _drain(out_r, err_r)
    _, status = os.waitpid(pid, 0)
    code = os.waitstatus_to_exitcode(status)
    _send(sock, {"returncode": code, "stdout": out, "stderr": err})


def _drain(*fds: int) -> tuple[str, str]:
    """Read the worker's stdout and stderr pipes until both end."""
    chunks: dict[int, list[bytes]] = {fd: [] for fd in fds}
    with selectors.DefaultSelector() as selector:
        for fd in fds:
            selector.register(fd, selectors.EVENT_READ)
        open_fds = len(fds)
        while open_fds:
            for key, _ in selector.select():
                data = os.read(key.fd, 1 << 16)
                if data:
                    chunks[key.fd].append(data)
                else:
                    selector.unregister(key.fd)
                    os.close(key.fd)
                    open_fds -= 1
    out, err = (b"".join(chunks[fd]).decode(errors="replace") for fd in fds)
    return out, err
