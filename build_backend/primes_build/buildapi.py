"""The PEP 517 hooks of the primes backend; each delegates to one function in primes_build.api."""

from __future__ import annotations

from typing import Any

from primes_build import api


def get_requires_for_build_sdist(config_settings: dict[str, Any] | None = None) -> list[str]:
    """Nothing beyond [build-system] requires."""
    return api.get_requires(config_settings)


def get_requires_for_build_wheel(config_settings: dict[str, Any] | None = None) -> list[str]:
    """What the wheel build imports, and in a fresh env the apps' build requirements."""
    return api.get_requires_for_wheel(config_settings)


def build_sdist(sdist_directory: str, config_settings: dict[str, Any] | None = None) -> str:
    """Write the sdist (everything the wheel build needs)."""
    return api.build_sdist(sdist_directory, config_settings)


def prepare_metadata_for_build_wheel(
    metadata_directory: str, config_settings: dict[str, Any] | None = None
) -> str:
    """Write the wheel's .dist-info without building anything."""
    return api.prepare_metadata(metadata_directory, config_settings)


def build_wheel(
    wheel_directory: str,
    config_settings: dict[str, Any] | None = None,
    metadata_directory: str | None = None,
) -> str:
    """Build the release package <name>_<vsn>.tar.gz and the wheel for pip users."""
    return api.build_wheel(wheel_directory, config_settings)
