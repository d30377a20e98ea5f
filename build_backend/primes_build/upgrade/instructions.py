"""High-level upgrade instructions (OTP's appup forms), declared by an app or derived."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

DEFAULT_TIMEOUT = 5.0


@dataclass(frozen=True)
class Update:
    """Suspend the processes running `module`, load it, call `code_change` with `extra`, resume."""

    module: str
    extra: object = None
    timeout: float = DEFAULT_TIMEOUT


@dataclass(frozen=True)
class LoadModule:
    """Load the new code of `module`; processes pick it up at their next message."""

    module: str


@dataclass(frozen=True)
class AddModule:
    """Load `module`, which the earlier version does not have."""

    module: str


@dataclass(frozen=True)
class DeleteModule:
    """Drop `module`, which the later version does not have."""

    module: str


@dataclass(frozen=True)
class AddApplication:
    """Start `app`, new in the target release."""

    app: str


@dataclass(frozen=True)
class RemoveApplication:
    """Stop and drop `app`, gone from the target release."""

    app: str


@dataclass(frozen=True)
class RestartApplication:
    """Stop `app` on its old code and start it on its new code (its processes' state is lost)."""

    app: str


@dataclass(frozen=True)
class Apply:
    """Call `module.function(*args)`."""

    module: str
    function: str
    args: tuple[object, ...] = ()


HighLevel = (
    Update
    | LoadModule
    | AddModule
    | DeleteModule
    | AddApplication
    | RemoveApplication
    | RestartApplication
    | Apply
)

MODULE_KINDS = (Update, LoadModule, AddModule, DeleteModule)


WIDTH = 100
"""Build output lines listing instructions are wrapped at this many characters."""


def listed(head: str, instrs: Sequence[HighLevel], close: str = "") -> str:
    """`head` then the instructions described, comma-separated (`nothing` for none), wrapped
    at WIDTH between two instructions, continuation lines indented under the head: one
    entry of the build output."""
    import textwrap

    items = [describe(i).replace(" ", "\0") for i in instrs] or ["nothing"]
    indent = " " * (len(head) - len(head.lstrip()) + 4)
    lines = textwrap.wrap(
        f"{head}{', '.join(items)}{close}", width=WIDTH, subsequent_indent=indent,
        break_long_words=False, break_on_hyphens=False,
    )  # fmt: skip
    return "\n".join(line.replace("\0", " ") for line in lines)


def describe(instr: HighLevel) -> str:
    """One short human phrase for build output, e.g. `update prime_miner.miner extra 'from1to2'`."""
    match instr:
        case Update(module=module, extra=extra, timeout=timeout):
            text = f"update {module}"
            if extra is not None:
                text += f" extra {extra!r}"
            if timeout != DEFAULT_TIMEOUT:
                text += f" timeout {timeout:g}"
            return text
        case LoadModule(module=module):
            return f"load_module {module}"
        case AddModule(module=module):
            return f"add_module {module}"
        case DeleteModule(module=module):
            return f"delete_module {module}"
        case AddApplication(app=app):
            return f"add_application {app}"
        case RemoveApplication(app=app):
            return f"remove_application {app}"
        case RestartApplication(app=app):
            return f"restart_application {app}"
        case Apply(module=module, function=function, args=args):
            return f"apply {module}:{function}({', '.join(repr(a) for a in args)})"
