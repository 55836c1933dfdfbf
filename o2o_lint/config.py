"""Settings shared by every front end, read from ``[tool.o2o-lint]`` or ``[o2o-lint]``.

Command-line options override the configuration file; the flake8 plugin maps its own
options onto the same :class:`Settings`.
"""

from __future__ import annotations

import configparser
import glob
import os
import re
import sys
from dataclasses import dataclass, field, replace
from typing import Any

#: The newest Django release line o2o-lint knows about; the default target.
NEWEST_DJANGO = (6, 1)

DEFAULT_EXCLUDE = (
    "migrations",
    ".git",
    ".hg",
    ".svn",
    ".tox",
    ".nox",
    ".venv",
    "venv",
    "env",
    ".env",
    "virtualenv",
    "site-packages",
    "node_modules",
    "build",
    "dist",
    "__pycache__",
    ".eggs",
    "*.egg-info",
    ".mypy_cache",
    ".o2o-lint-cache",
)

#: Files or directories whose presence marks the root of a project.
PROJECT_MARKERS = ("manage.py", "pyproject.toml", "setup.cfg", "setup.py", ".git")


class ConfigError(Exception):
    pass


#: Selects every code (as in ruff), opt-in rules included; the least specific selector.
ALL = "ALL"


def selector_matches(selector: str, code: str) -> int:
    """How specifically *selector* (a code prefix or ``ALL``) names *code*: its length, 0 for
    ``ALL``, -1 when it does not match."""
    if selector == ALL:
        return 0
    return len(selector) if code.startswith(selector) else -1


def _valid_selectors() -> tuple[set[str], dict[str, str]]:
    """(every valid selector, spelling -> what to suggest) from the registry's codes."""
    from o2o_lint.findings import PARSE_ERROR_CODE
    from o2o_lint.rules import known_codes

    codes = (PARSE_ERROR_CODE, *known_codes())
    valid = {code[:end] for code in codes for end in range(1, len(code) + 1)} | {ALL}
    return valid, {selector: selector for selector in valid}


def _suggestion(wanted: str, suggestions: dict[str, str]) -> str | None:
    """The closest spelling (difflib's ratio; on a tie, the longer common prefix)."""
    import difflib
    import os.path

    def score(candidate: str) -> tuple[float, int]:
        return difflib.SequenceMatcher(None, wanted, candidate).ratio(), len(os.path.commonprefix([wanted, candidate]))

    best = max(suggestions, key=score)
    return suggestions[best] if score(best)[0] >= 0.6 else None


def check_selectors(selectors: tuple[str, ...], where: str) -> tuple[str, ...]:
    """*selectors* upper-cased, or a :class:`ConfigError` naming the first unknown one and
    the closest valid code, prefix or rule name. Codes are accepted in any case."""
    valid, suggestions = _valid_selectors()
    normalized = tuple(selector.strip().upper() for selector in selectors)
    for original, selector in zip(selectors, normalized):
        if selector in valid:
            continue
        from o2o_lint.rules import all_rules  # only on error: the names need the rules

        suggestions = {**suggestions, **{rule.name.upper(): f"{code} ({rule.name})" for code, rule in all_rules().items()}}
        closest = _suggestion(selector, suggestions)
        hint = f"did you mean {closest}?" if closest else "o2o-lint --list-rules shows every code"
        raise ConfigError(f"{where}: unknown rule code or prefix {original.strip()!r}; {hint}")
    return normalized


