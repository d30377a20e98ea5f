"""Node logging: everything logged in the node goes to log/node.log, rotated by size."""

from __future__ import annotations

import logging
import logging.handlers
from pathlib import Path

FORMAT = "%(asctime)s %(levelname)s %(name)s [%(threadName)s] %(message)s"


def setup(root: Path, max_bytes: int, backups: int) -> logging.Handler:
    """Attach a rotating handler for root/log/node.log to the root logger; return it."""
    directory = Path(root) / "log"
    directory.mkdir(parents=True, exist_ok=True)
    handler = logging.handlers.RotatingFileHandler(
        directory / "node.log", maxBytes=max_bytes, backupCount=backups, encoding="utf-8"
    )
    handler.setFormatter(logging.Formatter(FORMAT))
    top = logging.getLogger()
    top.addHandler(handler)
    if top.level == logging.NOTSET or top.level > logging.INFO:
        top.setLevel(logging.INFO)
    return handler


def teardown(handler: logging.Handler) -> None:
    """Detach and close a handler made by :func:`setup`."""
    logging.getLogger().removeHandler(handler)
    handler.close()
