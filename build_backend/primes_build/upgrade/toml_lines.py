"""Best-effort line numbers for keys of an app's upgrade declaration (tomllib gives none)."""

from __future__ import annotations

import re


def locate(
    text: str,
    vsn: str,
    direction: str | None = None,
    from_vsn: str | None = None,
    index: int | None = None,
) -> int | None:
    """The 1-based line of `upgrade."<vsn>"`[.direction["<from_vsn>"][index]], as close as found.

    Each step searches from the line the previous one found, so the usual layouts
    (a `[tool.primes.app.upgrade."2"]` section with `up_from."1" = [ {...}, ... ]` lines,
    or nested sub-tables) resolve exactly; anything else falls back to the nearest step.
    """
    lines = text.splitlines()
    v = re.escape(vsn)
    at = _find(
        lines, 0, rf'^\s*\[\s*tool\s*\.\s*primes\s*\.\s*app\s*\.\s*upgrade\s*\.\s*"?{v}"?\s*[\].]'
    )
    if at is None:
        at = _find(lines, 0, r"^\s*\[\s*tool\s*\.\s*primes\s*\.\s*app\s*\.\s*upgrade\b")
        at = _find(lines, at or 0, rf'"{v}"|\b{v}\s*[=.]')
    if at is None:
        return None
    for pattern in _steps(direction, from_vsn):
        found = _find(lines, at, pattern)
        if found is None:
            return at + 1
        at = found
    if index is not None:
        found = _nth_table(lines, at, index)
        if found is not None:
            at = found
    return at + 1


def _steps(direction: str | None, from_vsn: str | None) -> list[str]:
    steps = []
    if direction is not None:
        steps.append(rf"\b{re.escape(direction)}\b")
        if from_vsn is not None:
            f = re.escape(from_vsn)
            steps.append(rf'"{f}"\s*[=\]]|\.\s*{f}\s*[=\]]|^\s*{f}\s*=')
    return steps


def _find(lines: list[str], start: int, pattern: str) -> int | None:
    regex = re.compile(pattern)
    for i in range(start, len(lines)):
        if regex.search(_code(lines[i])):
            return i
    return None


def _nth_table(lines: list[str], start: int, index: int) -> int | None:
    """The line holding the index-th inline table of the array that starts on line `start`
    (tables nested inside an instruction, e.g. an `extra`, do not count)."""
    seen = 0
    depth = 0
    for i in range(start, len(lines)):
        code = _code(lines[i])
        if i == start:
            code = code.split("=", 1)[-1]
        quote = ""
        for ch in code:
            if quote:
                quote = "" if ch == quote else quote
            elif ch in "\"'":
                quote = ch
            elif ch == "{":
                if depth == 0:
                    if seen == index:
                        return i
                    seen += 1
                depth += 1
            elif ch == "}":
                depth = max(depth - 1, 0)
    return None


def _code(line: str) -> str:
    """The line without a trailing comment (a `#` outside a string)."""
    quote = ""
    for i, ch in enumerate(line):
        if quote:
            if ch == quote:
                quote = ""
        elif ch in "\"'":
            quote = ch
        elif ch == "#":
            return line[:i]
    return line