@dataclass(frozen=True)
class Settings:
    select: tuple[str, ...] = ("OTO",)
    ignore: tuple[str, ...] = ()
    #: Added to ``select`` (``--extend-select``): how opt-in rules are enabled.
    extend_select: tuple[str, ...] = ()
    exclude: tuple[str, ...] = DEFAULT_EXCLUDE
    extend_exclude: tuple[str, ...] = ()
    per_file_ignores: tuple[tuple[str, tuple[str, ...]], ...] = ()
    target_version: tuple[int, int] = NEWEST_DJANGO
    foreign_key_classes: tuple[str, ...] = ()
    model_base_classes: tuple[str, ...] = ()
    unsafe_fixes: bool = False
    cache_dir: str | None = None
    use_cache: bool = True
    #: The project root (``root`` / ``--project-root``), absolute; None: found from the paths.
    root: str | None = None
    #: Leave out what git ignores (``.gitignore``, ``.git/info/exclude``, global excludes).
    respect_gitignore: bool = True
    #: Apply the git-ignored paths to paths named explicitly too (the configured excludes
    #: always apply to them).
    force_exclude: bool = False
    extra: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    def with_overrides(self, **changes: Any) -> Settings:
        return replace(self, **{k: v for k, v in changes.items() if v is not None})

    def code_enabled(self, code: str) -> bool:
        """flake8's rule: the longest matching prefix of select/ignore decides."""
        selected = max((selector_matches(p, code) for p in self.select + self.extend_select), default=-1)
        ignored = max((selector_matches(p, code) for p in self.ignore), default=-1)
        return selected >= 0 and selected > ignored

    def opt_in_enabled(self, code: str) -> bool:
        """For the codes of opt-in rules, off by default: enabled only when a select or
        extend-select entry is ``ALL`` or names the code itself or a prefix longer than ``OTO``."""
        named = any(p == ALL or (code.startswith(p) and len(p) > 3) for p in self.select + self.extend_select)
        return named and self.code_enabled(code)

    def ignored_for_path(self, relpath: str) -> tuple[str, ...]:
        import fnmatch

        codes: list[str] = []
        for pattern, pattern_codes in self.per_file_ignores:
            if fnmatch.fnmatch(relpath, pattern) or relpath.startswith(pattern.rstrip("/") + "/"):
                codes.extend(pattern_codes)
        return tuple(codes)

    @property
    def all_excludes(self) -> tuple[str, ...]:
        return self.exclude + self.extend_exclude


def parse_version(value: str) -> tuple[int, int]:
    parts = value.strip().split(".")
    try:
        major, minor = int(parts[0]), int(parts[1]) if len(parts) > 1 else 0
    except ValueError:
        raise ConfigError(f"invalid Django version {value!r}; expected X.Y or auto") from None
    return (major, minor)


# -- target-version = "auto": the lowest Django the project allows ------------------------------

_DJANGO_REQUIREMENT = re.compile(r"^\s*django(?![\w.-])\s*(?:\[[^\]]*\])?\s*(?P<spec>[^;#]*)", re.I)
_CLAUSE = re.compile(r"(?P<op>===|==|~=|>=|<=|!=|>|<|\^|~|=)?\s*v?(?P<version>\d+(?:\.\d+)*)[\w.*+!-]*")


def _line_of(version: str) -> tuple[int, int]:
    parts = version.split(".")
    return (int(parts[0]), int(parts[1]) if len(parts) > 1 else 0)


def lowest_allowed(spec: str, *, poetry: bool = False) -> tuple[int, int] | None:
    """The lowest Django release line a version specifier allows (None: no lower bound).

    PEP 440 specifiers (``>=4.2,<5``, ``~=4.2.1``, ``==4.2.*``) and Poetry constraints
    (``^4.2``, ``~4.2``, ``4.2``, ``>=3.2 <5``, alternatives joined by ``||``).
    """
    spec = spec.strip().strip("()").strip()
    if not spec or spec.startswith("@") or spec == "*":
        return None
    lowest: tuple[int, int] | None = None
    for alternative in spec.split("||"):
        bound: tuple[int, int] | None = None
        for match in _CLAUSE.finditer(alternative):
            op = match.group("op") or ("==" if poetry else None)
            if op in (None, "<", "<=", "!="):
                continue
            line = _line_of(match.group("version"))
            bound = line if bound is None else max(bound, line)
        if bound is None:
            return None  # one alternative without a lower bound: anything goes
        lowest = bound if lowest is None else min(lowest, bound)
    return lowest


