"""The direction of use between the parts, read from every import in the source tree.

An AST walk, not import-linter: it sees the imports inside functions too (they are where a
wrong arrow hides). Each rule names the importing part and what it may not reach; the
runtime's folders also stand on floors (FLOORS: a folder imports only lower floors, and never
a public module at the top) and form no cycle; the build backend's
folders import downward only (BUILD_FOLDERS), with no cycle between them or between modules.
The tests below show every rule failing on a small fake tree.
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import pytest

ROOT = Path(__file__).resolve().parent.parent
# Where the shipped code lives; apps' and examples' tests are checked with their app.
SCANNED = ("runtime", "build_backend", "apps", "examples")
SKIPPED_DIRS = {".venv", "build", "dist", "__pycache__", "node_modules"}


@dataclass(frozen=True)
class Import:
    """One import statement's target, as an absolute module name, and where it is written."""

    path: PurePosixPath  # relative to the scanned root
    module: str  # the importing module
    line: int
    target: str  # the imported module (`from a import b` is `a.b` when b is a module)
    typing_only: bool = False  # under `if TYPE_CHECKING:` (names a type for annotations)


@dataclass(frozen=True)
class Rule:
    """A part (chosen by `applies`) that may only import what `allows` accepts."""

    says: str
    applies: Callable[[Import], bool]
    allows: Callable[[str], bool]


def _under(*packages: str) -> Callable[[str], bool]:
    return lambda name: any(name == p or name.startswith(p + ".") for p in packages)


def _stdlib(name: str) -> bool:
    return name.split(".")[0] in sys.stdlib_module_names


_formats = _under("primes_runtime.formats")
_runtime = _under("primes_runtime")
_build = _under("primes_build")
_cli = _under("primes_runtime.cli")
_above_swap = _under(
    "primes_runtime.release",
    "primes_runtime.control",
    "primes_runtime.handover",
    "primes_runtime.cli",
)


def _in_app(imp: Import) -> bool:
    return imp.path.parts[0] in ("apps", "examples")


def _app_code(imp: Import) -> bool:
    """An app's or an example's own code (its tests may look inside the runtime)."""
    return _in_app(imp) and "tests" not in imp.path.parts


def public_api(name: str) -> bool:
    """A module of the runtime's public API: the package, a public module at the top, the
    errors, or the hand-over's face for apps (listen, forget, adopting)."""
    if not _runtime(name) or name == "primes_runtime":
        return True
    top = name.split(".")[1]
    return name.count(".") == 1 and top in (*PUBLIC_MODULES, "errors", "handover")


# The build backend's folders (docs/architecture.md, "Build"), lowest first: each may import
# itself and the folders its row names. The root's floor (errors, version) imports no other
# part and every part may import it; the root's front doors (the PEP 517 hooks, the `primes`
# command) may import any part. A new folder or root module needs its place here.
BUILD_FOLDERS: dict[str, frozenset[str]] = {
    "upgrade": frozenset(),
    "project": frozenset({"upgrade"}),
    "wheels": frozenset({"project"}),
    "deps": frozenset({"project", "wheels"}),
    "package": frozenset({"project", "wheels", "deps", "upgrade"}),
    "dists": frozenset({"project", "wheels", "package"}),
    "scaffold": frozenset(),
}
BUILD_FLOOR = frozenset({"errors", "version"})
BUILD_DOORS = frozenset({"buildapi", "api", "command"})


def build_part(name: str) -> str | None:
    """The part of the build a module belongs to: its folder, or its own name at the root
    (`""` for the package itself); None outside primes_build."""
    parts = name.split(".")
    if parts[0] != "primes_build":
        return None
    return parts[1] if len(parts) > 1 else ""


def _build_allows(folder: str) -> Callable[[str], bool]:
    allowed = {folder, "", *BUILD_FOLDERS[folder], *BUILD_FLOOR}
    return lambda target: build_part(target) in (None, *allowed)


