"""Each app's `project.dependencies`, minus the runtime and the release's own apps, with lines."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from primes_build.errors import BuildError
from primes_build.project.tomlfile import TomlFile

KEY = "project.dependencies"
RUNTIME = "primes-runtime"


@dataclass(frozen=True)
class AppRequirement:
    """One third-party requirement of one app, and where it is written."""

    app: str
    shown: str
    """The app's pyproject.toml as shown to the user (`apps/x/pyproject.toml`)."""
    line: int | None
    text: str
    """The requirement as written (`sortedcontainers>=2.4`)."""
    requirement: Requirement

    @property
    def name(self) -> str:
        """The canonical distribution name."""
        return canonicalize_name(self.requirement.name)

    def error(self, message: str) -> BuildError:
        """`apps/x/pyproject.toml:N: project.dependencies: <text> <message>`."""
        return BuildError(f"{KEY}: {self.text} {message}", file=self.shown, line=self.line)


def third_party(app: str, doc: TomlFile, own: Collection[str]) -> list[AppRequirement]:
    """The app's requirements that are not the runtime nor an app of this release."""
    skip = {canonicalize_name(n) for n in (RUNTIME, *own)}
    project = doc.data.get("project")
    raw = project.get("dependencies", []) if isinstance(project, dict) else []
    if not isinstance(raw, list) or not all(isinstance(r, str) for r in raw):
        raise doc.error(KEY, "must be a list of requirement strings")
    found = []
    for text in raw:
        try:
            requirement = Requirement(text)
        except InvalidRequirement as exc:
            raise doc.error(KEY, f"{text!r} is not a requirement ({exc})") from None
        if canonicalize_name(requirement.name) in skip:
            continue
        line = _line_of(doc, text)
        found.append(AppRequirement(app, doc.shown, line, text, requirement))
    return found


def _line_of(doc: TomlFile, text: str) -> int | None:
    """The line holding the quoted requirement at or after the line of project.dependencies."""
    start = doc.line_of(KEY) or 1
    lines = doc.text.splitlines()
    for number in range(start, len(lines) + 1):
        line = lines[number - 1]
        if f'"{text}"' in line or f"'{text}'" in line:
            return number
    return start