def _requirement_lines(lines: list[str]) -> list[tuple[int, int] | None]:
    found = []
    for line in lines:
        match = _DJANGO_REQUIREMENT.match(line)
        if match is not None:
            found.append(lowest_allowed(match.group("spec")))
    return found


def _poetry_constraints(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [str(value.get("version", "*"))]
    if isinstance(value, list):
        return [c for item in value for c in _poetry_constraints(item)]
    return []


def _load_toml(path: str) -> dict[str, Any]:
    """The TOML document at *path*. Raises ``OSError``, or ``ValueError`` for a file that
    is not UTF-8 TOML (``TOMLDecodeError`` and ``UnicodeDecodeError`` are both)."""
    # imported here: most runs read no TOML file, and the parser costs 5 ms to import
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - exercised on 3.10 only
        import tomli as tomllib
    with open(path, "rb") as handle:
        return tomllib.load(handle)


def _django_requirements_in(directory: str) -> list[tuple[tuple[int, int] | None, str]]:
    """(lowest allowed line, source) for every Django requirement declared in *directory*."""
    found: list[tuple[tuple[int, int] | None, str]] = []
    pyproject = os.path.join(directory, "pyproject.toml")
    if os.path.isfile(pyproject):
        try:
            data = _load_toml(pyproject)
        except (OSError, ValueError):
            data = {}
        dependencies = data.get("project", {}).get("dependencies", [])
        if isinstance(dependencies, list):
            lines = [d for d in dependencies if isinstance(d, str)]
            found.extend((v, pyproject) for v in _requirement_lines(lines))
        poetry = data.get("tool", {}).get("poetry", {}).get("dependencies", {})
        if isinstance(poetry, dict):
            for name, value in poetry.items():
                if name.lower() == "django":
                    found.extend((lowest_allowed(c, poetry=True), pyproject) for c in _poetry_constraints(value))
    setup_cfg = os.path.join(directory, "setup.cfg")
    if os.path.isfile(setup_cfg):
        parser = configparser.ConfigParser()
        try:
            parser.read(setup_cfg, encoding="utf-8")
            requires = parser.get("options", "install_requires", fallback="")
        except configparser.Error:
            requires = ""
        found.extend((v, setup_cfg) for v in _requirement_lines(requires.splitlines()))
    patterns = ("requirements*.txt", os.path.join("requirements", "*.txt"))
    for path in sorted(p for pattern in patterns for p in glob.glob(os.path.join(directory, pattern))):
        try:
            with open(path, encoding="utf-8", errors="replace") as handle:
                lines = handle.read().splitlines()
        except OSError:
            continue
        found.extend((v, path) for v in _requirement_lines(lines))
    return found


def detect_django_version(start: str) -> tuple[tuple[int, int], str] | None:
    """The lowest Django release line the project's requirements allow, and where it was read.

    Looks in ``pyproject.toml`` (PEP 621 ``dependencies``, Poetry), ``setup.cfg``
    (``install_requires``) and ``requirements*.txt`` / ``requirements/*.txt``, in *start*
    and then its parents up to the repository root; the first directory declaring Django
    wins, and within it the lowest lower bound of all its declarations.
    """
    directory = os.path.abspath(start if os.path.isdir(start) else os.path.dirname(start) or ".")
    while True:
        bounded = [(v, source) for v, source in _django_requirements_in(directory) if v is not None]
        if bounded:
            return min(bounded)
        if os.path.exists(os.path.join(directory, ".git")):
            return None
        parent = os.path.dirname(directory)
        if parent == directory:
            return None
        directory = parent


def resolve_target_version(value: str, directory: str) -> tuple[tuple[int, int], str | None]:
    """``X.Y`` or ``auto``; for ``auto`` also a one-line account of where the version came
    from, starting with ``warning:`` when nothing was found and the newest Django is assumed."""
    if value.strip().lower() != "auto":
        return parse_version(value), None
    detected = detect_django_version(directory)
    if detected is None:
        newest = ".".join(map(str, NEWEST_DJANGO))
        return NEWEST_DJANGO, (
            "warning: target-version auto: no Django requirement with a lower bound in pyproject.toml, "
            f"setup.cfg or requirements*.txt; assuming Django {newest}"
        )
    version, source = detected
    return version, f"target-version auto: Django {version[0]}.{version[1]}, the lowest that {source} allows"


def _as_tuple(value: Any, key: str) -> tuple[str, ...]:
    if isinstance(value, str):
        return tuple(item.strip() for item in value.replace("\n", ",").split(",") if item.strip())
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return tuple(value)
    raise ConfigError(f"{key}: expected a list of strings")


def _codes(value: Any, key: str) -> tuple[str, ...]:
    return check_selectors(_as_tuple(value, key), key)


def _per_file_ignores(value: Any) -> tuple[tuple[str, tuple[str, ...]], ...]:
    key = "per-file-ignores"
    if isinstance(value, dict):
        return tuple((pattern, _codes(codes, f"{key} {pattern!r}")) for pattern, codes in value.items())
    if isinstance(value, str):  # flake8 style: "path: CODE,CODE" lines
        pairs = []
        for line in value.splitlines():
            if ":" in line:
                pattern, codes = line.split(":", 1)
                pairs.append((pattern.strip(), _codes(codes, f"{key} {pattern.strip()!r}")))
            elif line.strip():
                raise ConfigError(f"{key}: expected 'pattern: CODES', got {line.strip()!r}")
        return tuple(pairs)
    raise ConfigError(f"{key}: expected a table of pattern = [codes]")


def per_file_ignores_option(values: list[str], where: str) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """``--per-file-ignores`` values, ruff's ``PATTERN:CODE`` pairs, comma-separated or
    repeated; an item without ``:`` adds a code to the pattern before it
    (``tests/*:OTO123,OTO124``). Patterns keep their order; codes are checked."""
    pairs: dict[str, list[str]] = {}
    pattern: str | None = None
    for value in values:
        for item in value.split(","):
            item = item.strip()
            if not item:
                continue
            if ":" in item:
                pattern, code = (part.strip() for part in item.rsplit(":", 1))
                if not pattern:
                    raise ConfigError(f"{where}: expected PATTERN:CODES, got {item!r}")
            elif pattern is None:
                raise ConfigError(f"{where}: expected PATTERN:CODES, got {item!r}")
            else:
                code = item
            codes = pairs.setdefault(pattern, [])
            if code:
                codes.append(code)
    for pattern, codes in pairs.items():
        if not codes:
            raise ConfigError(f"{where}: no code for {pattern!r}; expected PATTERN:CODES")
    return tuple((pattern, check_selectors(tuple(codes), f"{where} {pattern!r}")) for pattern, codes in pairs.items())


def _flag(value: Any, key: str) -> bool:
    return bool(value) if not isinstance(value, str) else value.strip().lower() in ("1", "true", "yes", "on")


_KEYS = {
    "select": ("select", _codes),
    "extend-select": ("extend_select", _codes),
    "ignore": ("ignore", _codes),
    "exclude": ("exclude", _as_tuple),
    "extend-exclude": ("extend_exclude", _as_tuple),
    "per-file-ignores": ("per_file_ignores", lambda v, k: _per_file_ignores(v)),
    "foreign-key-classes": ("foreign_key_classes", _as_tuple),
    "model-base-classes": ("model_base_classes", _as_tuple),
    "target-version": ("target_version", lambda v, k: parse_version(str(v))),
    "unsafe-fixes": ("unsafe_fixes", lambda v, k: bool(v) if not isinstance(v, str) else v.lower() in ("1", "true", "yes")),
    "cache-dir": ("cache_dir", lambda v, k: str(v)),
    "root": ("root", lambda v, k: str(v)),
    "respect-gitignore": ("respect_gitignore", _flag),
    "force-exclude": ("force_exclude", _flag),
}


def settings_from_mapping(mapping: dict[str, Any], base: Settings | None = None, *, directory: str | None = None) -> Settings:
    """Settings from a configuration section; *directory* is where ``target-version = "auto"``
    starts looking for the project's Django requirement (default: the working directory)."""
    changes: dict[str, Any] = {}
    for key, value in mapping.items():
        normalized = key.replace("_", "-")
        if normalized not in _KEYS:
            raise ConfigError(f"unknown configuration key {key!r}")
        attribute, convert = _KEYS[normalized]
        if normalized == "target-version":
            changes["extra"] = {**changes.get("extra", base.extra if base else {}), "target_version_set": True}
        if normalized == "target-version" and str(value).strip().lower() == "auto":
            version, note = resolve_target_version("auto", directory or os.getcwd())
            changes["target_version"] = version
            changes["extra"] = {**changes["extra"], "target_version_note": note}
            continue
        changes[attribute] = convert(value, normalized)
    if "root" in changes:  # relative to the configuration file
        changes["root"] = os.path.normpath(os.path.join(directory or os.getcwd(), os.path.expanduser(changes["root"])))
    return replace(base or Settings(), **changes)


def find_config(start: str) -> tuple[str, dict[str, Any]] | None:
    """The nearest ``pyproject.toml`` with ``[tool.o2o-lint]`` or ``setup.cfg`` with ``[o2o-lint]``."""
    directory = os.path.abspath(start if os.path.isdir(start) else os.path.dirname(start) or ".")
    while True:
        pyproject = os.path.join(directory, "pyproject.toml")
        if os.path.isfile(pyproject):
            try:
                data = _load_toml(pyproject)
            except (OSError, ValueError) as exc:
                raise ConfigError(f"{pyproject}: {exc}") from None
            section = data.get("tool", {}).get("o2o-lint")
            if section is not None:
                return pyproject, section
        setup_cfg = os.path.join(directory, "setup.cfg")
        if os.path.isfile(setup_cfg):
            parser = configparser.ConfigParser()
            try:
                parser.read(setup_cfg, encoding="utf-8")
            except configparser.Error as exc:
                raise ConfigError(f"{setup_cfg}: {exc}") from None
            if parser.has_section("o2o-lint"):
                return setup_cfg, dict(parser.items("o2o-lint"))
        parent = os.path.dirname(directory)
        if parent == directory:
            return None
        directory = parent


def read_config_file(path: str) -> tuple[str, dict[str, Any]]:
    """The o2o-lint section of the configuration file *path* (``--config``): ``[tool.o2o-lint]``
    of a ``pyproject.toml``, ``[o2o-lint]`` of a ``setup.cfg``/``tox.ini``/``*.cfg``/``*.ini``,
    or the top-level table of any other TOML file (``o2o-lint.toml``). A file that is missing
    or does not parse is a :class:`ConfigError`; a file without the section is empty."""
    path = os.path.abspath(path)
    if not os.path.isfile(path):
        raise ConfigError(f"--config {path}: no such file")
    name = os.path.basename(path)
    if name.endswith((".cfg", ".ini")):
        parser = configparser.ConfigParser()
        try:
            with open(path, encoding="utf-8") as handle:
                parser.read_file(handle)
        except (OSError, UnicodeDecodeError, configparser.Error) as exc:
            raise ConfigError(f"{path}: {exc}") from None
        return path, dict(parser.items("o2o-lint")) if parser.has_section("o2o-lint") else {}
    try:
        data = _load_toml(path)
    except (OSError, ValueError) as exc:
        raise ConfigError(f"{path}: {exc}") from None
    if name == "pyproject.toml":
        section = data.get("tool", {}).get("o2o-lint", {})
    else:
        section = data.get("tool", {}).get("o2o-lint", data) if set(data) == {"tool"} else data
    if not isinstance(section, dict):
        raise ConfigError(f"{path}: the o2o-lint section is not a table")
    return path, section


def load_settings(start: str, *, config_file: str | None = None, isolated: bool = False) -> tuple[Settings, str | None]:
    """The settings of the nearest configuration file to *start*; of *config_file* when
    given (``--config``); the defaults when *isolated* (``--isolated``)."""
    if isolated:
        return Settings(), None
    found = read_config_file(config_file) if config_file else find_config(start)
    if found is None:
        return Settings(), None
    path, section = found
    try:
        return settings_from_mapping(section, directory=os.path.dirname(path)), path
    except ConfigError as exc:
        raise ConfigError(f"{path}: {exc}") from None


def settings_for(start: str, *, target_version: str | None = None, config_file: str | None = None,
                 isolated: bool = False, **overrides: Any) -> tuple[Settings, str | None]:
    """The settings of a run starting at *start*, for every front end alike: the nearest
    ``[tool.o2o-lint]`` / ``[o2o-lint]``, then the front end's *overrides* (None: not
    given). *target_version* (``X.Y`` or ``auto``) overrides the file's; when neither
    names one, ``auto``: the lowest Django the project's requirements allow, else the
    newest with a note (``extra["target_version_note"]``)."""
    settings, config_path = load_settings(start, config_file=config_file, isolated=isolated)
    if target_version is None and settings.extra.get("target_version_set"):
        return settings.with_overrides(**overrides), config_path
    base = os.path.dirname(config_path) if config_path else find_project_root(start)
    target, note = resolve_target_version(target_version or "auto", base)
    extra = {k: v for k, v in settings.extra.items() if k != "target_version_note"}
    if note is not None:
        extra["target_version_note"] = note
    return settings.with_overrides(**overrides, target_version=target, extra=extra), config_path


def git_dir_at(directory: str) -> bool:
    """A ``.git`` directory, or a ``.git`` file (a worktree's or a submodule's)."""
    return os.path.exists(os.path.join(directory, ".git"))


def find_project_root(path: str, override: str | None = None) -> str:
    """The root of the project *path* belongs to: the index covers all of it.

    *override* (the ``root`` setting, ``--project-root``) wins. Otherwise the top of the
    git work tree holding *path* (the nearest ``.git``, directory or file, upwards); else
    the outermost directory holding a project marker (``pyproject.toml``, ``setup.cfg``,
    ``setup.py``, ``manage.py``), so that a sub-package's own ``pyproject.toml`` does not
    split a repository; else the working directory when it holds *path*, else *path*'s
    own directory. The home directory and its ancestors are never taken unless *path* is
    there itself (a dotfiles repository or a stray ``pyproject.toml`` in ``~`` must not
    turn every project into one).
    """
    if override:
        return os.path.abspath(override)
    directory = os.path.abspath(path if os.path.isdir(path) else os.path.dirname(path) or ".")
    home = os.path.abspath(os.path.expanduser("~"))
    current, outermost = directory, None
    while True:
        if current != directory and (home == current or home.startswith(current.rstrip(os.sep) + os.sep)):
            break  # at or above the home directory
        if git_dir_at(current):
            return current
        if any(os.path.exists(os.path.join(current, marker)) for marker in PROJECT_MARKERS if marker != ".git"):
            outermost = current
        parent = os.path.dirname(current)
        if parent == current:
            break
        current = parent
    if outermost is not None:
        return outermost
    cwd = os.getcwd()
    return cwd if directory == cwd or directory.startswith(cwd.rstrip(os.sep) + os.sep) else directory