def _in_build_folder(folder: str) -> Callable[[Import], bool]:
    return lambda imp: build_part(imp.module) == folder


RULES = (
    Rule(
        "the format layer imports only the standard library and itself",
        lambda i: _formats(i.module),
        lambda t: _stdlib(t) or _formats(t),
    ),
    Rule(
        "the runtime imports only the standard library and itself (it ships with no dependencies)",
        lambda i: _runtime(i.module),
        lambda t: _stdlib(t) or _runtime(t),
    ),
    Rule(
        "the build imports nothing of the runtime but its format layer",
        lambda i: _build(i.module),
        lambda t: not _runtime(t) or _formats(t),
    ),
    Rule(
        "only the CLI imports the CLI (nothing in the node depends on its command line)",
        lambda i: _runtime(i.module) and not _cli(i.module),
        lambda t: not _cli(t),
    ),
    Rule(
        "the swap machinery does not import the release handler, control, hand-over or CLI",
        lambda i: _under("primes_runtime.swap")(i.module),
        lambda t: not _above_swap(t),
    ),
    Rule(
        "apps and examples do not import the build",
        _in_app,
        lambda t: not _build(t),
    ),
    Rule(
        "app code uses only the runtime's public API (primes_runtime, its public modules, "
        "primes_runtime.errors, primes_runtime.handover)",
        _app_code,
        public_api,
    ),
    Rule(
        "the build's floor (errors.py, version.py) imports no other part of the build",
        lambda i: build_part(i.module) in BUILD_FLOOR,
        lambda t: build_part(t) in (None, "", *BUILD_FLOOR),
    ),
    *(
        Rule(
            f"the build's {folder}/ imports "
            + (
                "only " + ", ".join(f"{f}/" for f in sorted(BUILD_FOLDERS[folder]))
                if BUILD_FOLDERS[folder]
                else "no other folder"
            )
            + " of the build's folders",
            _in_build_folder(folder),
            _build_allows(folder),
        )
        for folder in BUILD_FOLDERS
    ),
)


# The runtime's folders, lowest floor first. A folder imports only folders on lower floors
# (errors.py, safetext.py and formats/ are the ground floor): the kernel; the control channel
# (its socket, frames, cookie, the node's tree, pid file and lock) and code loading; the
# behaviours; the host (the Node object); the swap; the release handler; the hand-over, which
# drives a release change through a successor; the control service, which answers each request
# with the release handler or a hand-over; the node's program; the CLI. No two folders share
# a floor, so no cycle between folders can form. Imports under TYPE_CHECKING are exempt: the
# kernel and the behaviours name the Node type, which the host defines; an annotation runs
# nothing.
FLOORS: dict[str, int] = {
    "errors": 0,
    "safetext": 0,
    "formats": 0,
    "kernel": 1,
    "control": 2,
    "loading": 3,
    "behaviours": 4,
    "host": 5,
    "swap": 6,
    "release": 7,
    "handover": 8,
    "service": 9,
    "program": 10,
    "cli": 11,
}
# The public modules at the top: each re-exports one private implementation for app code
# (docs/runtime-api.md); the runtime itself imports the implementation, never these.
PUBLIC_MODULES = frozenset(
    {
        "aio",
        "aioserver",
        "application",
        "code_server",
        "context",
        "manifest",
        "node",
        "registry",
        "server",
        "statem",
        "supervisor",
        "system",
    }
)


def folder_of(module: str) -> str | None:
    """The runtime folder (or top module) `module` belongs to; None outside the runtime."""
    parts = module.split(".")
    if parts[0] != "primes_runtime":
        return None
    return parts[1] if len(parts) > 1 else ""


def _floor_allows(imp: Import) -> bool:
    src, dst = folder_of(imp.module), folder_of(imp.target)
    if src is None or dst is None or src == dst or dst == "" or imp.typing_only:
        return True
    if src in PUBLIC_MODULES or src == "":
        return True  # a public module re-exports; __init__ loads its names lazily
    if dst in PUBLIC_MODULES:
        return False
    return FLOORS.get(dst, 99) < FLOORS.get(src, 99)


