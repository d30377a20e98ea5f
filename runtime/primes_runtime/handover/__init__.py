"""Hand-over: a node passes its sockets, process states and tree to a successor node.

An upgrade whose release changes the runtime (or the interpreter) cannot be applied in
place: the running node starts the new release as a second OS process, passes it the
listening sockets (file descriptors over a Unix socket), each process's state (through
``export_state``/``import_state`` next to ``code_change``), its control socket, pid file,
node lock and systemd's MAINPID, and exits once the successor serves. Apps reach it through
:func:`listen`, :func:`forget` and :func:`adopting` (listeners.py); the old node's side is
leader.py, the new one's successor.py.
"""

from __future__ import annotations

from .listeners import adopting, forget, listen

__all__ = ["adopting", "forget", "listen"]
