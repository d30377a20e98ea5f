"""Core metadata (PKG-INFO / METADATA) of the release distribution, from the root pyproject.toml."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from packaging.metadata import Metadata, RawMetadata

from primes_build import schema, tomlfile
from primes_build.config import ReleaseConfig
from primes_build.errors import BuildError

_README_TYPES = {".md": "text/markdown", ".rst": "text/x-rst", ".txt": "text/plain"}


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
    raw: RawMetadata = {
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
    if not hasattr(Metadata, "as_rfc822"):
        raise BuildError("the build needs packaging>=26 (Metadata.as_rfc822); upgrade packaging")
    metadata = Metadata.from_raw(raw)
    return Distribution(name=name, version=config.version, metadata=bytes(metadata.as_rfc822()))
