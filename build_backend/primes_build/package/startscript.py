"""Files rendered from templates: the start script bin/<release> and its systemd unit.

Each comes from the project's rel/templates/<file> if it has one, else primes-build's own.
"""

from __future__ import annotations

import jinja2
from primes_runtime.formats.node_toml import DEFAULT_SHUTDOWN_TIMEOUT

from primes_build.errors import BuildError
from primes_build.project import overlay
from primes_build.project.config import ReleaseConfig

START_SCRIPT = "templates/start.sh.j2"
UNIT = "templates/unit.service.j2"
"""The systemd unit, shipped as releases/<vsn>/<name>@.service (docs/fleet.md)."""


def render(config: ReleaseConfig, template: str = START_SCRIPT) -> bytes:
    """The start script text for this release (or, with `template`, that template's)."""
    source = overlay.resolve(config.root, template)
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(source.path.parent),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        autoescape=False,
    )
    shutdown = config.node.get("shutdown_timeout", DEFAULT_SHUTDOWN_TIMEOUT)
    try:
        text = env.get_template(source.path.name).render(
            release_name=config.name,
            release_version=config.version,
            requires_python=config.requires_python,
            python_min=config.python_min,
            stop_timeout=int(float(shutdown)) + 10,
        )
    except jinja2.TemplateSyntaxError as exc:
        raise BuildError(
            f"template error: {exc.message}", file=source.shown, line=exc.lineno
        ) from None
    except jinja2.TemplateNotFound as exc:
        raise BuildError(f"template {exc.name} not found", file=source.shown) from None
    except jinja2.UndefinedError as exc:
        raise BuildError(f"template error: {exc.message}", file=source.shown) from None
    return text.encode("utf-8")
