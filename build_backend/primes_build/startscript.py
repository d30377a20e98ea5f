"""The start script bin/<release>, rendered from rel/templates/start.sh.j2 or primes-build's own."""

from __future__ import annotations

import jinja2

from primes_build import overlay
from primes_build.config import ReleaseConfig
from primes_build.errors import BuildError

START_SCRIPT = "templates/start.sh.j2"


def render(config: ReleaseConfig) -> bytes:
    """The start script text for this release."""
    source = overlay.resolve(config.root, START_SCRIPT)
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(source.path.parent),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        autoescape=False,
    )
    try:
        template = env.get_template(source.path.name)
        text = template.render(
            release_name=config.name,
            release_version=config.version,
            requires_python=config.requires_python,
            python_min=config.python_min,
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
