"""Build small release trees and packages by hand, per docs/formats.md, for the handler's tests."""

from __future__ import annotations

import hashlib
import io
import json
import shutil
import tarfile
import textwrap
from dataclasses import dataclass, field
from pathlib import Path

RUNTIME_SRC = Path(__file__).resolve().parents[3] / "runtime" / "primes_runtime"
RUNTIME_DIR = "lib/primes_runtime-1"


@dataclass
class App:
    """An app of a hand-made release: its modules' source by dotted name."""

    name: str
    version: str
    modules: dict[str, str]
    start: str | None = None
    stop: str | None = None
    needs: list[str] = field(default_factory=list)
    env: dict[str, object] = field(default_factory=dict)

    @property
    def path(self) -> str:
        return f"lib/{self.name}-{self.version}"


def _module_file(code_dir: Path, module: str, packages: set[str]) -> Path:
    parts = module.split(".")
    if module in packages:
        return code_dir.joinpath(*parts, "__init__.py")
    return code_dir.joinpath(*parts[:-1], parts[-1] + ".py")


def write_app(root: Path, app: App) -> dict[str, str]:
    """Write an app's modules under lib/<app>-<vsn>/; return module -> sha256."""
    code_dir = root / app.path
    packages = {m.rsplit(".", 1)[0] for m in app.modules if "." in m}
    hashes: dict[str, str] = {}
    for module, source in app.modules.items():
        target = _module_file(code_dir, module, packages)
        target.parent.mkdir(parents=True, exist_ok=True)
        text = textwrap.dedent(source).lstrip()
        target.write_text(text, encoding="utf-8")
        hashes[module] = hashlib.sha256(text.encode()).hexdigest()
    for package in packages:
        init = code_dir.joinpath(*package.split("."), "__init__.py")
        if not init.exists():
            init.write_text("", encoding="utf-8")
            hashes[package] = hashlib.sha256(b"").hexdigest()
    return hashes


def write_release(
    root: Path,
    version: str,
    apps: list[App],
    *,
    relups: dict[str, str] | None = None,
    name: str = "primenode",
    node_toml: str = '[node]\nname = "primenode"\nshutdown_timeout = 5.0\nprobation = 0\n',
) -> None:
    """Write lib/ code, releases/<vsn>/release.json, node.toml and .relup files into `root`."""
    runtime = root / RUNTIME_DIR / "primes_runtime"
    if not runtime.exists():
        shutil.copytree(RUNTIME_SRC, runtime, ignore=shutil.ignore_patterns("__pycache__"))
    app_entries = []
    for app in apps:
        modules = write_app(root, app) if not (root / app.path).exists() else {}
        app_entries.append(
            {
                "name": app.name,
                "version": app.version,
                "path": app.path,
                "description": f"test app {app.name}",
                "start": app.start or f"{next(iter(app.modules))}:start",
                "stop": app.stop,
                "needs": app.needs,
                "env": app.env,
                "modules": dict(sorted(modules.items())),
            }
        )
    rel_dir = root / "releases" / version
    rel_dir.mkdir(parents=True, exist_ok=True)
    relups = relups or {}
    manifest = {
        "format": 1,
        "name": name,
        "version": version,
        "requires_python": ">=3.11",
        "runtime": {"name": "primes_runtime", "version": "1", "path": RUNTIME_DIR, "modules": {}},
        "apps": app_entries,
        "upgrades": {
            "up_from": sorted(k[len("up_from_") :] for k in relups if k.startswith("up_from_")),
            "down_to": sorted(k[len("down_to_") :] for k in relups if k.startswith("down_to_")),
        },
    }
    (rel_dir / "release.json").write_text(
        json.dumps(manifest, indent=2, sort_keys=True) + "\n", encoding="utf-8"
    )
    (rel_dir / "node.toml").write_text(node_toml, encoding="utf-8")
    for stem, text in relups.items():
        (rel_dir / f"{stem}.relup").write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")


def mark_permanent(root: Path, version: str) -> None:
    """Write RELEASES and start_data describing `version` alone, permanent (as a package does)."""
    releases = {"format": 1, "releases": [{"status": "permanent", "version": version}]}
    (root / "releases" / "RELEASES").write_text(json.dumps(releases) + "\n", encoding="utf-8")
    (root / "releases" / "start_data").write_text(f"{version} {RUNTIME_DIR}\n", encoding="utf-8")


def write_sums(root: Path, version: str) -> None:
    """Write releases/<vsn>/SHA256SUMS for every regular file of the tree except itself."""
    sums_path = root / "releases" / version / "SHA256SUMS"
    lines = []
    for path in sorted(p for p in root.rglob("*") if p.is_file() and p != sums_path):
        if "__pycache__" in path.parts:
            continue
        rel = path.relative_to(root).as_posix()
        lines.append(f"{hashlib.sha256(path.read_bytes()).hexdigest()}  {rel}\n")
    sums_path.write_text("".join(lines), encoding="utf-8")


def tar_tree(tree: Path, out: Path, extra: list[tarfile.TarInfo] | None = None) -> Path:
    """Tar a tree as a package (sorted entries, normalised modes), plus raw extra members."""
    with tarfile.open(out, "w:gz") as tar:
        for path in sorted(tree.rglob("*")):
            if "__pycache__" in path.parts:
                continue
            rel = path.relative_to(tree).as_posix()
            info = tar.gettarinfo(str(path), arcname=rel)
            info.uid = info.gid = 0
            info.uname = info.gname = ""
            info.mtime = 315532800
            executable = path.is_dir() or rel.startswith("bin/")
            info.mode = 0o755 if executable else 0o644
            if path.is_file():
                with path.open("rb") as f:
                    tar.addfile(info, f)
            else:
                tar.addfile(info)
        for info in extra or []:
            data = b"payload" if info.isfile() else b""
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data) if data else None)
    return out


def make_package(
    work: Path, version: str, apps: list[App], *, relups: dict[str, str] | None = None
) -> Path:
    """A complete release package primenode_<vsn>.tar.gz built from scratch under `work`."""
    tree = work / f"pkgtree-{version}"
    write_release(tree, version, apps, relups=relups)
    mark_permanent(tree, version)
    (tree / "bin").mkdir(exist_ok=True)
    (tree / "bin" / "primenode").write_text("#!/bin/sh\necho placeholder\n", encoding="utf-8")
    write_sums(tree, version)
    return tar_tree(tree, work / f"primenode_{version}.tar.gz")


def snapshot_tree(root: Path) -> dict[str, bytes]:
    """Every file of a tree (except bytecode caches) with its content, to compare before/after."""
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and "__pycache__" not in p.parts
    }
