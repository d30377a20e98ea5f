"""Release handler tests: a per-test module name and a clean import state afterwards."""

from __future__ import annotations

import contextlib
import itertools
import sys
from collections.abc import Iterator

import primes_runtime
import pytest
from primes_runtime import application, registry

_ids = itertools.count(1)


@pytest.fixture
def mod() -> Iterator[str]:
    """A callback module name no other test uses (modules are cached process-wide)."""
    name = f"rh_counter_{next(_ids)}"
    path_before = list(sys.path)
    apps_before = {info.name for info in application.running()}
    app_config = (application._root, application._overrides)
    procs_before = {p.pid for p in registry.all_processes()}
    yield name
    for info in application.running():
        if info.name not in apps_before:
            with contextlib.suppress(primes_runtime.PrimesError):
                application.stop_app(info.name, timeout=2.0)
    application._root, application._overrides = app_config
    for proc in registry.all_processes():
        if proc.pid not in procs_before:
            with contextlib.suppress(primes_runtime.PrimesError):
                primes_runtime.stop(proc.pid, timeout=2.0)
    sys.path[:] = path_before
    for loaded in [m for m in sys.modules if m == name or m.startswith(name + "_")]:
        del sys.modules[loaded]
