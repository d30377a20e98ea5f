"""The start command's readiness pipe: the node writes one line once it serves, `start` waits.

`bin/<name> start` passes the write end of a pipe to the node (``--ready-fd N``). The node
writes READY once its apps run and its control socket listens, then closes it; the pipe also
reads as closed the moment the node exits. So `start` sleeps until something happened instead
of polling the socket, and a node that dies during boot is noticed at once.
"""

from __future__ import annotations

import contextlib
import os
import select

READY = b"READY\n"


def announce(fd: int) -> bool:
    """Tell the waiting `start` that the node serves, and close the pipe; False if it cannot."""
    try:
        os.write(fd, READY)
    except OSError:
        return False  # `start` gave up waiting (closed its end), or no pipe at all
    finally:
        with contextlib.suppress(OSError):
            os.close(fd)
    return True


def keep_private(fd: int) -> None:
    """Keep the pipe from reaching programs the node's apps run (close-on-exec)."""
    with contextlib.suppress(OSError):  # not open: announce() fails quietly too
        os.set_inheritable(fd, False)


def wait(fd: int, timeout: float) -> bool | None:
    """Wait up to `timeout` s on the read end: True once READY came, False once the pipe
    closed (or held anything else) without it, None if nothing happened yet."""
    readable, _, _ = select.select([fd], [], [], max(timeout, 0.0))
    if not readable:
        return None
    data = os.read(fd, len(READY))
    return data == READY
