"""`primes new NAME`: a release project that builds and boots as created, from skeleton/."""

from __future__ import annotations

import keyword
import re
import shutil
import tempfile
from pathlib import Path

import jinja2

from primes_build.errors import BuildError
from primes_build.version import primes_build_version

SKELETON = Path(__file__).with_name("skeleton")
APP_DIR = "__app__"
"""The skeleton's placeholder for the app's name in paths."""
RENAMES = {"gitignore": ".gitignore"}
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


def check_name(name: str) -> None:
    """A release name: lower-case letters, digits and _, a letter first, no Python keyword."""
    if not _NAME.match(name) or keyword.iskeyword(name) or name.endswith("_"):
        raise BuildError(
            f"bad name {name!r}: use lower-case letters, digits and _ (a letter first, "
            "not a Python keyword), e.g. kvnode"
        )


def app_name(name: str) -> str:
    """The scaffold's one app: `<name>_app`."""
    return f"{name}_app"


def skeleton_files() -> list[Path]:
    """Every template of the skeleton, relative to it, sorted."""
    return sorted(p.relative_to(SKELETON) for p in SKELETON.rglob("*.j2") if p.is_file())


def target_path(template: Path, app: str) -> str:
    """Where a template lands in the new project: `.j2` dropped, `__app__` named."""
    parts = [app if part == APP_DIR else part for part in template.with_suffix("").parts]
    parts[-1] = RENAMES.get(parts[-1], parts[-1])
    return "/".join(parts)


def render(name: str) -> dict[str, str]:
    """The new project's files: relative POSIX path -> text."""
    check_name(name)
    app = app_name(name)
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(SKELETON),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        autoescape=False,
    )
    values = {"name": name, "app": app, "primes_version": primes_build_version()}
    return {
        target_path(t, app): env.get_template(t.as_posix()).render(**values)
        for t in skeleton_files()
    }


def create(name: str, parent: Path) -> Path:
    """Write the project `parent/name`, all at once (never into an existing path)."""
    files = render(name)
    target = parent / name
    if target.exists() or target.is_symlink():
        raise BuildError(f"{target} already exists; choose another name or remove it first")
    if not parent.is_dir():
        raise BuildError(f"{parent} is not a directory")
    staging = Path(tempfile.mkdtemp(prefix=f".{name}-", dir=parent))
    try:
        for rel, text in files.items():
            path = staging / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
        staging.rename(target)
    except OSError as exc:
        shutil.rmtree(staging, ignore_errors=True)
        raise BuildError(f"cannot create {target}: {exc.strerror or exc}") from None
    return target
