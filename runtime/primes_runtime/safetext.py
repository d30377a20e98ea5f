"""Control characters made visible, so an untrusted string printed or logged cannot forge lines."""

from __future__ import annotations

import re
from collections.abc import Iterable

_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_CONTROL_BUT_NEWLINE = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u2028\u2029]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _shown(match: re.Match[str]) -> str:
    char = match.group()
    named = _NAMED.get(char)
    if named is not None:
        return named
    return f"\\x{ord(char):02x}" if ord(char) < 0x100 else f"\\u{ord(char):04x}"


def escape(text: str) -> str:
    """`text` on one line with every control character (C0, DEL, C1, line and paragraph
    separators) shown as an escape: `\\n`, `\\r`, `\\x1b`, `\\x00`."""
    return _CONTROL.sub(_shown, text)


def lines(parts: Iterable[str]) -> str:
    """Lines of text, each escaped, joined by newlines: only these newlines break lines."""
    return "\n".join(escape(part) for part in parts)


def record(text: str) -> str:
    """A log record's text: control characters escaped but its newlines, and every line past
    the first indented, so nothing in it can pass for a record of its own."""
    first, *rest = _CONTROL_BUT_NEWLINE.sub(_shown, text).split("\n")
    return "\n".join([first, *(line if line.startswith(" ") else "  " + line for line in rest)])
