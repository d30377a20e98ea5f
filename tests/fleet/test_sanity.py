"""The collection's sanity checks with the tool Ansible provides (ansible-test, validate-modules).

`ansible-test sanity` runs here for every test that needs no virtual environment of its own;
the others bootstrap pip from a download host this machine cannot reach (docs/fleet.md), so
validate-modules, the one that checks DOCUMENTATION against the argument_spec, runs directly
from ansible-test's own copy with the dev venv's pinned requirements.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import ansible_test

from tests.fleet.fleet import BIN, REPO

COLLECTION = REPO / "ansible_collections" / "primes" / "release"
LOCAL_TESTS = (
    "action-plugin-docs",
    "compile",
    "empty-init",
    "ignores",
    "line-endings",
    "no-assert",
    "no-get-exception",
    "no-illegal-filenames",
    "no-smart-quotes",
    "replace-urlopen",
    "shebang",
    "symlinks",
    "use-argspec-type-path",
    "use-compat-six",
)
UTIL = Path(ansible_test.__file__).parent / "_util"
VALIDATOR = UTIL / "controller" / "sanity" / "validate-modules"


def copy_collection(tmp_path: Path) -> Path:
    """The collection at <tmp>/ansible_collections/primes/release (where ansible-test wants it)."""
    dest = tmp_path / "ansible_collections" / "primes" / "release"
    shutil.copytree(COLLECTION, dest, ignore=shutil.ignore_patterns("output", "__pycache__"))
    return dest


def test_ansible_test_sanity_passes_every_check_that_runs_without_its_own_venv(
    tmp_path: Path,
) -> None:
    where = copy_collection(tmp_path)
    python = f"{sys.version_info.major}.{sys.version_info.minor}"
    argv = [str(BIN / "ansible-test"), "sanity", "--local", "--python", python]
    for name in LOCAL_TESTS:
        argv += ["--test", name]
    proc = subprocess.run(argv, cwd=where, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.count("Running sanity test") == len(LOCAL_TESTS)


def ignored(where: Path) -> set[tuple[str, str]]:
    """(path, code) pairs of tests/sanity/ignore-2.19.txt for validate-modules."""
    pairs = set()
    for line in (where / "tests" / "sanity" / "ignore-2.19.txt").read_text().splitlines():
        path, _, rest = line.partition(" ")
        test = rest.split("#")[0].strip()
        if test.startswith("validate-modules:"):
            pairs.add((path, test.split(":", 1)[1]))
    return pairs


def test_validate_modules_finds_the_documentation_matching_the_argument_spec(
    tmp_path: Path,
) -> None:
    where = copy_collection(tmp_path)
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(
            [str(VALIDATOR), str(UTIL / "controller"), str(UTIL / "target")]
        ),
        "ANSIBLE_COLLECTIONS_PATH": str(tmp_path),
    }
    module = "plugins/modules/primes_release.py"
    argv = [sys.executable, str(VALIDATOR / "validate.py"), "--format", "json", "--arg-spec"]
    argv += ["--collection", "ansible_collections/primes/release", "--collection-version", "1.0.0"]
    argv += ["--plugin-type", "module", module]
    proc = subprocess.run(argv, cwd=where, env=env, capture_output=True, text=True, timeout=300)
    report = json.loads(proc.stdout) if proc.stdout.strip() else {}
    errors = [
        (path, error["code"], error["msg"])
        for path, found in report.items()
        for error in found["errors"]
        if (path, error["code"]) not in ignored(where)
    ]
    assert errors == [], proc.stderr
    assert proc.returncode in (0, 3), proc.stderr  # 3: only ignored findings were reported


def test_the_built_collection_claims_no_licence_and_ships_the_file_saying_so(
    tmp_path: Path,
) -> None:
    built = subprocess.run(
        [str(BIN / "ansible-galaxy"), "collection", "build", "--output-path", str(tmp_path)],
        cwd=COLLECTION, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert built.returncode == 0, built.stdout + built.stderr
    (archive,) = tmp_path.glob("primes-release-*.tar.gz")
    listed = subprocess.run(
        ["tar", "-xzf", str(archive), "-O", "MANIFEST.json"], capture_output=True, check=True
    )
    info = json.loads(listed.stdout)["collection_info"]
    assert info["license"] == [] and info["license_file"] == "LICENSE"
    licence = (COLLECTION / "LICENSE").read_text(encoding="utf-8")
    assert "has not chosen a licence" in licence
    assert "has not chosen a licence" in (REPO / "docs" / "fleet.md").read_text(encoding="utf-8")
