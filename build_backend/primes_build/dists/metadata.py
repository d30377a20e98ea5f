"""Core metadata (PKG-INFO / METADATA) of the release distribution, from the root pyproject.toml."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from primes_build.errors import BuildError
from primes_build.project import schema, tomlfile
from primes_build.project.config import ReleaseConfig

_NAME = re.compile(r"^([A-Z0-9]|[A-Z0-9][A-Z0-9._-]*[A-Z0-9])$", re.IGNORECASE)
"""A PEP 508 distribution name."""
_README_TYPES = {".md": "text/markdown", ".rst": "text/x-rst", ".txt": "text/plain"}
FIELDS = (
    ("metadata_version", "Metadata-Version"),
    ("name", "Name"),
    ("version", "Version"),
    ("summary", "Summary"),
    ("requires_python", "Requires-Python"),
    ("description_content_type", "Description-Content-Type"),
)
"""The single-valued core metadata fields written, in order, as other backends spell them."""


@dataclass(frozen=True)
class Distribution:
    """The release as a Python distribution: its name, version and core metadata."""

    name: str
    version: str
    metadata: bytes

    @property
    def filename_name(self) -> str:
        """The name as wheel and sdist file names spell it (PEP 491/625)."""
        return re.sub(r"[-_.]+", "_", self.name).lower()


def distribution(root: Path, config: ReleaseConfig) -> Distribution:
    """The release's distribution: [project] name/description, primes.toml's version."""
    doc = tomlfile.load(root / "pyproject.toml", "pyproject.toml")
    project = schema.table_of(doc, doc.data, "", "project")
    name = schema.get(doc, project, "project", "name", str, default=config.name)
    raw: dict[str, Any] = {
        "metadata_version": "2.4",
        "name": name,
        "version": config.version,
        "requires_python": config.requires_python,
    }
    summary = schema.get(doc, project, "project", "description", str)
    if summary:
        raw["summary"] = summary
    readme = project.get("readme")
    if isinstance(readme, str) and (root / readme).is_file():
        raw["description"] = (root / readme).read_text(encoding="utf-8")
        raw["description_content_type"] = _README_TYPES.get(Path(readme).suffix, "text/plain")
    _check(raw)
    return Distribution(name=name, version=config.version, metadata=rfc822(raw))


def _check(raw: dict[str, Any]) -> None:
    """The fields' forms: a PEP 508 name, a one-line summary (primes_build.project.config has
    checked the version and requires-python)."""
    if not _NAME.match(str(raw["name"])):
        raise BuildError(
            f"invalid core metadata: {raw['name']!r} is not a valid project name",
            file="pyproject.toml",
            key="project.name",
        )
    if "\n" in str(raw.get("summary", "")):
        raise BuildError(
            "invalid core metadata: the description must be one line",
            file="pyproject.toml",
            key="project.description",
        )


def rfc822(raw: dict[str, Any]) -> bytes:
    """PKG-INFO / METADATA text: `Field-Name: value` lines, then the description as the body."""
    values: dict[str, object] = dict(raw)
    lines = [f"{field}: {values[key]}\n" for key, field in FIELDS if key in values]
    text = "".join(lines)
    description = raw.get("description")
    if description:
        text += "\n" + description
    return text.encode("utf-8")
