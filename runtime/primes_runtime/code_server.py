"""Public: the code server: the current module per name (the code is in loading/code_server.py).

App code imports this module: its path and names stay the same across runtime versions, as a
node hands over to a newer runtime with the same app code.
"""

from .loading.code_server import (
    PreparedModule,
    Undo,
    current,
    find_source,
    install,
    prepare,
    remove,
    switch_path,
)

__all__ = [
    "PreparedModule",
    "Undo",
    "current",
    "find_source",
    "install",
    "prepare",
    "remove",
    "switch_path",
]
