"""Which runtime a release ships when primes.toml has no [runtime] table."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from primes_build.errors import BuildError
from primes_build.package.release import build_release
from primes_build.wheels.runtimesource import installed_runtime

from tests.build_backend.helpers import set_version
from tests.build_backend.package.test_release import members

RECORD = """\
primes_runtime/__init__.py,,
primes_runtime/__pycache__/__init__.cpython-311.pyc,,
primes_runtime-3.dist-info/METADATA,,
primes_runtime-3.dist-info/INSTALLER,,
primes_runtime-3.dist-info/RECORD,,
"""


def fake_site(site: Path, direct_url: dict[str, object] | None = None) -> Path:
    """A site-packages holding a pip-installed primes-runtime 3."""
    (site / "primes_runtime/__pycache__").mkdir(parents=True)
    (site / "primes_runtime/__init__.py").write_text('"""runtime 3"""\n')
    (site / "primes_runtime/__pycache__/__init__.cpython-311.pyc").write_bytes(b"pyc")
    info = site / "primes_runtime-3.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: primes-runtime\nVersion: 3\n")
    (info / "INSTALLER").write_text("pip\n")
    (info / "RECORD").write_text(RECORD)
    if direct_url is not None:
        (info / "direct_url.json").write_text(json.dumps(direct_url))
    return site


def test_an_installed_runtime_is_shipped_as_its_files_without_bytecode_or_installer_notes(
    tmp_path: Path,
) -> None:
    found = installed_runtime([str(fake_site(tmp_path))])
    assert found.version == "3" and found.checkout is None
    assert found.installed is not None
    assert sorted(found.installed.files) == [
        "primes_runtime-3.dist-info/METADATA",
        "primes_runtime/__init__.py",
    ]


def test_an_editable_runtime_is_built_from_its_checkout(tmp_path: Path) -> None:
    checkout = tmp_path / "checkout"
    checkout.mkdir()
    (checkout / "pyproject.toml").write_text('[project]\nname = "primes-runtime"\n')
    url = {"url": checkout.as_uri(), "dir_info": {"editable": True}}
    found = installed_runtime([str(fake_site(tmp_path / "site", url))])
    assert found.installed is None
    assert found.checkout is not None and found.checkout.directory == checkout


def test_no_installed_runtime_is_one_error_naming_both_ways_out(tmp_path: Path) -> None:
    with pytest.raises(BuildError, match=r"primes-runtime is not installed .*\[runtime\] path"):
        installed_runtime([str(tmp_path)])


def test_a_release_without_a_runtime_table_ships_the_installed_runtime(
    sample: Path, tmp_path: Path
) -> None:
    text = (sample / "primes.toml").read_text()
    (sample / "primes.toml").write_text(text.replace('[runtime]\npath = "runtime"\n', ""))
    lines: list[str] = []
    built = build_release(sample, tmp_path / "out", (), lines.append)
    assert "==> primes_runtime 1 (wheel)" in lines  # this venv's editable runtime, built
    files = members(built.path)
    assert "lib/primes_runtime-1/primes_runtime/node.py" in files
    assert files["releases/start_data"] == b"1 lib/primes_runtime-1\n"


def test_a_release_with_a_new_runtime_version_says_it_runs_after_a_restart(
    sample: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    build_release(sample, out, (), lambda line: None)
    set_version(sample / "runtime/pyproject.toml", "8")
    set_version(sample / "primes.toml", "2")
    lines: list[str] = []
    built = build_release(sample, out, (), lines.append)
    assert (
        "    primes_runtime 7 -> 8 (from release 1): an upgrade keeps the running runtime; "
        "the node runs the new one after a restart"
    ) in lines
    assert members(built.path)["releases/start_data"] == b"2 lib/primes_runtime-8\n"
