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
    sock: socket.socket, factory: Callable[[], asyncio.Protocol], guard: Guard
) -> None:
    """Accept connections on `sock` for ever, each served by a protocol from `factory`."""
    loop = asyncio.get_running_loop()
    while True:
        try:
            conn, _ = await loop.sock_accept(sock)
        except OSError as exc:
            if exc.errno in SHORT:
                guard.short_of_fds(exc)
            elif exc.errno not in PASSING:
                guard.ratelog.warn("accept", f"asgi_host: accept failed: {exc}")
            else:
                continue
            await asyncio.sleep(RETRY_AFTER)
            continue
        try:
            await loop.connect_accepted_socket(factory, conn)
        except OSError:
            conn.close()
