"""The one digest every format uses: sha256 as 64 lowercase hex digits."""

from __future__ import annotations

import hashlib
import re

HEX64 = re.compile(r"^[0-9a-f]{64}$")


def sha256_hex(data: bytes) -> str:
    """The sha256 of `data`, as written in every file of docs/formats.md."""
    return hashlib.sha256(data).hexdigest()
