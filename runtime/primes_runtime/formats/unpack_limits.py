"""node.toml's [unpack] limits, apart from the TOML parser: the unpack child imports only them."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class UnpackLimits:
    """What a release package may hold (node.toml [unpack])."""

    max_member_bytes: int = 256 * 1024 * 1024
    """The largest single file in a package."""
    max_total_bytes: int = 1024 * 1024 * 1024
    """All files of a package together, unpacked."""
    max_members: int = 20_000
    """Files and directories in a package."""
    max_ratio: int = 200
    """Unpacked bytes per compressed byte (checked once past 1 MiB unpacked)."""
    memory_bytes: int = 512 * 1024 * 1024
    """Address space of the child process that unpacks and verifies a package."""
    timeout: float = 600.0
    """Seconds that child may take."""
