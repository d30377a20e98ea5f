"""`releases/start_data`: one line `<permanent vsn> <runtime dir>`, what `start` boots."""

from __future__ import annotations

from .errors import FormatError

PATH = "releases/start_data"


class StartData(tuple[str, str]):
    """The release `start` boots and the runtime dir (relative to the tree) it runs.

    A pair, not a dataclass or a typing.NamedTuple: the CLI's lean path (cli/fast.py) reads
    this file through this module, and importing dataclasses, or typing, would cost it a good
    part of an interpreter's start.
    """

    __slots__ = ()
    _fields = ("version", "runtime_dir")
    """As a NamedTuple's: dataclasses.asdict rebuilds a containing dataclass's pair by field."""

    def __new__(cls, version: str, runtime_dir: str) -> StartData:
        return super().__new__(cls, (version, runtime_dir))

    def __getnewargs__(self) -> tuple[str, str]:  # type: ignore[override]
        """copy and pickle rebuild it from its two fields."""
        return (self[0], self[1])

    @property
    def version(self) -> str:
        return self[0]

    @property
    def runtime_dir(self) -> str:
        return self[1]

    def __repr__(self) -> str:
        return f"StartData(version={self[0]!r}, runtime_dir={self[1]!r})"


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
