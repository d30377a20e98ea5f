"""The release operations' table: each name reaches its own handler function, nothing else."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from primes_runtime.cli import app, remote
from primes_runtime.control import operations
from primes_runtime.release import handler
from primes_runtime.release.errors import ReleaseError
from primes_runtime.service import ops

from .fakenode import FakeNode

HANDLER_FUNCTIONS = (
    "check_target",
    "unpack",
    "install",
    "make_permanent",
    "upgrade",
    "downgrade",
    "uninstall",
)


@pytest.fixture
def session(tree: Path) -> Iterator[ops.Session]:
    fake = FakeNode(tree)
    try:
        yield ops.Session(fake, started=0.0)
    finally:
        fake.shutdown(1.0)


@pytest.fixture
def called(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every release-handler function, replaced by one that records its name and fails."""
    names: list[str] = []
    for name in HANDLER_FUNCTIONS:

        def record(*args: object, _name: str = name) -> None:
            names.append(_name)
            raise ReleaseError(f"{_name} called")

        monkeypatch.setattr(handler, name, record)
    return names


@pytest.mark.parametrize(
    ("op", "key", "function"),
    [
        ("check", "target", "check_target"),
        ("unpack", "package", "unpack"),
        ("install", "version", "install"),
        ("permanent", "version", "make_permanent"),
        ("upgrade", "target", "upgrade"),
        ("downgrade", "version", "downgrade"),
        ("uninstall", "version", "uninstall"),
    ],
)
def test_each_release_operation_calls_only_its_own_handler_function(
    session: ops.Session, called: list[str], op: str, key: str, function: str
) -> None:
    reply = session.handle({"op": op, "args": {key: "9"}})
    assert reply.message == {"ok": False, "error": f"{function} called", "out": ""}
    assert called == [function]


def test_a_release_operation_the_table_does_not_name_is_refused_and_nothing_runs(
    session: ops.Session, called: list[str]
) -> None:
    reply = session.handle({"op": "reinstall", "args": {"version": "9"}})
    assert reply.message == {"ok": False, "error": "unknown operation 'reinstall'", "out": ""}
    assert called == []


def test_a_release_operation_without_its_target_argument_is_refused_before_it_acts(
    session: ops.Session, called: list[str]
) -> None:
    reply = session.handle({"op": "uninstall", "args": {"target": "9"}})
    assert reply.message["ok"] is False
    assert "argument 'version' must be a non-empty string" in str(reply.message["error"])
    assert called == []


def test_every_release_operation_is_served_under_its_own_name_by_its_own_function() -> None:
    names = {op.name for op in operations.RELEASE_OPERATIONS}
    assert names == {
        "check",
        "unpack",
        "install",
        "permanent",
        "upgrade",
        "downgrade",
        "uninstall",
    }
    assert set(ops.IMPLEMENTATIONS) == names
    assert names <= set(ops.OPERATIONS)
    runs = list(ops.IMPLEMENTATIONS.values())
    assert len(set(runs)) == len(runs)


def test_the_node_and_the_cli_serve_the_same_release_operations() -> None:
    names = {op.name for op in operations.RELEASE_OPERATIONS}
    assert set(ops.IMPLEMENTATIONS) == names, "an operation without an implementation"
    kinds = {remote.reply_kind(op) for op in operations.RELEASE_OPERATIONS}
    assert set(remote.RENDERERS) == kinds, "an operation without a renderer, or a stray one"
    extras = {extra for op in operations.RELEASE_OPERATIONS for extra in op.extras}
    assert set(remote.EXTRAS) == extras == set(app.EXTRA_FLAGS)
    commands = {name for name, spec in app.COMMANDS.items() if spec.group == "Releases"}
    assert commands - {"versions"} == names


def test_an_operation_is_frozen_equal_by_its_fields_and_survives_copy_and_pickle() -> None:
    import copy
    import pickle

    upgrade = operations.BY_NAME["upgrade"]
    with pytest.raises(AttributeError):
        upgrade.name = "other"  # type: ignore[misc]
    for again in (copy.copy(upgrade), copy.deepcopy(upgrade), pickle.loads(pickle.dumps(upgrade))):
        assert again == upgrade and hash(again) == hash(upgrade) and again is not upgrade
    assert operations.Operation("upgrade", "version") != upgrade
