"""Signed packages: a tree with releases/allowed_signers accepts only packages that verify.

The build writes `<package>.sig` with `ssh-keygen -Y sign -n primes-release`; here
`ssh-keygen -Y find-principals` names the signer and `ssh-keygen -Y verify` checks the
signature against releases/allowed_signers (format: ssh-keygen(1), ALLOWED SIGNERS).
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import IO, TYPE_CHECKING

from .errors import ReleaseError

if TYPE_CHECKING:
    import subprocess

NAMESPACE = "primes-release"
ALLOWED_SIGNERS = "allowed_signers"


def signers_file(root: Path) -> Path:
    """Where a deployed tree keeps the keys it trusts."""
    return root / "releases" / ALLOWED_SIGNERS


def mode(root: Path) -> str:
    """'signed' if the tree accepts only signed packages, else 'unsigned'."""
    return "signed" if signers_file(root).exists() else "unsigned"


def signature_of(package: Path) -> Path:
    """`<package>.sig`, next to the package."""
    return package.with_name(package.name + ".sig")


def check(package: Path, data: IO[bytes], root: Path) -> None:
    """Refuse `package` (open as `data`) unless the tree is unsigned or its signature verifies.

    The signature is checked over the bytes of `data`, the handle the unpack then reads.
    Nothing is written.
    """
    allowed = signers_file(root)
    if not allowed.exists():
        return
    _refuse_untrusted(package, allowed)
    sig = signature_of(package)
    if not sig.is_file():
        raise ReleaseError(
            f"{package}: refused, no signature {sig.name} next to it; this node accepts only "
            f"packages signed by a key in {allowed} (build with -C sign-key=PATH)"
        )
    import shutil  # checking a signature is rare; `mode` is on every `versions`' path

    keygen = shutil.which("ssh-keygen")
    if keygen is None:
        raise ReleaseError(
            f"{package}: refused, ssh-keygen is not installed and {allowed} asks for signed "
            "packages; install openssh-client"
        )
    found = _run([keygen, "-Y", "find-principals", "-f", str(allowed), "-s", str(sig)])
    principals = found.stdout.split() if found.returncode == 0 else []
    if not principals:
        raise ReleaseError(
            f"{package}: refused, {sig.name} is not signed by any key in {allowed}; "
            "the package is not from a trusted builder"
        )
    verify = [keygen, "-Y", "verify", "-f", str(allowed), "-n", NAMESPACE, "-s", str(sig)]
    for principal in principals:
        data.seek(0)
        verified = _run([*verify, "-I", principal], stdin=data)
        if verified.returncode == 0:
            return
    raise ReleaseError(
        f"{package}: refused, its signature {sig.name} does not verify against {allowed}; "
        "the package was changed after it was signed"
    )


def _refuse_untrusted(package: Path, allowed: Path) -> None:
    """Refuse to trust an allowed_signers that anyone but the node's user (or root) can change:
    the file or its directory owned by another user, or writable by group or others."""
    for path in (allowed, allowed.parent):
        try:
            st = os.stat(path)
        except OSError as exc:
            raise ReleaseError(f"{package}: refused, cannot read {path} ({exc})") from None
        if st.st_uid not in (os.geteuid(), 0):
            why = f"is owned by uid {st.st_uid}, not by the node's user"
        elif st.st_mode & 0o022:
            why = f"is writable by group or others (mode {stat.S_IMODE(st.st_mode):04o})"
        else:
            continue
        raise ReleaseError(
            f"{package}: refused, {path} {why}, so others could add their key to "
            f"{allowed}; chown it to the node's user and chmod go-w it"
        )


def _run(argv: list[str], stdin: IO[bytes] | None = None) -> subprocess.CompletedProcess[str]:
    import subprocess

    try:
        return subprocess.run(
            argv,
            stdin=stdin if stdin is not None else subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise ReleaseError(f"running {argv[0]} to check a signature failed ({exc})") from None
