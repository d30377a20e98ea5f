"""The library corpus of issue 22: real PyPI version bumps, each used by an app of a project
made with `primes new`, upgraded and downgraded in a running node, then checked inside it.

One `Bump` per library version pair: the app's `uses.py` (it imports the library and
computes one object, which the store keeps in its state), and probes: Python expressions
evaluated inside the node, in `uses.py`'s own namespace (what the app's code sees) plus

- `kept`: the object the store keeps (fetched from the store with a call),
- `LIB`: the absolute path of the library's dir in the release that should be running
  (`<tree>/lib/<name>-<version>/`), `VERSION` its version, `ROOT` the tree,
- `new(obj)`: True when the function (or method, property, staticmethod, classmethod)
  `obj` runs code from `LIB`, else the file it runs from, relative to the tree,
- `refused_port()`: a closed loopback port, for "connection refused" probes.

A probe passes when its value is exactly True; anything else (False, a path, an exception as
`Type: message`) is what the node answered instead. Every probe must pass at version 1
before the upgrade (so a probe that is wrong is found before it blames the runtime), then
with the new version after `upgrade`, then with the old one after `downgrade 1`.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Bump:
    """One library version bump and what checks it inside the node."""

    dist: str
    """The distribution's name on PyPI."""
    old: str
    new: str
    why: str
    """Why it is in the corpus (what it exercises)."""
    uses: str
    """The app's `uses.py` after its docstring: imports and `def compute() -> object`."""
    probes: dict[str, str] = field(default_factory=dict)
    setup: str = ""
    """Statements run before the probes, in their namespace (helper functions)."""
    restart: bool = False
    """Version 2 of the app declares `restart_application` up from 1 and down to 1 (the
    build's way out for a changed compiled extension; the store's state is made anew)."""

    @property
    def slug(self) -> str:
        name = "".join(c if c.isalnum() else "_" for c in self.dist.lower())
        return f"{name}_restart" if self.restart else name

    @property
    def release(self) -> str:
        """The release's (and node's) name; its app is `<release>_app`."""
        return f"c_{self.slug}"

    @property
    def label(self) -> str:
        how = ", restart_application" if self.restart else ""
        return f"{self.dist} {self.old} -> {self.new}{how}"


REFUSED_GET = '''
def refused(get, caught):
    """What `get(url)` raises for a closed loopback port: True if `caught` catches it."""
    url = f"http://127.0.0.1:{refused_port()}/"
    try:
        get(url)
    except caught:
        return True
    except Exception as exc:
        mro = [f"{c.__module__}.{c.__qualname__}" for c in type(exc).__mro__]
        return f"not caught: {new(type(exc).__init__)} {mro[:3]}"
    return "no exception"
'''

MARKUPSAFE_USES = (
    "import markupsafe\nfrom markupsafe import Markup\n\n\n"
    "def compute() -> object:\n    return Markup('<b>%s</b>') % '<i>'\n"
)
MARKUPSAFE_PROBES = {
    "isinstance(kept, markupsafe.Markup)": "isinstance(kept, markupsafe.Markup)",
    "the app's `from` Markup is markupsafe.Markup": "Markup is markupsafe.Markup",
    "the kept Markup's striptags": "new(type(kept).striptags)",
    "markupsafe.escape's module": (
        "sys.modules[markupsafe.escape.__module__].__file__.startswith(LIB)"
    ),
    "markupsafe._speedups": (
        "'markupsafe._speedups' not in sys.modules or "
        "sys.modules['markupsafe._speedups'].__file__.startswith(LIB)"
    ),
    "escaping works": "str(markupsafe.escape('<a>')) == '&lt;a&gt;'",
}

