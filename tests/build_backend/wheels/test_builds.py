"""Tests of how the apps' wheels are built: shared hook workers, the cache, what is installed."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from packaging.version import InvalidVersion, Version
from primes_build.errors import BuildError
from primes_build.package.release import build_release
from primes_build.project import versions
from primes_build.wheels import buildreqs
from primes_build.wheels.builds import JOBS_VAR, build_jobs

from tests.build_backend.helpers import set_version

RECORDING_BACKEND = '''
"""setuptools.build_meta, recording each build_wheel call (project, pid) in $HOOK_LOG."""
import json, os, tomllib
from setuptools.build_meta import *  # noqa: F403
from setuptools import build_meta as _real


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    with open(os.environ["HOOK_LOG"], "a") as log:
        with open("pyproject.toml", "rb") as f:
            name = tomllib.load(f)["project"]["name"]
        log.write(json.dumps([name, os.getpid()]) + "\\n")
    return _real.build_wheel(wheel_directory, config_settings, metadata_directory)
'''


def record_hooks(
    sample: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, projects: list[str]
) -> Path:
    """Give these projects (runtime, apps/alpha, ...) the recording backend; returns the log."""
    backends = tmp_path / "backends"
    backends.mkdir()
    (backends / "recording_backend.py").write_text(RECORDING_BACKEND)
    monkeypatch.setenv("PYTHONPATH", str(backends))
    log = tmp_path / "hooks.log"
    log.touch()
    monkeypatch.setenv("HOOK_LOG", str(log))
    for project in projects:
        pyproject = sample / project / "pyproject.toml"
        text = pyproject.read_text().replace('"setuptools.build_meta"', '"recording_backend"')
        pyproject.write_text(text)
    return log


def calls(log: Path) -> list[tuple[str, int]]:
    """(project name, pid) per build_wheel call."""
    return [tuple(json.loads(line)) for line in log.read_text().splitlines()]  # type: ignore[misc]


def test_an_unchanged_apps_wheel_comes_from_the_cache_and_its_build_hook_is_not_called(
    sample: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    log = record_hooks(sample, tmp_path, monkeypatch, ["runtime", "apps/alpha", "apps/beta"])
    build_release(sample, tmp_path / "out", (), lambda _: None)
    assert sorted(name for name, _ in calls(log)) == ["alpha", "beta", "primes-runtime"]
    log.write_text("")
    with (sample / "apps" / "beta" / "beta" / "app.py").open("a") as module:
        module.write("# an edit\n")
    set_version(sample / "apps" / "beta" / "pyproject.toml", "2")
    set_version(sample / "primes.toml", "2")
    lines: list[str] = []
    build_release(sample, tmp_path / "out", (), lines.append)
    assert [name for name, _ in calls(log)] == ["beta"]
    assert "==> beta 2 (wheel)" in lines
    assert "==> alpha 1 (reused)" in lines and "==> primes_runtime 7 (reused)" in lines


@pytest.mark.parametrize("jobs", [1, 2])
def test_apps_with_the_same_backend_share_worker_interpreters(
    sample: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, jobs: int
) -> None:
    monkeypatch.setenv(JOBS_VAR, str(jobs))
    log = record_hooks(sample, tmp_path, monkeypatch, ["runtime", "apps/alpha", "apps/beta"])
    build_release(sample, tmp_path / "out", (), lambda _: None)
    pids = {pid for _, pid in calls(log)}
    assert len(calls(log)) == 3
    assert 1 <= len(pids) <= jobs, f"three projects, at most {jobs} interpreter(s)"
    assert os.getpid() not in pids


def test_the_builds_at_once_are_one_per_core_but_one_unless_set(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(JOBS_VAR, "3")
    assert build_jobs() == 3
    for unset in ("", "0", "two"):
        monkeypatch.setenv(JOBS_VAR, unset)
        cores = len(os.sched_getaffinity(0))
        assert build_jobs() == max(1, min(4, cores - 1))


def test_an_app_whose_backend_fails_shows_its_output_then_one_error(
    sample: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pyproject = sample / "apps" / "alpha" / "pyproject.toml"
    pyproject.write_text(
        pyproject.read_text().replace('packages = ["alpha"]', 'packages = ["nope"]')
    )
    with pytest.raises(BuildError) as caught:
        build_release(sample, tmp_path / "out", (), lambda _: None)
    assert str(caught.value).startswith("building the wheel of apps/alpha failed (")
    assert str(caught.value).endswith("see its backend's output above")
    assert "nope" in capsys.readouterr().err  # setuptools' own complaint, kept for the user


def stdlib_only(code: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run `code` with the stdlib only (-S: no site-packages) and the sample's backend-path."""
    path = [str(cwd / "build_backend"), str(cwd / "format_layer")]
    prelude = f"import sys; sys.path[:0] = {path!r}\n"
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    done = subprocess.run(
        [sys.executable, "-S", "-c", prelude + textwrap.dedent(code)],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    return done


def test_a_fresh_env_is_asked_for_every_projects_build_requirements_in_one_go(
    sample: Path,
) -> None:
    out = stdlib_only(
        "from primes_build import buildapi; print(buildapi.get_requires_for_build_wheel())",
        sample,
    ).stdout
    assert out.strip() == str([*buildreqs.OURS, "setuptools>=68"])


def test_requirements_two_projects_spell_differently_are_left_to_their_own_envs(
    sample: Path,
) -> None:
    beta = sample / "apps" / "beta" / "pyproject.toml"
    beta.write_text(beta.read_text().replace('"setuptools>=68"', '"setuptools>=70"'))
    out = stdlib_only(
        "from primes_build import buildapi; print(buildapi.get_requires_for_build_wheel())",
        sample,
    ).stdout
    assert out.strip() == str([*buildreqs.OURS, buildreqs.BUILD])


def test_where_primes_build_is_installed_build_is_asked_for_only_for_an_app_lacking_its_backend(
    sample: Path,
) -> None:
    assert buildreqs.frontend_requires(sample) == list(buildreqs.OURS)
    beta = sample / "apps" / "beta" / "pyproject.toml"
    beta.write_text(beta.read_text().replace('"setuptools>=68"', '"primes-no-such-backend>=1"'))
    assert buildreqs.frontend_requires(sample) == [*buildreqs.OURS, buildreqs.BUILD]


def test_the_sdist_needs_the_stdlib_only_and_is_the_same_as_with_packaging(
    sample: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    code = f"""
        from primes_build import buildapi
        requires = buildapi.get_requires_for_build_sdist()
        print("RESULT", requires, buildapi.build_sdist({str(tmp_path / "a")!r}))
    """
    out = stdlib_only(code, sample).stdout
    assert out.splitlines()[-1] == "RESULT [] sample-1.tar.gz"
    from primes_build import buildapi

    monkeypatch.chdir(sample)
    buildapi.build_sdist(str(tmp_path / "b"))
    first = (tmp_path / "a" / "sample-1.tar.gz").read_bytes()
    assert first == (tmp_path / "b" / "sample-1.tar.gz").read_bytes()


def test_without_packaging_a_version_is_refused_unless_in_normal_form(sample: Path) -> None:
    set_version(sample / "primes.toml", "1.0-rc1")
    code = """
        from primes_build import buildapi
        try:
            buildapi.build_sdist("out")
        except SystemExit as exc:
            print("exit", exc.code)
    """
    done = stdlib_only(code, sample)
    assert done.stdout.strip() == "exit 1"
    assert done.stderr == (
        'ERROR primes.toml:4: `release.version`: \'1.0-rc1\' is not a version (e.g. "2", "1.1")\n'
    )


VERSIONS = [
    "1",
    "2",
    "1.0",
    "1.0.0",
    "0",
    "0.1",
    "10.20.30",
    "1a1",
    "1.0b2",
    "1.0rc1",
    "1.0.post1",
    "1.0.dev3",
    "1.0rc1.post2.dev3",
    "2!1.0",
    "1.0+local",
    "1.0+abc.5",
    "1.0-rc1",
    "1.0.0-alpha",
    "01",
    "1.01",
    "v1",
    "1.0RC1",
    "0!1",
    "1.0_post1",
    "1.0.post",
    "1.0+ABC",
    "1.0c1",
    "1.0pre1",
    "1.0-1",
    "1.*",
    "x",
    "1..0",
]


@pytest.mark.parametrize("version", VERSIONS)
def test_the_stdlib_normal_form_agrees_with_packaging(version: str) -> None:
    try:
        normal = str(Version(version)) == version
    except InvalidVersion:
        normal = False
    assert bool(versions.NORMAL.match(version)) == normal


@pytest.mark.parametrize(
    ("text", "valid"),
    [(">=3.11", True), (">=3.11,<4", True), ("==3.*", True), ("~=3.11", True), ("", True)],
)
def test_the_stdlib_specifier_check_accepts_specifiers(text: str, valid: bool) -> None:
    assert bool(versions.SPECIFIER.match(text)) == valid


@pytest.mark.parametrize("text", ["3.11", ">=", "=>3.11", ">=3.11;"])
def test_the_stdlib_specifier_check_refuses_what_packaging_refuses(text: str) -> None:
    assert not versions.SPECIFIER.match(text)
    assert not versions.is_specifier(text)
