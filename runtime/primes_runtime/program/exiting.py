"""How a primes program ends once its work is done: at once, without the interpreter's teardown."""

from __future__ import annotations

import atexit
import os
import sys

TYPE_CHECKING = False  # not typing's: the CLI's lean path ends here and never imports it
if TYPE_CHECKING:
    from typing import NoReturn


def exit_now(status: int) -> NoReturn:
    """End the OS process with `status` as the interpreter's exit does, less its teardown.

    Non-daemon threads are waited for and atexit functions run, as at any exit, and stdout and
    stderr are flushed; what is skipped is tearing every module down one by one (~10-15 ms for
    a node or a command, which need none of it).
    """
    threading = sys.modules.get("threading")  # not imported: no thread was started with it
    if threading is not None:
        current = threading.current_thread()
        for thread in threading.enumerate():
            if thread is not current and not thread.daemon:
                thread.join()
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        try:  # noqa: SIM105  # not contextlib.suppress: the CLI's lean path does not load it
            stream.flush()
        except Exception:  # a closed or broken stream: nothing more to write there
            pass
    os._exit(status)
