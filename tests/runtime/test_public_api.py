"""The public surface: what app code imports keeps its path and names (a node hands over to a
newer runtime with the same app code), and primes_runtime's name lists agree."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import primes_runtime
import pytest

INIT = Path(primes_runtime.__file__)

# Module paths and names that apps, examples, the scaffold, tests/e2e/idioms and
# docs/runtime-api.md use.
USED_BY_APPS: dict[str, tuple[str, ...]] = {
    "primes_runtime.node": ("Node", "current", "default_node", "boot", "main", "run"),
    "primes_runtime.server": ("Reply", "NoReply", "Stop", "start"),
    "primes_runtime.statem": (
        "Call",
        "Keep",
        "Next",
        "Reply",
        "Stop",
        "StateTimeout",
        "EventTimeout",
        "start",
    ),
    "primes_runtime.supervisor": (
        "ChildSpec",
        "SupSpec",
        "start",
        "start_child",
        "terminate_child",
        "which_children",
        "upgrade_children",
    ),
    "primes_runtime.aio": ("async_call", "blocking"),
    "primes_runtime.aioserver": ("start",),
    "primes_runtime.system": ("suspend", "resume", "snapshot", "restore", "change_code"),
    "primes_runtime.context": ("current_node",),
    "primes_runtime.registry": ("ProcessTable",),
    "primes_runtime.manifest": ("AppSpec", "Manifest", "load"),
    "primes_runtime.application": ("Applications", "AppInfo", "app_env"),
    "primes_runtime.code_server": ("prepare", "install", "remove", "current", "switch_path"),
    "primes_runtime.errors": ("PrimesError", "StartError", "NoProcess", "CallTimeout"),
    "primes_runtime.handover": ("adopting", "forget", "listen"),
    "primes_runtime.handover.listeners": ("forget",),
    "primes_runtime.release.reports": ("InstallReport",),
    "primes_runtime.cli.output": ("status_data", "status_text"),
    "primes_runtime.formats": ("FormatError",),
    "primes_runtime.formats.relup": ("parse", "render"),
}


@pytest.mark.parametrize("module", sorted(USED_BY_APPS))
def test_a_path_app_code_imports_still_has_its_names(module: str) -> None:
    loaded = importlib.import_module(module)
    missing = [n for n in USED_BY_APPS[module] if not hasattr(loaded, n)]
    assert missing == [], f"{module} lost {missing}"


PUBLIC_MODULES = sorted(
    p.stem for p in INIT.parent.glob("*.py") if p.stem not in ("__init__", "errors", "safetext")
)


@pytest.mark.parametrize("name", PUBLIC_MODULES)
def test_a_public_module_re_exports_its_implementation(name: str) -> None:
    public = importlib.import_module(f"primes_runtime.{name}")
    assert public.__all__, name
    for attr in public.__all__:
        value = getattr(public, attr)
        home = getattr(value, "__module__", None)
        if home is not None and home.startswith("primes_runtime."):
            assert home != public.__name__, f"{name}.{attr} is defined in the public module"


def _init_lists() -> tuple[dict[str, tuple[str, str]], dict[str, tuple[str, str]], list[str]]:
    tree = ast.parse(INIT.read_text(encoding="utf-8"))
    typed: dict[str, tuple[str, str]] = {}
    table: dict[str, tuple[str, str]] = {}
    names: list[str] = []
    for node in tree.body:
        if isinstance(node, ast.If):  # if TYPE_CHECKING:
            for stmt in node.body:
                if isinstance(stmt, ast.ImportFrom) and stmt.level == 1 and stmt.module:
                    for alias in stmt.names:
                        typed[alias.asname or alias.name] = (stmt.module, alias.name)
        elif isinstance(node, ast.AnnAssign) and getattr(node.target, "id", "") == "_PUBLIC":
            table = ast.literal_eval(node.value)  # type: ignore[arg-type]
        elif isinstance(node, ast.Assign) and getattr(node.targets[0], "id", "") == "__all__":
            names = ast.literal_eval(node.value)
    return typed, table, names


def test_the_three_lists_in_init_agree() -> None:
    typed, table, names = _init_lists()
    assert table, "no _PUBLIC table found"
    assert typed == table
    assert sorted(names) == sorted(table)
    assert primes_runtime.__all__ == names


@pytest.mark.parametrize("name", primes_runtime.__all__)
def test_each_public_name_loads_from_its_module(name: str) -> None:
    module, attr = primes_runtime._PUBLIC[name]
    value = getattr(primes_runtime, name)
    assert value is getattr(importlib.import_module(f"primes_runtime.{module}"), attr)


def test_node_is_the_one_node_type() -> None:
    from primes_runtime.host.node import Node
    from primes_runtime.node import Node as PublicNode

    assert primes_runtime.Node is Node is PublicNode