FLOOR_RULE = (
    "a runtime folder imports only folders on lower floors (kernel < control < loading "
    "< behaviours < host < swap < release < handover < service < program < cli), and no "
    "public module"
)


def _module_name(path: Path) -> str:
    """The dotted name of `path`, from the outermost directory with an __init__.py."""
    parts = [] if path.stem == "__init__" else [path.stem]
    folder = path.parent
    while (folder / "__init__.py").exists():
        parts.insert(0, folder.name)
        folder = folder.parent
    return ".".join(parts)


def _sources(root: Path) -> Iterator[Path]:
    for top in SCANNED:
        for path in sorted((root / top).rglob("*.py")):
            if not SKIPPED_DIRS.intersection(path.relative_to(root).parts):
                yield path


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def imports(root: Path) -> Iterator[Import]:
    """Every import in the scanned tree under `root`, at any depth (functions, TYPE_CHECKING)."""
    paths = list(_sources(root))
    known = {_module_name(p) for p in paths}
    for path in paths:
        module = _module_name(path)
        package = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
        rel = PurePosixPath(path.relative_to(root).as_posix())
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        typing_only = {
            id(inner)
            for block in ast.walk(tree)
            if isinstance(block, ast.If) and _is_type_checking(block.test)
            for stmt in block.body
            for inner in ast.walk(stmt)
        }
        for node in ast.walk(tree):
            typed = id(node) in typing_only
            if isinstance(node, ast.Import):
                for alias in node.names:
                    yield Import(rel, module, node.lineno, alias.name, typed)
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base = package[: len(package) - (node.level - 1)]
                    source = ".".join([*base, *([node.module] if node.module else [])])
                else:
                    source = node.module or ""
                for alias in node.names:
                    sub = f"{source}.{alias.name}"
                    target = sub if sub in known else source
                    yield Import(rel, module, node.lineno, target, typed)


def violations(root: Path) -> list[str]:
    """`path:line: module imports target, but <rule>` for each import a rule refuses, then
    each cycle between the runtime's folders."""
    found = list(imports(root))
    lines = [
        f"{imp.path}:{imp.line}: {imp.module} imports {imp.target}, but {rule.says}"
        for imp in found
        for rule in RULES
        if rule.applies(imp) and not rule.allows(imp.target)
    ]
    lines += [
        f"{imp.path}:{imp.line}: {imp.module} imports {imp.target}, but {FLOOR_RULE}"
        for imp in found
        if not _floor_allows(imp)
    ]
    cycles = folder_cycles(found)
    return lines + [f"cycle between runtime folders: {c}" for _, c in cycles]


def folder_cycles(found: list[Import]) -> list[tuple[frozenset[str], str]]:
    """Each cycle between runtime folders (imports at run time, at any depth): its folders,
    and `a -> b -> ... -> a`."""
    edges: dict[str, set[str]] = {}
    for imp in found:
        src, dst = folder_of(imp.module), folder_of(imp.target)
        if src and dst and src != dst and not imp.typing_only:
            edges.setdefault(src, set()).add(dst)
    cycles: list[tuple[frozenset[str], str]] = []
    seen: set[frozenset[str]] = set()

    def walk(start: str, at: str, path: list[str]) -> None:
        for nxt in sorted(edges.get(at, ())):
            if nxt == start:
                key = frozenset(path)
                if key not in seen:
                    seen.add(key)
                    cycles.append((key, " -> ".join([*path, start])))
            elif nxt not in path and nxt > start:  # each cycle once, from its least folder
                walk(start, nxt, [*path, nxt])

    for start in sorted(edges):
        walk(start, start, [start])
    return cycles


