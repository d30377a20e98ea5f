"""`rpc`'s arguments: each a Python literal in source form, as the CLI checks them before
sending and the node reads them (docs/operations.md, the commands table)."""

from __future__ import annotations

import ast
import re
import shlex


def parse(sources: list[str]) -> list[object]:
    """Each argument as a Python literal; ValueError naming the one that is not."""
    values: list[object] = []
    for source in sources:
        try:
            values.append(ast.literal_eval(source))
        except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
            raise ValueError(
                f"argument {source!r} is not a Python literal; "
                f"to pass it as a string, write {shell_word(repr(source))}"
            ) from None
    return values


def shell_word(text: str) -> str:
    """`text` quoted for a POSIX shell so that it arrives as one argument, exactly.

    Double quotes with `"`, `\\`, `$` and `` ` `` escaped read best; text with `!` (history
    expansion in interactive bash, even inside double quotes) is single-quoted instead.
    """
    if "!" in text:
        return shlex.quote(text)
    return '"' + re.sub(r'(["\\$`])', r"\\\1", text) + '"'
