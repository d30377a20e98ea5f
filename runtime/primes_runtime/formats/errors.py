"""The format layer's one exception: what is wrong, in which file and on which line."""

from __future__ import annotations


class FormatError(Exception):
    """A file that does not follow docs/formats.md; str() is `file:line: message`."""

    def __init__(self, message: str, *, file: str, line: int | None = None) -> None:
        self.message = message
        self.file = file
        self.line = line
        where = file if line is None else f"{file}:{line}"
        super().__init__(f"{where}: {message}")