def folder_imports(root: Path) -> dict[str, set[str]]:
    """Build folder -> the other build folders it imports (at any depth, as written)."""
    top = root / "build_backend" / "primes_build"
    folders = {p.parent.name for p in top.glob("*/__init__.py")}
    graph: dict[str, set[str]] = {folder: set() for folder in folders}
    for imp in imports(root):
        source, target = build_part(imp.module), build_part(imp.target)
        if source in folders and target in folders and target != source:
            graph[source].add(target)
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Each cycle of the graph once, as the path that closes it (`[a, b, a]`)."""
    found: list[list[str]] = []
    seen: set[frozenset[str]] = set()

    def walk(node: str, path: list[str]) -> None:
        for nxt in sorted(graph.get(node, ())):
            if nxt in path:
                loop = path[path.index(nxt) :]
                if frozenset(loop) not in seen:
                    seen.add(frozenset(loop))
                    found.append([*loop, nxt])
            else:
                walk(nxt, [*path, nxt])

    for start in sorted(graph):
        walk(start, [start])
    return found


def test_every_import_in_the_tree_points_the_allowed_way() -> None:
    assert violations(ROOT) == []


def test_the_walk_sees_the_real_tree_and_its_imports_inside_functions() -> None:
    found = list(imports(ROOT))
    assert any(i.module == "primes_runtime.formats.relup" for i in found)
    assert any(i.module.startswith("primes_build.") for i in found)
    assert any(i.path.parts[0] == "apps" for i in found)
    # the node's program reaches control/ from inside functions; the walk must see that.
    assert any(
        i.module == "primes_runtime.program.main"
        and i.target.startswith("primes_runtime.control")
        and not i.typing_only
        for i in found
    )
    # So does api.py reach the build's folders (the hooks import lazily, for speed).
    assert any(
        i.module == "primes_build.api" and i.target == "primes_build.package.release" for i in found
    )
    # the kernel names the Node type under TYPE_CHECKING only.
    assert any(
        i.module == "primes_runtime.kernel.context"
        and i.target == "primes_runtime.host.node"
        and i.typing_only
        for i in found
    )
    assert {folder_of(i.module) for i in found} >= set(FLOORS)


def test_no_cycle_between_the_build_folders() -> None:
    graph = folder_imports(ROOT)
    assert set(graph) == set(BUILD_FOLDERS)
    assert cycles(graph) == []
    # Nor in what the table allows: a folder may only import folders below it.
    assert cycles({f: set(allowed) for f, allowed in BUILD_FOLDERS.items()}) == []


def test_no_import_cycle_between_the_build_modules_either() -> None:
    """No late import dodges a cycle (upgrade/plan.py and check.py once reached the library
    steps from inside functions, because those imported plan.py)."""
    graph: dict[str, set[str]] = {}
    for imp in imports(ROOT):
        if _build(imp.module) and _build(imp.target) and imp.target != imp.module:
            graph.setdefault(imp.module, set()).add(imp.target)
    assert cycles(graph) == []


def test_every_build_folder_and_root_module_has_its_place_in_the_table() -> None:
    top = ROOT / "build_backend" / "primes_build"
    assert {p.parent.name for p in top.glob("*/__init__.py")} == set(BUILD_FOLDERS)
    assert {p.stem for p in top.glob("*.py")} - {"__init__"} == BUILD_FLOOR | BUILD_DOORS


def _fake_tree(root: Path, files: dict[str, str]) -> None:
    base = {
        "runtime/primes_runtime/__init__.py": "",
        "runtime/primes_runtime/node.py": "from .host.node import Node\n",
        "runtime/primes_runtime/errors.py": "",
        "runtime/primes_runtime/kernel/__init__.py": "",
        "runtime/primes_runtime/kernel/process.py": (
            "from ..errors import *\nif TYPE_CHECKING:\n    from ..host.node import Node\n"
        ),
        "runtime/primes_runtime/behaviours/__init__.py": "",
        "runtime/primes_runtime/behaviours/server.py": "from ..kernel import process\n",
        "runtime/primes_runtime/host/__init__.py": "",
        "runtime/primes_runtime/host/node.py": "from ..behaviours import server\n",
        "runtime/primes_runtime/program/__init__.py": "",
        "runtime/primes_runtime/program/main.py": "def main():\n    from ..release import *\n",
        "runtime/primes_runtime/formats/__init__.py": "",
        "runtime/primes_runtime/formats/relup.py": "import json\nfrom . import errors\n",
        "runtime/primes_runtime/formats/errors.py": "",
        "runtime/primes_runtime/swap/__init__.py": "from ..host import node\n",
        "runtime/primes_runtime/release/__init__.py": "from ..swap import *\n",
        "runtime/primes_runtime/cli/__init__.py": "from ..release import *\n",
        "build_backend/primes_build/__init__.py": "from primes_runtime import formats\n",
        "build_backend/primes_build/errors.py": "",
        "build_backend/primes_build/api.py": "def build():\n    from .package import release\n",
        "build_backend/primes_build/upgrade/__init__.py": "from .plan import plan\n",
        "build_backend/primes_build/upgrade/plan.py": "from primes_build.errors import E\n",
        "build_backend/primes_build/project/__init__.py": "",
        "build_backend/primes_build/project/config.py": "from primes_build.upgrade import plan\n",
        "build_backend/primes_build/deps/__init__.py": "",
        "build_backend/primes_build/deps/fetch.py": "from primes_build.project import config\n",
        "build_backend/primes_build/package/__init__.py": "",
        "build_backend/primes_build/package/release.py": (
            "from primes_build import deps, upgrade\nfrom primes_build.deps import fetch\n"
        ),
        "apps/web/web/__init__.py": "import primes_runtime\n",
        "examples/demo/apps/lim/lim/__init__.py": "from primes_runtime import node\n",
    }
    for name, text in {**base, **files}.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text, encoding="utf-8")


def test_a_fake_tree_that_keeps_every_rule_has_no_violations(tmp_path: Path) -> None:
    _fake_tree(tmp_path, {})
    assert violations(tmp_path) == []


@pytest.mark.parametrize(
    ("path", "text", "rule"),
    [
        (
            "runtime/primes_runtime/formats/relup.py",
            "def parse():\n    from ..node import Node\n",
            "the format layer imports only the standard library and itself",
        ),
        (
            "runtime/primes_runtime/formats/relup.py",
            "import packaging.version\n",
            "the format layer imports only the standard library and itself",
        ),
        (
            "runtime/primes_runtime/kernel/process.py",
            "def spawn():\n    from ..behaviours import server\n",
            "a runtime folder imports only folders on lower floors",
        ),
        (
            "runtime/primes_runtime/behaviours/server.py",
            "from ..host.node import Node\n",
            "a runtime folder imports only folders on lower floors",
        ),
        (
            "runtime/primes_runtime/host/node.py",
            "def boot():\n    from ..program import main\n",
            "a runtime folder imports only folders on lower floors",
        ),
        (
            "runtime/primes_runtime/host/node.py",
            "from primes_runtime import node\n",
            "and no public module",
        ),
        (
            "runtime/primes_runtime/node.py",
            "def boot():\n    import primes_build.package.manifest\n",
            "the runtime imports only the standard library and itself",
        ),
        (
            "build_backend/primes_build/__init__.py",
            "def plan():\n    from primes_runtime.release import evaluator\n",
            "the build imports nothing of the runtime but its format layer",
        ),
        (
            "runtime/primes_runtime/program/main.py",
            "def main():\n    from ..cli import app\n",
            "only the CLI imports the CLI",
        ),
        (
            "runtime/primes_runtime/swap/__init__.py",
            "from ..release import handler\n",
            "the swap machinery does not import the release handler",
        ),
        (
            "apps/web/web/__init__.py",
            "def build():\n    import primes_build\n",
            "apps and examples do not import the build",
        ),
        (
            "apps/shop/shop/worker.py",
            "def f():\n    from primes_runtime.kernel.process import Process\n",
            "app code uses only the runtime's public API",
        ),
        (
            "examples/demo/apps/lim/lim/__init__.py",
            "from primes_build.project.config import load\n",
            "apps and examples do not import the build",
        ),
        (
            "build_backend/primes_build/upgrade/plan.py",
            "def steps():\n    from primes_build.deps import fetch\n",
            "the build's upgrade/ imports no other folder",
        ),
        (
            "build_backend/primes_build/project/config.py",
            "from ..package.release import build_release\n",
            "the build's project/ imports only upgrade/",
        ),
        (
            "build_backend/primes_build/deps/fetch.py",
            "def reuse():\n    from primes_build import package\n",
            "the build's deps/ imports only project/, wheels/",
        ),
        (
            "build_backend/primes_build/errors.py",
            "from primes_build.project import config\n",
            "the build's floor (errors.py, version.py) imports no other part",
        ),
    ],
)
def test_the_checker_refuses_a_deliberate_violation(
    tmp_path: Path, path: str, text: str, rule: str
) -> None:
    _fake_tree(tmp_path, {path: text})
    found = violations(tmp_path)
    assert found, "the checker let a violation through"
    assert all(line.startswith(f"{path}:") or line.startswith("cycle") for line in found), found
    assert any(rule in line for line in found), found


def test_a_fake_build_tree_has_its_folders_and_no_cycle(tmp_path: Path) -> None:
    _fake_tree(tmp_path, {})
    assert folder_imports(tmp_path) == {
        "upgrade": set(),
        "project": {"upgrade"},
        "deps": {"project"},
        "package": {"deps", "upgrade"},
    }
    assert cycles(folder_imports(tmp_path)) == []


def test_a_cycle_between_build_folders_is_found_even_inside_a_function(tmp_path: Path) -> None:
    _fake_tree(
        tmp_path,
        {"build_backend/primes_build/upgrade/plan.py": "def f():\n    from ..package import x\n"},
    )
    assert ["upgrade", "package", "upgrade"] in cycles(folder_imports(tmp_path))
    assert any("the build's upgrade/ imports no other folder" in v for v in violations(tmp_path))


def test_the_checker_refuses_a_cycle_between_folders(tmp_path: Path) -> None:
    # the floor rule refuses swap/ importing release/; the cycle check names the loop too
    _fake_tree(
        tmp_path,
        {"runtime/primes_runtime/swap/__init__.py": "def f():\n    from .. import release\n"},
    )
    found = violations(tmp_path)
    assert "cycle between runtime folders: release -> swap -> release" in found, found


def template_imports(root: Path) -> list[tuple[str, str]]:
    """(file:line, module) of each runtime import in the scaffold's templates (`primes new`)."""
    found: list[tuple[str, str]] = []
    skeleton = root / "build_backend" / "primes_build" / "scaffold"
    for path in sorted(skeleton.rglob("*.j2")):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            words = line.split()
            if len(words) >= 2 and words[0] in ("from", "import") and _runtime(words[1]):
                found.append((f"{path.relative_to(root)}:{number}", words[1]))
    return found


def test_the_scaffold_gives_a_new_project_only_the_public_api() -> None:
    found = template_imports(ROOT)
    assert found, "the walk found no runtime import in the scaffold's templates"
    assert [(where, m) for where, m in found if not public_api(m)] == []


def test_a_template_reaching_past_the_public_api_is_refused(tmp_path: Path) -> None:
    template = tmp_path / "build_backend/primes_build/scaffold/skeleton/app.py.j2"
    template.parent.mkdir(parents=True)
    template.write_text("from primes_runtime.behaviours.server import Reply\n")
    ((where, module),) = template_imports(tmp_path)
    assert not public_api(module) and where.endswith("app.py.j2:1")