BUMPS: tuple[Bump, ...] = (
    Bump(
        "idna",
        "3.7",
        "3.10",
        "the package re-exports core's functions (`from .core import encode`); the app binds one "
        "with `from idna import encode`; version string in a submodule (package_data)",
        "import idna\nfrom idna import encode\n\n\ndef compute() -> object:\n"
        '    return encode("ドメイン.テスト")\n',
        {
            "idna.encode": "new(idna.encode)",
            "idna.core.encode": "new(idna.core.encode)",
            "the app's `from idna import encode`": "new(encode)",
            "idna.__version__": "idna.__version__ == VERSION",
            "idna.package_data.__version__": "idna.package_data.__version__ == VERSION",
            "idna.decode(kept)": 'idna.decode(kept) == "ドメイン.テスト"',
        },
    ),
    Bump(
        "requests",
        "2.31.0",
        "2.32.3",
        "an exception hierarchy over urllib3's; heavy re-exports; `requests.__version__` is a "
        "string beside a submodule `requests.__version__`; the state keeps a Session",
        "import requests\nfrom requests.exceptions import ConnectionError as Refused\n\n\n"
        "def compute() -> object:\n    return requests.Session()\n",
        {
            "requests.__version__ (a str)": "requests.__version__ == VERSION",
            "requests.get": "new(requests.get)",
            "requests.api.request": "new(requests.api.request)",
            "isinstance(kept, requests.Session)": "isinstance(kept, requests.Session)",
            "the kept Session's request": "new(type(kept).request)",
            "except requests.exceptions.ConnectionError, requests.get": (
                "refused(lambda u: requests.get(u, timeout=5), requests.exceptions.ConnectionError)"
            ),
            "except the app's `from` ConnectionError, kept Session": (
                "refused(lambda u: kept.get(u, timeout=5), Refused)"
            ),
        },
        setup=REFUSED_GET,
    ),
    Bump(
        "certifi",
        "2024.2.2",
        "2024.8.30",
        "a data file (cacert.pem) found through importlib.resources; where() caches its path "
        "in module globals; the state keeps the function certifi.where itself",
        "import certifi\n\n\ndef compute() -> object:\n    certifi.where()\n"
        "    return certifi.where\n",
        {
            "certifi.where() in the new dir": "certifi.where().startswith(LIB)",
            "the kept certifi.where()": "kept().startswith(LIB)",
            "certifi.where": "new(certifi.where)",
            "certifi.__version__ (zero-padded)": (
                "certifi.__version__.split('.') == [f'{int(n):02}' for n in VERSION.split('.')]"
                " or certifi.__version__ == VERSION"
            ),
            "certifi.contents() is where()'s file": (
                "certifi.contents() == open(certifi.where(), encoding='ascii').read()"
            ),
        },
    ),
    Bump(
        "urllib3",
        "1.26.20",
        "2.2.3",
        "a major bump: 2.x drops modules (packages.six, contrib.securetransport, ...) and adds "
        "others (_base_connection, ...); the state keeps a PoolManager",
        "import urllib3\nfrom urllib3.exceptions import NewConnectionError\n\n\n"
        "def compute() -> object:\n    return urllib3.PoolManager(num_pools=2)\n",
        {
            "urllib3.__version__": "urllib3.__version__ == VERSION",
            "isinstance(kept, urllib3.PoolManager)": "isinstance(kept, urllib3.PoolManager)",
            "the kept PoolManager's urlopen": "new(type(kept).urlopen)",
            "urllib3.util.parse_url": "new(urllib3.util.parse_url)",
            "the app's `from` NewConnectionError catches a refusal": (
                "refused(lambda u: urllib3.PoolManager().request('GET', u, retries=False), "
                "NewConnectionError)"
            ),
            "the kept PoolManager's refusal is caught": (
                "refused(lambda u: kept.request('GET', u, retries=False), "
                "urllib3.exceptions.NewConnectionError)"
            ),
        },
        setup=REFUSED_GET,
    ),
    Bump(
        "packaging",
        "23.2",
        "24.2",
        "24.2 adds a subpackage (packaging.licenses); version classes with cached keys; the "
        "state keeps a Version and the app binds `from packaging.version import Version`",
        "import packaging.specifiers\nimport packaging.version\n"
        "from packaging.version import Version\n\n\n"
        'def compute() -> object:\n    return Version("1.2.3")\n',
        {
            "packaging.__version__": "packaging.__version__ == VERSION",
            "isinstance(kept, packaging.version.Version)": (
                "isinstance(kept, packaging.version.Version)"
            ),
            "the app's `from` Version is the module's": "Version is packaging.version.Version",
            "the kept Version's __init__": "new(type(kept).__init__)",
            "packaging.version.parse": "new(packaging.version.parse)",
            "SpecifierSet('>=1').contains(kept)": (
                "packaging.specifiers.SpecifierSet('>=1').contains(kept)"
            ),
            "24.2's new subpackage imports from the new dir": (
                "VERSION < '24.2' or "
                "importlib.import_module('packaging.licenses').__file__.startswith(LIB)"
            ),
        },
    ),
    Bump(
        "attrs",
        "23.1.0",
        "24.2.0",
        "two top-level packages (attr and attrs, one re-exporting the other); generated "
        "methods; the state keeps an instance of an attrs class (attrs.Factory)",
        "import attr\nimport attrs\n\n\n@attrs.define\nclass Point:\n    x: int\n    y: int\n\n\n"
        "def compute() -> object:\n    return attrs.Factory(list)\n",
        {
            "attrs.define": "new(attrs.define)",
            "attr.s": "new(attr.s)",
            "attrs.asdict": "new(attrs.asdict)",
            "isinstance(kept, attrs.Factory)": "isinstance(kept, attrs.Factory)",
            "attrs.Factory is attr.Factory": "attrs.Factory is attr.Factory",
            "a new attrs class works": (
                "attrs.asdict(attrs.make_class('P', ['a'])(1)) == {'a': 1}"
            ),
        },
    ),
    Bump(
        "click",
        "8.1.7",
        "8.2.1",
        "a minor bump with a large refactor of core; the state keeps a click.Command made by "
        "decorators in the app",
        "import click\n\n\n@click.command()\n@click.option('--n', default=1)\n"
        "def hello(n: int) -> int:\n    return n\n\n\n"
        "def compute() -> object:\n    return hello\n",
        {
            "isinstance(kept, click.Command)": "isinstance(kept, click.Command)",
            "the kept Command's main": "new(type(kept).main)",
            "the kept Command still runs": "kept.main(['--n', '3'], standalone_mode=False) == 3",
            "click.echo": "new(click.echo)",
            "click.core.Context.invoke": "new(click.core.Context.invoke)",
            "click.Command is click.core.Command": "click.Command is click.core.Command",
        },
    ),
    Bump(
        "tomli",
        "2.0.1",
        "2.2.1",
        "pure Python in 2.0.1, compiled with mypyc from 2.1 (the bump adds compiled "
        "extensions); the package re-exports loads from _parser",
        "import tomli\nfrom tomli import loads\n\n\n"
        "def compute() -> object:\n    return loads('a = 1')\n",
        {
            "tomli.loads": "tomli.loads.__module__ == 'tomli._parser' and "
            "sys.modules['tomli._parser'].__file__.startswith(LIB)",
            "the app's `from tomli import loads` is tomli.loads": "loads is tomli.loads",
            "tomli.TOMLDecodeError is _parser's": (
                "tomli.TOMLDecodeError is sys.modules['tomli._parser'].TOMLDecodeError"
            ),
            "tomli.loads works": "tomli.loads('b = [1, 2]') == {'b': [1, 2]}",
        },
    ),
    Bump(
        "python-dateutil",
        "2.8.2",
        "2.9.0.post0",
        "time-zone singletons and caches (tz.UTC, gettz's instance cache) in dateutil.tz; the "
        "state keeps a datetime whose tzinfo is a dateutil class",
        "import dateutil.parser\nimport dateutil.tz\n\n\n"
        "def compute() -> object:\n"
        "    return dateutil.parser.parse('2024-01-02T03:04:05+01:00')\n",
        {
            "dateutil.__version__": "dateutil.__version__ == VERSION",
            "dateutil.parser.parse": "new(dateutil.parser.parse)",
            "isinstance(kept.tzinfo, dateutil.tz.tzoffset)": (
                "isinstance(kept.tzinfo, dateutil.tz.tzoffset)"
            ),
            "the kept tzinfo's utcoffset": "new(type(kept.tzinfo).utcoffset)",
            "dateutil.tz.UTC is tzutc()": "dateutil.tz.UTC is dateutil.tz.tzutc()",
            "gettz's cache": "new(type(dateutil.tz.gettz).__call__)",
        },
    ),
    Bump(
        "markupsafe",
        "2.1.5",
        "3.0.2",
        "a major bump of a library with a compiled extension (_speedups) that changes; the "
        "state keeps a Markup (a str subclass)",
        MARKUPSAFE_USES,
        MARKUPSAFE_PROBES,
    ),
    Bump(
        "markupsafe",
        "2.1.5",
        "3.0.2",
        "the same bump with the build's way out declared: restart_application of the app, "
        "which must bring the new compiled extension (or refuse)",
        MARKUPSAFE_USES,
        MARKUPSAFE_PROBES,
        restart=True,
    ),
    Bump(
        "pyyaml",
        "6.0.1",
        "6.0.2",
        "a compiled extension (yaml._yaml, imported at once by `yaml`) that changes; "
        "`from .nodes import *` re-exports; the state keeps a node",
        "import yaml\n\n\ndef compute() -> object:\n    return yaml.compose('a: 1')\n",
        {
            "yaml.__version__": "yaml.__version__ == VERSION",
            "yaml.safe_load": "new(yaml.safe_load)",
            "isinstance(kept, yaml.MappingNode)": "isinstance(kept, yaml.MappingNode)",
            "yaml._yaml": "sys.modules['yaml._yaml'].__file__.startswith(LIB)",
            "yaml.CLoader": "sys.modules[yaml.CLoader.__module__].__file__.startswith(LIB)",
        },
    ),
    Bump(
        "charset-normalizer",
        "3.3.2",
        "3.4.0",
        "mypyc-compiled modules (md) beside pure ones; the package re-exports from api and "
        "models; the state keeps a CharsetMatch",
        "import charset_normalizer\nfrom charset_normalizer import from_bytes\n\n\n"
        "def compute() -> object:\n"
        "    return from_bytes('héllo wörld, ça va'.encode('utf-8')).best()\n",
        {
            "charset_normalizer.__version__": "charset_normalizer.__version__ == VERSION",
            "the app's `from` from_bytes": "new(from_bytes)",
            "charset_normalizer.from_bytes": "new(charset_normalizer.from_bytes)",
            "isinstance(kept, charset_normalizer.CharsetMatch)": (
                "isinstance(kept, charset_normalizer.CharsetMatch)"
            ),
            "the kept CharsetMatch's output": "new(type(kept).output)",
        },
    ),
    Bump(
        "msgpack",
        "1.0.8",
        "1.1.0",
        "a compiled extension (msgpack._cmsgpack) re-exported as Packer/unpackb; the state "
        "keeps an ExtType (a namedtuple of the pure-Python msgpack.ext)",
        "import msgpack\n\n\ndef compute() -> object:\n    return msgpack.ExtType(5, b'x')\n",
        {
            "msgpack.version": "'.'.join(map(str, msgpack.version)) == VERSION",
            "isinstance(kept, msgpack.ExtType)": "isinstance(kept, msgpack.ExtType)",
            "msgpack.Packer's module": (
                "sys.modules[msgpack.Packer.__module__].__file__.startswith(LIB)"
            ),
            "msgpack.ext.Timestamp.from_unix": "new(msgpack.ext.Timestamp.from_unix)",
        },
    ),
    Bump(
        "six",
        "1.16.0",
        "1.17.0",
        "a single module that registers an importer on sys.meta_path and lazy six.moves "
        "modules in sys.modules; the state keeps the function six.ensure_str",
        "import six\nfrom six.moves.urllib.parse import quote\n\n\n"
        "def compute() -> object:\n    quote('a b')\n    return six.ensure_str\n",
        {
            "six.__version__": "six.__version__ == VERSION",
            "six.ensure_str": "new(six.ensure_str)",
            "the kept six.ensure_str": "new(kept)",
            "one six importer on sys.meta_path, the current one": (
                "[i for i in sys.meta_path if type(i).__name__ == '_SixMetaPathImporter'] "
                "== [six._importer]"
            ),
            "six.moves is the current six's": "sys.modules['six.moves'] is six.moves",
        },
    ),
    Bump(
        "typing-extensions",
        "4.9.0",
        "4.12.2",
        "one large module of classes and special forms; the state keeps an instance of its "
        "`deprecated` class",
        "import typing_extensions\n\n\n"
        "def compute() -> object:\n    return typing_extensions.deprecated('use g')\n",
        {
            "isinstance(kept, typing_extensions.deprecated)": (
                "isinstance(kept, typing_extensions.deprecated)"
            ),
            "the kept deprecated's __call__": "new(type(kept).__call__)",
            "typing_extensions.get_original_bases": ("new(typing_extensions.get_original_bases)"),
        },
    ),
    Bump(
        "jinja2",
        "3.1.2",
        "3.1.4",
        "caches (an lru_cache of spontaneous environments, the template cache); depends on "
        "markupsafe (unchanged); the state keeps a compiled Template",
        "import jinja2\n\n\ndef compute() -> object:\n"
        "    return jinja2.Template('Hello {{ name }}!')\n",
        {
            "jinja2.__version__": "jinja2.__version__ == VERSION",
            "isinstance(kept, jinja2.Template)": "isinstance(kept, jinja2.Template)",
            "the kept Template's render": "new(type(kept).render)",
            "the kept Template renders": "kept.render(name='x') == 'Hello x!'",
            "the kept Template's environment's class": (
                "isinstance(kept.environment, jinja2.Environment)"
            ),
            "jinja2.Environment.from_string": "new(jinja2.Environment.from_string)",
        },
    ),
    Bump(
        "pyparsing",
        "3.1.2",
        "3.2.0",
        "`from .core import *`-style re-exports of a large core; packrat caches on "
        "ParserElement; the state keeps a parser element",
        "import pyparsing\n\n\ndef compute() -> object:\n"
        "    return pyparsing.Word(pyparsing.nums)\n",
        {
            "pyparsing.__version__": "pyparsing.__version__ == VERSION",
            "isinstance(kept, pyparsing.Word)": "isinstance(kept, pyparsing.Word)",
            "the kept Word's parse_string": "new(type(kept).parse_string)",
            "the kept Word parses": "list(kept.parse_string('42')) == ['42']",
            "pyparsing.Word is pyparsing.core.Word": "pyparsing.Word is pyparsing.core.Word",
        },
    ),
)
