"""Public: the application controller and app_env (the code is in host/application.py).

App code imports this module: its path and names stay the same across runtime versions, as a
node hands over to a newer runtime with the same app code.
"""

from .host.application import (
    AppInfo,
    Applications,
    AppSpec,
    app_env,
)

__all__ = [
    "AppInfo",
    "AppSpec",
    "Applications",
    "app_env",
]
