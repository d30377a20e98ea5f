"""The listener's accept loop: one connection at a time, each counted by the guard first.

asyncio's own accept loop takes every queued connection at once (up to the backlog) before
any protocol sees one, so a flood spends the process's last descriptors; this one accepts
a connection only after the previous one was counted, so the guard's cap holds.
"""

from __future__ import annotations

import asyncio
import errno
import socket
from collections.abc import Callable

from asgi_host.guard import Guard

SHORT = {errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM}
PASSING = {errno.ECONNABORTED, errno.EPROTO, errno.EINTR, errno.EAGAIN}
RETRY_AFTER = 0.1  # seconds to wait when accept() fails for want of a descriptor, or oddly


async def accept_loop(
    sock: socket.socket,
    factory: Callable[[], asyncio.Protocol],
    guard: Guard,
    adopting: set[asyncio.Task[None]] | None = None,
) -> None:
    """Accept connections on `sock` for ever, each served by a protocol from `factory`.

    Cancelling it never loses a connection: it is cancelled only while it waits for one, and
    a connection once accepted is handed to its protocol whatever happens to this task (in
    `adopting` until its protocol has it, so that a pause can wait for that).
    """
    pending: set[asyncio.Task[None]] = adopting if adopting is not None else set()
    loop = asyncio.get_running_loop()
    while True:
        await readable(loop, sock)
        try:
            conn, _ = sock.accept()
        except BlockingIOError:
            continue  # another process sharing the socket took it (a hand-over)
        except OSError as exc:
            if exc.errno in SHORT:
                guard.short_of_fds(exc)
            elif exc.errno not in PASSING:
                guard.ratelog.warn("accept", f"asgi_host: accept failed: {exc}")
            else:
                continue
            await asyncio.sleep(RETRY_AFTER)
            continue
        task = loop.create_task(adopt(loop, factory, conn))
        pending.add(task)
        task.add_done_callback(pending.discard)
        await asyncio.shield(task)


async def adopt(
    loop: asyncio.AbstractEventLoop, factory: Callable[[], asyncio.Protocol], conn: socket.socket
) -> None:
    """Serve an accepted (or handed-over) connection with a protocol from `factory`."""
    conn.setblocking(False)
    try:
        await loop.connect_accepted_socket(factory, conn)
    except OSError:
        conn.close()


async def readable(loop: asyncio.AbstractEventLoop, sock: socket.socket) -> None:
    """Return once `sock` has a connection waiting (or an error to report)."""
    waiter = loop.create_future()

    def ready() -> None:
        if not waiter.done():
            waiter.set_result(None)

    loop.add_reader(sock.fileno(), ready)
    try:
        await waiter
    finally:
        loop.remove_reader(sock.fileno())
