"""Public: the node and process the calling code runs in (the code is in kernel/context.py).

App code imports this module: its path and names stay the same across runtime versions, as a
node hands over to a newer runtime with the same app code.
"""

from .kernel.context import (
    app_context,
    clear_default,
    current_app,
    current_node,
    current_process,
    default_node,
    enter,
    entered,
    find_node,
    running_as,
    set_default,
    swap_process,
    task_process,
)

__all__ = [
    "app_context",
    "clear_default",
    "current_app",
    "current_node",
    "current_process",
    "default_node",
    "enter",
    "entered",
    "find_node",
    "running_as",
    "set_default",
    "swap_process",
    "task_process",
]
