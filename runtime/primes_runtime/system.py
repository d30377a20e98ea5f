"""Public: OTP's sys: suspend, snapshot, code_change, resume (the code is in kernel/system.py).

App code imports this module: its path and names stay the same across runtime versions, as a
node hands over to a newer runtime with the same app code.
"""

from .kernel.system import (
    ProcessSnapshot,
    change_code,
    restore,
    resume,
    snapshot,
    suspend,
)

__all__ = [
    "ProcessSnapshot",
    "change_code",
    "restore",
    "resume",
    "snapshot",
    "suspend",
]
