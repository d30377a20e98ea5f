"""A tree with releases/allowed_signers runs only packages signed by a key it trusts."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from .conftest import Script, make_package, repack


def keypair(directory: Path, name: str) -> Path:
    """A fresh ed25519 key without a passphrase; the private key's path."""
    key = directory / name
    subprocess.run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", name, "-f", str(key)], check=True
    )
    return key


def trust(root: Path, *keys: Path) -> None:
    """Write releases/allowed_signers naming each key's public half."""
    lines = [
        f'{key.name}@builders namespaces="primes-release" {key.with_suffix(".pub").read_text()}'
        for key in keys
    ]
    (root / "releases" / "allowed_signers").write_text("".join(lines))


def sign(package: Path, key: Path) -> None:
    """`<package>.sig`, as `-C sign-key=` writes it."""
    with package.open("rb") as data:
        signed = subprocess.run(
            ["ssh-keygen", "-Y", "sign", "-q", "-f", str(key), "-n", "primes-release"],
            stdin=data,
            capture_output=True,
            check=True,
        )
    package.with_name(package.name + ".sig").write_bytes(signed.stdout)


def tamper(package: Path) -> None:
    """Rewrite demo_api.py and recompute SHA256SUMS: what an attacker with the file can do."""

    def owned(files: dict[str, bytes]) -> None:
        files["lib/demo_app-2/demo_api.py"] += b"\ndef owned():\n    return 'evil'\n"

    repack(package, owned)


def refused(node: Script, package: Path, reason: str) -> None:
    releases = sorted(p.name for p in (node.root / "releases").iterdir())
    result = node.run("upgrade", str(package))
    assert result.returncode != 0
    assert reason in result.stderr, result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert sorted(p.name for p in (node.root / "releases").iterdir()) == releases
    assert not (node.root / "lib" / "demo_app-2").exists()
    assert node.ok("rpc", "demo_api", "add", "1", "2") == "3\n"


@pytest.fixture
def trusted(tmp_path: Path, running: Script) -> tuple[Script, Path]:
    key = keypair(tmp_path, "release-key")
    trust(running.root, key)
    return running, key


def test_an_unsigned_package_is_refused_by_a_tree_with_allowed_signers(
    trusted: tuple[Script, Path], tmp_path: Path
) -> None:
    node, _ = trusted
    refused(node, make_package(tmp_path), "no signature primenode_2.tar.gz.sig")


def test_a_package_tampered_with_after_signing_is_refused_and_its_code_never_runs(
    trusted: tuple[Script, Path], tmp_path: Path
) -> None:
    node, key = trusted
    package = make_package(tmp_path)
    sign(package, key)
    tamper(package)
    refused(node, package, "does not verify")
    assert node.run("rpc", "demo_api", "owned").returncode != 0


def test_a_package_signed_by_an_unknown_key_is_refused(
    trusted: tuple[Script, Path], tmp_path: Path
) -> None:
    node, _ = trusted
    package = make_package(tmp_path)
    sign(package, keypair(tmp_path, "stranger"))
    refused(node, package, "not signed by any key in")


def test_a_package_signed_by_a_trusted_key_upgrades_and_status_says_signed(
    trusted: tuple[Script, Path], tmp_path: Path
) -> None:
    node, key = trusted
    package = make_package(tmp_path)
    sign(package, key)
    upgraded = node.run("upgrade", str(package))
    assert upgraded.returncode == 0, upgraded.stderr
    assert "primenode: packages: signed only (releases/allowed_signers)" in upgraded.stderr
    assert node.ok("rpc", "demo_api", "version") == "two\n"
    assert "packages: signed only (releases/allowed_signers)" in node.ok("status")


def test_a_rotated_key_is_trusted_alongside_the_old_one_until_the_old_is_removed(
    trusted: tuple[Script, Path], tmp_path: Path
) -> None:
    node, old = trusted
    new = keypair(tmp_path, "next-key")
    trust(node.root, old, new)
    package = make_package(tmp_path)
    sign(package, new)
    node.ok("unpack", str(package))
    node.ok("uninstall", "2")
    trust(node.root, new)
    sign(package, old)
    refused(node, package, "not signed by any key in")


def test_a_tree_without_allowed_signers_accepts_unsigned_packages_and_says_so(
    running: Script, tmp_path: Path
) -> None:
    assert "packages: unsigned accepted (no releases/allowed_signers)" in running.ok("status")
    package = make_package(tmp_path)
    unpacked = running.run("unpack", str(package))
    assert unpacked.returncode == 0, unpacked.stderr
    assert "primenode: packages: unsigned accepted" in unpacked.stderr
    upgraded = running.run("upgrade", str(package))
    assert upgraded.returncode == 0, upgraded.stderr
    assert "primenode: packages: unsigned accepted" in upgraded.stderr
    assert running.ok("rpc", "demo_api", "version") == "two\n"


def test_commands_that_read_no_package_say_nothing_about_signatures(running: Script) -> None:
    for command in (("ping",), ("versions",), ("install", "1"), ("stop",)):
        done = running.run(*command)
        assert "packages:" not in done.stdout + done.stderr, (command, done.stderr)


@pytest.mark.parametrize(
    ("target", "change"),
    [
        ("releases/allowed_signers", "chmod 0666"),
        ("releases/allowed_signers", "chmod 0620"),
        ("releases", "chmod 0777"),
        ("releases/allowed_signers", "chown nobody"),
    ],
)
def test_an_allowed_signers_others_can_write_is_not_trusted_and_nothing_is_unpacked(
    trusted: tuple[Script, Path], tmp_path: Path, target: str, change: str
) -> None:
    node, _ = trusted
    path = node.root / target
    if change == "chown nobody":
        os.chown(path, 65534, 65534)
    else:
        path.chmod(int(change.split()[1], 8))
    intruder = keypair(tmp_path, "intruder")
    trust(node.root, intruder)  # what anyone who can write the file (or its directory) can do
    package = make_package(tmp_path)
    tamper(package)
    sign(package, intruder)
    refused(node, package, f"refused, {path} is ")
    assert node.run("rpc", "demo_api", "owned").returncode != 0
