"""Low-level upgrade instructions: the lines of a .relup script (docs/formats.md)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Mode = Literal["up", "down"]


@dataclass(frozen=True)
class LoadObjectCode:
    """Read, check and prepare `modules` from the app's new code dir `path`; changes nothing yet."""

    app: str
    from_vsn: str
    to_vsn: str
    path: str
    modules: tuple[str, ...]


@dataclass(frozen=True)
class PointOfNoReturn:
    """Before it a failure is a clean refusal; after it a failure rolls back in-process."""


@dataclass(frozen=True)
class Suspend:
    """Suspend every process whose callback module is one of `modules`."""

    modules: tuple[str, ...]
    timeout: float


@dataclass(frozen=True)
class SwitchAppPath:
    """The app's code dir on sys.path becomes `to_path`; its version and env the target's."""

    app: str
    from_vsn: str
    to_vsn: str
    from_path: str
    to_path: str


@dataclass(frozen=True)
class Load:
    """The prepared `module` becomes current."""

    module: str


@dataclass(frozen=True)
class CodeChange:
    """Call `code_change` of each suspended process on `modules` (old_vsn: "1" or ("down", "1"))."""

    modules: tuple[str, ...]
    mode: Mode
    old_vsn: str | tuple[str, str]
    extra: object
    timeout: float


@dataclass(frozen=True)
class Resume:
    """Resume the processes suspended for `modules`."""

    modules: tuple[str, ...]


@dataclass(frozen=True)
class Remove:
    """Drop `module` from sys.modules."""

    module: str


@dataclass(frozen=True)
class StartApp:
    """Start the application `app` (it is in the target release's manifest)."""

    app: str


@dataclass(frozen=True)
class StopApp:
    """Stop the application `app`."""

    app: str


@dataclass(frozen=True)
class Apply:
    """Call `module.function(*args)`."""

    module: str
    function: str
    args: tuple[object, ...]


Instruction = (
    LoadObjectCode
    | PointOfNoReturn
    | Suspend
    | SwitchAppPath
    | Load
    | CodeChange
    | Resume
    | Remove
    | StartApp
    | StopApp
    | Apply
)
