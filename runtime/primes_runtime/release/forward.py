"""`upgrade` goes forward only (to a release newer than the permanent one), `downgrade` back."""

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


def refuse_unless_older(version: str, current: str, script: str | None) -> None:
    """Refuse a downgrade to `version` unless it goes back from `current`: a script between
    them says which way (`script`: "up", "down" or None), else PEP 440 orders them."""
    if script == "down":
        return
    verdict = None if script == "up" else versions.newer(current, version)
    if script == "up" or verdict is False:
        raise ReleaseError(
            f"release {version} is not older than the current release {current}; downgrade "
            f"only goes back: to go there, run upgrade {version}"
        )
    if verdict is None:
        raise ReleaseError(
            f"cannot tell whether release {version} is older than the current release "
            f"{current} (no script between them, not both PEP 440 versions); to go there "
            f"anyway, run install {version} then permanent {version}"
        )
