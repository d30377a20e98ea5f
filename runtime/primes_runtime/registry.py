"""Public: the node's process table and names (the code is in kernel/registry.py).

App code imports this module: its path and names stay the same across runtime versions, as a
node hands over to a newer runtime with the same app code.
"""

from .kernel.registry import (
    ProcessTable,
    register,
    unregister,
    whereis,
)

__all__ = [
    "ProcessTable",
    "register",
    "unregister",
    "whereis",
]
