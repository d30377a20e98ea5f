"""node.toml's path, and whether a node.toml may set a cookie, without the TOML parser.

`ping`'s lean path (cli/fast.py) asks only this of node.toml; importing tomllib and
node_toml's dataclasses would cost it about half an interpreter's start.
"""

from __future__ import annotations

NAME = "node.toml"


def path_for(version: str) -> str:
    """Where a release's node config is, relative to the tree root."""
    return f"releases/{version}/{NAME}"


def may_set_cookie(text: str) -> bool:
    """False only when node.toml's text certainly sets no cookie, whatever else it holds.

    A key is written out on one line (TOML has no line continuation outside strings), so a
    cookie key, bare, quoted or dotted, puts `cookie` on a line; a backslash (an escaped key)
    counts as one. Comment lines are skipped unless the text has a multi-line string: then a
    line that starts with `#` may be a string's end followed by more of an inline table.
    """
    if "\\" in text:
        return True
    lines = text.split("\n")
    if '"""' not in text and "'''" not in text:
        lines = [line for line in lines if not line.lstrip(" \t").startswith("#")]
    return any("cookie" in line.lower() for line in lines)
