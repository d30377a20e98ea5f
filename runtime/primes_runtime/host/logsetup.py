"""Node logging: everything logged in the node goes to log/node.log, rotated by size."""

from __future__ import annotations

import logging
import os
from pathlib import Path

from .. import safetext
from ..errors import ConfigError
from .loghandler import NodeLogHandler

FORMAT = "%(asctime)s %(levelname)s %(name)s [%(threadName)s] %(message)s"


class Formatter(logging.Formatter):
    """FORMAT, with control characters escaped: a record cannot forge another or drive a
    terminal (safetext.record)."""

    def format(self, record: logging.LogRecord) -> str:
        return safetext.record(super().format(record))


def private_file(path: Path) -> None:
    """Create `path` if needed and make it readable by its owner only (0600), whatever the umask."""
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600))
    os.chmod(path, 0o600)


def setup(root: Path, max_bytes: int, backups: int) -> logging.Handler:
    """Attach a rotating handler for root/log/node.log to the root logger; return it."""
    directory = Path(root) / "log"
    path = directory / "node.log"
    try:
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        private_file(path)
        handler = NodeLogHandler(path, max_bytes, backups)
    except OSError as exc:
        raise ConfigError(
            f"cannot write {path}: {exc.strerror}; make {directory} writable by the node's user"
        ) from None
    handler.setFormatter(Formatter(FORMAT))
    top = logging.getLogger()
    top.addHandler(handler)
    if top.level == logging.NOTSET or top.level > logging.INFO:
        top.setLevel(logging.INFO)
    return handler


def teardown(handler: logging.Handler) -> None:
    """Detach and close a handler made by :func:`setup`."""
    logging.getLogger().removeHandler(handler)
    handler.close()
