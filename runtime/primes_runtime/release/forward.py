"""`upgrade` goes forward only: to a release newer than the permanent one; back is `downgrade`."""

from __future__ import annotations

from primes_runtime.formats import version as versions

from .errors import ReleaseError


def refuse_unless_newer(version: str, permanent: str) -> None:
    """Refuse `version` unless PEP 440 orders it after the permanent release."""
    verdict = versions.newer(version, permanent)
    if verdict is None:
        raise ReleaseError(
            f"cannot tell whether release {version} is newer than the permanent release "
            f"{permanent} (not both PEP 440 versions); to go there anyway, run install {version} "
            f"then permanent {version}"
        )
    if not verdict:
        raise ReleaseError(
            f"release {version} is not newer than the permanent release {permanent}; upgrade "
            f"only goes forward: to go back, run downgrade {version}"
        )
