"""`python -m build` on a sample project, as a user runs it (no isolation: no downloads)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.build_backend.helpers import set_version, use_broken


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
        "known: previous, sign-key, wheelhouse"
    ], done.stderr
    assert "Traceback" not in done.stdout + done.stderr
    assert not out.exists() or not [p for p in out.iterdir() if p.name.endswith(".tar.gz")]


def test_a_rebuild_with_new_content_under_the_same_release_version_is_refused(
    sample: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    assert python_m_build(sample, "--wheel", "--outdir", str(out)).returncode == 0
    package = out / "sample_1.tar.gz"
    before = package.read_bytes()
    assert python_m_build(sample, "--wheel", "--outdir", str(out)).returncode == 0
    assert package.read_bytes() == before  # same content: a reproducible rebuild is fine
    set_version(sample / "apps" / "beta" / "pyproject.toml", "2")
    module = sample / "apps" / "beta" / "beta" / "app.py"
    module.write_text(module.read_text() + "\nVERSION = 2\n")
    done = python_m_build(sample, "--wheel", "--outdir", str(out))
    assert done.returncode != 0
    errors = [line for line in done.stderr.splitlines() if line.startswith("ERROR")]
    assert errors[0] == (
        f"ERROR {package} already exists with different content; a released package never "
        "changes: bump release.version in primes.toml (or delete that file if it was never "
        "deployed)"
    )
    assert "Traceback" not in done.stderr
    assert package.read_bytes() == before


def test_sign_key_writes_a_signature_that_ssh_keygen_verifies(sample: Path, tmp_path: Path) -> None:
    key = tmp_path / "release-key"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)], check=True)
    out = tmp_path / "out"
    done = python_m_build(sample, "--wheel", "--outdir", str(out), f"-Csign-key={key}")
    assert done.returncode == 0, done.stderr
    package, sig = out / "sample_1.tar.gz", out / "sample_1.tar.gz.sig"
    assert f"    signed {sig}" in done.stdout.splitlines()
    allowed = tmp_path / "allowed_signers"
    allowed.write_text(f'me namespaces="primes-release" {key.with_suffix(".pub").read_text()}')
    with package.open("rb") as data:
        verify = ["ssh-keygen", "-Y", "verify", "-f", str(allowed), "-n", "primes-release"]
        verified = subprocess.run(
            [*verify, "-I", "me", "-s", str(sig)],
            stdin=data,
            capture_output=True,
            check=False,
        )
    assert verified.returncode == 0, verified.stderr


def test_a_sign_key_that_does_not_exist_fails_with_one_line(sample: Path, tmp_path: Path) -> None:
    out = str(tmp_path / "out")
    done = python_m_build(sample, "--wheel", "--outdir", out, "-Csign-key=/no/key")
    assert "ERROR -C sign-key=/no/key: no such key file; give an ssh private key" in done.stderr
    assert done.returncode != 0 and "Traceback" not in done.stderr
