"""`-C sign-key=PATH`: sign the release package with `ssh-keygen -Y sign -n primes-release`."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from primes_build.errors import BuildError
from primes_build.package.tarball import write_atomic

NAMESPACE = "primes-release"
"""The ssh signature namespace a node verifies (primes_runtime.release.signature)."""


def sign(package: Path, key: Path) -> Path:
    """Write `<package>.sig` next to the package, signed with the private key at `key`."""
    keygen = shutil.which("ssh-keygen")
    if keygen is None:
        raise BuildError("-C sign-key: ssh-keygen is not installed; install openssh-client")
    if not key.is_file():
        raise BuildError(f"-C sign-key={key}: no such key file; give an ssh private key")
    command = [keygen, "-Y", "sign", "-q", "-f", str(key), "-n", NAMESPACE]
    with package.open("rb") as data:
        done = subprocess.run(command, stdin=data, capture_output=True, timeout=120, check=False)
    if done.returncode != 0 or not done.stdout:
        why = " ".join(done.stderr.decode("utf-8", "replace").split()) or "no signature written"
        raise BuildError(f"-C sign-key={key}: ssh-keygen could not sign {package.name} ({why})")
    target = package.with_name(package.name + ".sig")
    write_atomic(target, done.stdout)
    return target
