"""`releases/start_data`: one line `<permanent vsn> <runtime dir>`, what `start` boots."""

from __future__ import annotations

from .errors import FormatError

PATH = "releases/start_data"


TYPE_CHECKING = False  # not typing's: the CLI's lean path (cli/fast.py) reads this module
if TYPE_CHECKING:
    from typing import NamedTuple

    class _Pair(NamedTuple):
        version: str
        runtime_dir: str

else:
    from collections import namedtuple

    _Pair = namedtuple("_Pair", ("version", "runtime_dir"))


class StartData(_Pair):
    """The release `start` boots and the runtime dir (relative to the tree) it runs.

    A named tuple made by collections.namedtuple (typing.NamedTuple for mypy), not a
    dataclass: the CLI's lean path (cli/fast.py) reads this file through this module, and
    importing dataclasses, or typing, would cost it a good part of an interpreter's start.
    """

    __slots__ = ()


def render(data: StartData) -> str:
    """`<vsn> <runtime dir>` and a newline."""
    check(data, PATH)
    return f"{data.version} {data.runtime_dir}\n"


def parse(text: str, where: str = PATH) -> StartData:
    """The one line of a start_data text; a FormatError says what is wrong."""
    lines = [line for line in text.splitlines() if line.strip()]
    fields = lines[0].split() if len(lines) == 1 else []
    if len(fields) != 2:
        raise FormatError("expected one line '<vsn> <runtime dir>'; restore it", file=where)
    data = StartData(fields[0], fields[1])
    check(data, where)
    return data


def check(data: StartData, where: str = PATH) -> None:
    """The runtime dir is a relative path inside the tree's lib/."""
    parts = data.runtime_dir.split("/")
    if not data.version or any(c.isspace() for c in data.version + data.runtime_dir):
        raise FormatError("the version and the runtime dir are one word each", file=where)
    if parts[0] != "lib" or len(parts) != 2 or parts[1] in ("", ".", ".."):
        raise FormatError(
            f"runtime dir {data.runtime_dir!r} is not lib/<runtime>-<vsn>; restore it", file=where
        )
