"""`python -m build` on a sample project, as a user runs it (no isolation: no downloads)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.build_backend.helpers import use_broken


def python_m_build(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "build", "--no-isolation", *args]
    return subprocess.run(command, cwd=project, capture_output=True, text=True, check=False)


def test_default_route_builds_sdist_then_wheel_and_the_release_package(
    sample: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    done = python_m_build(sample, "--outdir", str(out))
    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in out.iterdir() if not p.name.startswith(".")) == [
        "sample-1-py3-none-any.whl",
        "sample-1.tar.gz",
        "sample_1.tar.gz",
    ]
    lines = done.stdout.splitlines()
    assert "==> alpha 1 (wheel)" in lines and "==> release sample 1" in lines
    assert f"    wrote {out / 'sample_1.tar.gz'}" in lines


@pytest.mark.parametrize(
    ("option", "made"), [("--sdist", "sample-1.tar.gz"), ("--wheel", "sample_1.tar.gz")]
)
def test_sdist_and_wheel_options_work_alone(
    sample: Path, tmp_path: Path, option: str, made: str
) -> None:
    done = python_m_build(sample, option, "--outdir", str(tmp_path / "out"))
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "out" / made).is_file()


@pytest.mark.parametrize(
    ("broken", "line"),
    [
        ("syntax_error", "ERROR primes.toml:3: TOML syntax error: "),
        (
            "unknown_key",
            "ERROR primes.toml:7: `apps.alpha.pth`: unknown key (did you mean `path`?)",
        ),
        ("wrong_type", "ERROR primes.toml:3: `release.version`: must be a string, not an integer"),
        ("app_not_found", "ERROR primes.toml:9: `apps.omega.path`: app `omega` not found: "),
        ("needed_app_not_listed", "ERROR apps/beta/pyproject.toml:16: `tool.primes.app.needs`: "),
        ("dependency_cycle", "ERROR apps/gamma/pyproject.toml:16: `tool.primes.app.needs`: "),
    ],
)
def test_a_broken_primes_toml_fails_with_one_line_and_no_traceback(
    sample: Path, tmp_path: Path, broken: str, line: str
) -> None:
    use_broken(sample, broken)
    done = python_m_build(sample, "--wheel", "--outdir", str(tmp_path / "out"))
    assert done.returncode != 0
    ours = [ln for ln in done.stderr.splitlines() if ln.startswith("ERROR ") and ".toml" in ln]
    assert len(ours) == 1 and ours[0].startswith(line), done.stderr
    assert "Traceback" not in done.stdout + done.stderr


def test_an_unknown_config_setting_fails_the_build_with_one_line(
    sample: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    done = python_m_build(sample, "-C", "prevous=/tmp", "--outdir", str(out))
    assert done.returncode != 0
    ours = [ln for ln in done.stderr.splitlines() if ln.startswith("ERROR unknown config")]
    assert ours == [
        "ERROR unknown config setting `prevous` (did you mean `previous`?); "
        "known: previous, wheelhouse"
    ], done.stderr
    assert "Traceback" not in done.stdout + done.stderr
    assert not out.exists() or not [p for p in out.iterdir() if p.name.endswith(".tar.gz")]
