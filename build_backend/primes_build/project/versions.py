"""PEP 440 checks: packaging's where it is installed, a strict stdlib form where it is not.

The sdist hook runs in an environment holding nothing but the stdlib (`python -m build`'s
isolated sdist env: [build-system] requires is empty, so that env costs no install); the wheel
hook always has packaging (get_requires_for_build_wheel asks for it) and checks fully.
"""

from __future__ import annotations

import importlib.util
import re

from primes_runtime.formats import version

NORMAL = version.NORMAL
"""A version in PEP 440's normal form (what str(packaging.version.Version(v)) gives)."""
_CLAUSE = r"\s*(?:~=|==|!=|<=|>=|<|>|===)\s*[A-Za-z0-9.*+!_-]+\s*"
SPECIFIER = re.compile(rf"^(?:{_CLAUSE}(?:,{_CLAUSE})*)?$")
"""A comma-separated list of PEP 440 version clauses."""


def have_packaging() -> bool:
    """Whether packaging is importable here."""
    return importlib.util.find_spec("packaging") is not None


def normal_form(version: str) -> str | None:
    """The version's normal form; None when it is not a PEP 440 version.

    Without packaging only a version already in normal form is recognised.
    """
    if not have_packaging():
        return version if NORMAL.match(version) else None
    from packaging.version import InvalidVersion, Version

    try:
        return str(Version(version))
    except InvalidVersion:
        return None


def is_specifier(text: str) -> bool:
    """Whether `text` is a PEP 440 version specifier (e.g. ">=3.11")."""
    if not have_packaging():
        return SPECIFIER.match(text) is not None
    from packaging.specifiers import InvalidSpecifier, SpecifierSet

    try:
        SpecifierSet(text)
    except InvalidSpecifier:
        return False
    return True


def allows(specifier: str, python: str) -> bool:
    """Whether the specifier admits Python `python` ("3.12"); True where packaging is absent
    (the wheel hook, which always has it, checks again)."""
    if not have_packaging():
        return True
    from packaging.specifiers import SpecifierSet

    return SpecifierSet(specifier).contains(f"{python}.0", prereleases=True) or SpecifierSet(
        specifier
    ).contains(python, prereleases=True)
