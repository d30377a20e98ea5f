"""remote_console: a Python prompt on this terminal whose inputs run inside the node."""

from __future__ import annotations

import code
import sys

from primes_runtime.cli.invocation import Invocation
from primes_runtime.control.client import Client, RemoteError


class RemoteConsole(code.InteractiveConsole):
    """A Python prompt whose complete inputs run inside the node (one namespace per session)."""

    def __init__(self, conn: Client) -> None:
        super().__init__(filename="<remote_console>")
        self.conn = conn

    def runsource(self, source: str, filename: str = "<input>", symbol: str = "single") -> bool:
        try:
            if self.compile(source, filename, symbol) is None:
                return True  # incomplete: ask for more lines
        except (OverflowError, SyntaxError, ValueError):
            self.showsyntaxerror(filename)
            return False
        try:
            answer = self.conn.request("console", source=source)
        except RemoteError as exc:
            self.write(exc.out + f"{exc}\n")
        else:
            sys.stdout.write(answer.out)
            sys.stdout.flush()
        return False


def cmd_remote_console(inv: Invocation) -> int:
    with inv.client() as conn:
        conn.settimeout(None)
        conn.request("ping")
        banner = (
            f"{inv.name}: remote console on the running node ({inv.tree.root}).\n"
            "Code runs inside the node; Ctrl-D leaves the console, the node keeps running."
        )
        RemoteConsole(conn).interact(banner=banner, exitmsg="")
    return 0
