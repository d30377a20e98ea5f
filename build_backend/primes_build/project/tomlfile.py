"""Read a TOML file, turning syntax errors into one line and finding the line of a key path."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from primes_build.errors import BuildError

_AT_LINE = re.compile(r"\(at line (\d+), column \d+\)")
_HEADER = re.compile(r"^\s*\[\[?\s*([^\]]+?)\s*\]\]?\s*(#.*)?$")
_KEY = re.compile(
    r"^\s*((?:[A-Za-z0-9_-]+|\"[^\"]*\"|'[^']*')(?:\s*\.\s*(?:[A-Za-z0-9_-]+|\"[^\"]*\"|'[^']*'))*)\s*="
)


@dataclass(frozen=True)
class TomlFile:
    """A parsed TOML file: its path (as shown to the user), text and data."""

    path: Path
    shown: str
    text: str
    data: dict[str, Any]

    def line_of(self, key: str) -> int | None:
        """The line (1-based) that defines `key` (a dotted path), or its closest parent."""
        return line_of(self.text, key)

    def error(self, key: str, message: str) -> BuildError:
        """A BuildError naming this file, the key path and its line."""
        return BuildError(message, file=self.shown, key=key, line=self.line_of(key))


def load(path: Path, shown: str | None = None) -> TomlFile:
    """Parse `path`; a missing file or a syntax error is a BuildError with the line."""
    shown = shown if shown is not None else str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise BuildError("file not found", file=shown) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise BuildError(f"cannot read it: {exc}", file=shown) from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        message = str(exc)
        found = _AT_LINE.search(message)
        line = int(found.group(1)) if found else None
        what = _AT_LINE.sub("", message).strip()
        raise BuildError(
            f"TOML syntax error: {what}; fix the TOML", file=shown, line=line
        ) from None
    return TomlFile(path=path, shown=shown, text=text, data=data)


def _split(dotted: str) -> list[str]:
    parts = re.findall(r"\"[^\"]*\"|'[^']*'|[^.\s]+", dotted)
    return [p[1:-1] if p[:1] in "\"'" else p for p in parts]


def line_of(text: str, key: str) -> int | None:
    """The 1-based line defining `key` (or its longest defined prefix) in TOML `text`."""
    want = _split(key)
    table: list[str] = []
    best: tuple[int, int] | None = None  # (matched parts, line)
    for number, line in enumerate(text.splitlines(), start=1):
        header = _HEADER.match(line)
        if header and "=" not in line.split("]")[0]:
            table = _split(header.group(1))
            path = table
        else:
            found = _KEY.match(line)
            if not found:
                continue
            path = table + _split(found.group(1))
        if path == want[: len(path)] and (best is None or len(path) > best[0]):
            best = (len(path), number)
    return best[1] if best else None
