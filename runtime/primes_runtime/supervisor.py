"""Public: supervisors: specs, start, children (the code is in behaviours/supervisor.py).

App code imports this module: its path and names stay the same across runtime versions, as a
node hands over to a newer runtime with the same app code.
"""

from .behaviours.supervisor import (
    RESTARTS,
    STRATEGIES,
    ChildInfo,
    ChildSpec,
    Restart,
    Strategy,
    SupervisorProcess,
    SupSpec,
    start,
    start_child,
    terminate_child,
    upgrade_children,
    which_children,
)

__all__ = [
    "RESTARTS",
    "STRATEGIES",
    "ChildInfo",
    "ChildSpec",
    "Restart",
    "Strategy",
    "SupSpec",
    "SupervisorProcess",
    "start",
    "start_child",
    "terminate_child",
    "upgrade_children",
    "which_children",
]
