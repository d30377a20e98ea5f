"""The node's protective limits: node.toml [control] and [unpack], every key with a default."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

from .errors import ConfigError


@dataclass(frozen=True)
class ControlLimits:
    """What the control channel allows a connection (node.toml [control])."""

    handshake_timeout: float = 10.0
    """Seconds, in total, a new connection has to prove the cookie."""
    max_pending: int = 32
    """Connections not yet logged in; past it the oldest such connection is closed."""
    idle_timeout: float = 3600.0
    """Seconds a logged-in connection may stay silent before the node closes it."""
    json_depth: int = 64
    """How deeply arrays and objects may nest in one frame."""
    reserved_fds: int = 64
    """File descriptors kept free for the node's own work: past it new connections are closed."""


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


def parse_table(cls: type[Any], table: object, section: str, where: str) -> Any:
    """An instance of the limits dataclass `cls` from a TOML table; errors name file and key."""
    if not isinstance(table, Mapping):
        raise ConfigError(f"{where}: [{section}] must be a table")
    known = {f.name: f for f in fields(cls)}
    values: dict[str, Any] = {}
    for key, value in table.items():
        spec = known.get(key)
        if spec is None:
            names = ", ".join(sorted(known))
            raise ConfigError(f"{where}: unknown key {section}.{key} (known: {names})")
        wants_float = isinstance(spec.default, float)
        number = _positive(value, wants_float)
        if number is None:
            kind = "number" if wants_float else "integer"
            raise ConfigError(f"{where}: key {section}.{key} must be a positive {kind} ({value!r})")
        values[key] = number
    return cls(**values)


def _positive(value: object, wants_float: bool) -> int | float | None:
    """`value` as the setting's type if it is a positive number of that kind, else None."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    if isinstance(value, float) and not wants_float:
        return None
    if not value > 0:
        return None
    return float(value) if wants_float else value
