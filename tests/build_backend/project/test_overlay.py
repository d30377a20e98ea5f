"""Release files: primes-build's defaults, overridden file by file by a project's rel/."""

from __future__ import annotations

import shutil
from pathlib import Path

from primes_build.package.release import build_release

from tests.build_backend.package.test_release import members


def build_members(project: Path, outdir: Path) -> dict[str, bytes]:
    built = build_release(project, outdir, (), lambda line: None)
    return members(built.path)


def test_a_project_without_rel_builds_with_the_packaged_defaults(
    sample: Path, tmp_path: Path
) -> None:
    shutil.rmtree(sample / "rel")
    files = build_members(sample, tmp_path / "out")
    node = files["releases/1/node.toml"].decode()
    assert "log_max_bytes = 10485760" in node and "shutdown_timeout = 3.0" in node
    script = files["bin/sample"].decode()
    assert script.startswith("#!/bin/sh\n# sample 1: the release's start script")
    assert "prog=sample" in script


def test_a_project_rel_node_toml_alone_overrides_only_the_node_defaults(
    sample: Path, tmp_path: Path
) -> None:
    (sample / "rel/templates/start.sh.j2").unlink()
    files = build_members(sample, tmp_path / "out")
    assert "log_max_bytes = 1000" in files["releases/1/node.toml"].decode()
    assert "prog=sample" in files["bin/sample"].decode()


def test_a_project_start_script_template_alone_overrides_only_the_script(
    sample: Path, tmp_path: Path
) -> None:
    (sample / "rel/node.toml").unlink()
    files = build_members(sample, tmp_path / "out")
    assert "log_max_bytes = 10485760" in files["releases/1/node.toml"].decode()
    assert "# sample 1 needs python >=3.11" in files["bin/sample"].decode()
