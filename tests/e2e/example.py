"""The ratelimiter example's wheelhouse and packages (tools/asgi_example.py), each made once
per pytest run, whichever xdist worker asks first (tests/runonce.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
from primes_runtime.loading.bytecode import compile_dirs

from tests.runonce import once
from tools.asgi_example import build, copy_example, deploy, fill_wheelhouse
from tools.handover_example import build_pair


def wheelhouse(factory: pytest.TempPathFactory) -> Path:
    """The locked wheels (uvicorn, starlette and theirs), downloaded once."""
    return once(factory, "wheelhouse", fill_wheelhouse)


def release_1(factory: pytest.TempPathFactory) -> Path:
    """ratelimiter_1.tar.gz, built with python -m build."""
    house = wheelhouse(factory)

    def make(top: Path) -> None:
        build(copy_example(top / "src" / "ratelimiter"), top / "dist", house)

    return once(factory, "ratelimiter-1", make) / "dist" / "ratelimiter_1.tar.gz"


def runtime_2(factory: pytest.TempPathFactory) -> Path:
    """ratelimiter_2.tar.gz: release 1's apps on primes-runtime 2 (an upgrade is a hand-over)."""
    house, one = wheelhouse(factory), release_1(factory)
    top = once(factory, "ratelimiter-2-runtime", lambda work: build_pair(work, house, one))
    return next((top / "dist-runtime-2").glob("ratelimiter_*.tar.gz"))


def warm_tree(factory: pytest.TempPathFactory) -> Path:
    """Release 1 unpacked with tar, its bytecode written as the node's first start writes it
    (primes_runtime's compile_dirs, this interpreter): what each test's tree is a copy of.
    A fresh tree's first start compiles in a child for about 0.5 s of CPU; the tests that
    copy it are about what comes after (the seed story and the fleet start fresh trees)."""
    package = release_1(factory)

    def make(top: Path) -> None:
        deploy(package, top / "ratelimiter")
        compile_dirs(sorted((top / "ratelimiter" / "lib").iterdir()))  # each code dir, marked

    return once(factory, "ratelimiter-1-tree", make) / "ratelimiter"
