"""The build backend's exception root: one line a person can act on."""

from __future__ import annotations

from pathlib import Path


class BuildError(Exception):
    """A build refused for a reason the user can fix; str() is the one line to print."""

    def __init__(
        self,
        message: str,
        *,
        file: Path | str | None = None,
        key: str | None = None,
        line: int | None = None,
    ) -> None:
        self.message = message
        self.file = str(file) if file is not None else None
        self.key = key
        self.line = line
        super().__init__(self.render())

    def render(self) -> str:
        """`file:line: key: message` with the parts that are known."""
        where = ""
        if self.file is not None:
            where = self.file + (f":{self.line}" if self.line is not None else "") + ": "
        key = f"`{self.key}`: " if self.key else ""
        return f"{where}{key}{self.message}"
