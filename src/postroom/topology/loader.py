"""Read a postroom.yaml into a :class:`~postroom.topology.model.Declared` for one environment.

The stages, each collecting every problem it finds before the file is refused:

1. YAML → data, with the line of every key and list item (:mod:`._yamltree`).
2. The header (``version``, ``variables``, ``environments``) against the schema; ``--env`` picks an
   environment, whose ``variables`` override the top-level ones and whose ``scope`` and
   ``protected`` are taken over. A file that declares environments must be given one: running it
   with no ``--env`` would resolve names with the bare defaults and plan against everything.
3. ``${name}`` substitution in every string value and mapping key outside the header. A value
   that is exactly ``${name}`` takes the variable's value with its type (so
   ``visibility_timeout: ${vt}`` stays a number); ``$${`` writes a literal ``${``. References
   that are not simple names (IAM policy variables such as ``${aws:SourceArn}``) are left alone.
4. The substituted document against the schema (:mod:`.schema`), errors mapped back to lines.
5. Resolution into the model with the checks that need the whole file (:mod:`._resolve`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Final

from postroom.topology._problems import Problem, SpecError
from postroom.topology._resolve import resolve
from postroom.topology._yamltree import Path as KeyPath
from postroom.topology._yamltree import Tree, line_of, parse, render_path
from postroom.topology.model import Declared
from postroom.topology.schema import choice_fix, did_you_mean, schema_problems

__all__ = ["Problem", "SpecError", "load", "loads"]

_HEADER: Final = frozenset({"version", "variables", "environments"})
_REFERENCE: Final = re.compile(r"\$\$\{|\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
_WHOLE: Final = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


def load(path: Path, env: str | None = None) -> Declared:
    """Read and resolve the file at ``path`` for environment ``env``; raises :class:`SpecError`."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise SpecError([Problem(None, "(file)", f"cannot read the file: {exc.strerror or exc}",
                                 "check the path given with -f")], source=str(path)) from exc
    except UnicodeDecodeError as exc:
        raise SpecError([Problem(None, "(file)", f"the file is not UTF-8 text: {exc.reason}",
                                 "save it as UTF-8")], source=str(path)) from exc
    return loads(text, env=env, source=str(path))


def loads(text: str, env: str | None = None, source: str = "postroom.yaml") -> Declared:
    """Resolve postroom.yaml text for environment ``env``; raises :class:`SpecError`."""
    tree = parse(text)
    problems = [Problem(p.line, render_path(p.path), p.message, p.fix) for p in tree.problems]
    doc = tree.data
    if doc is None and not problems:
        problems.append(Problem(1, "(document)", "the file is empty", "start it with 'version: 1'"))
    elif doc is not None and not isinstance(doc, dict):
        problems.append(Problem(1, "(document)", "the file must be a mapping of sections",
                                "write 'version: 1', then queues:, topics:, subscriptions: …"))
    if problems and not isinstance(doc, dict):
        raise SpecError(problems, source)
    assert isinstance(doc, dict)
    header = _problems(tree, (p for p in schema_problems(doc) if not p[0] or p[0][0] in _HEADER))
    problems += header
    if header:  # without valid variables and environments nothing else can be resolved
        raise SpecError(problems, source)

    variables, scope_raw, protected, env_problems = _environment(doc, env, tree)
    problems += env_problems
    if env_problems:
        raise SpecError(problems, source)
    substituter = _Substituter(variables, tree.lines, env)
    substituted: dict[str, Any] = {}
    for key, value in doc.items():
        substituted[key] = value if key in _HEADER else substituter.walk(value, (key,), (key,))
    scope = tuple(str(substituter.walk(pattern, raw, raw)) for raw, pattern in scope_raw)
    problems += substituter.problems

    lines = substituter.lines
    schema_found = [p for p in schema_problems(substituted) if p[0] and p[0][0] not in _HEADER]
    problems += [Problem(line_of(lines, path), render_path(path), message, fix) for path, message, fix in schema_found]
    schema_paths = {path for path, _, _ in schema_found}
    declared, resolve_problems = resolve(substituted, lines, schema_paths, scope or ("*",), env)
    problems += resolve_problems
    if problems:
        raise SpecError(problems, source)
    declared.environment = env
    declared.protected = protected
    declared.scope = scope or ("*",)
    declared.source = source
    return declared


def _problems(tree: Tree, found: Any) -> list[Problem]:
    return [Problem(line_of(tree.lines, path), render_path(path), message, fix) for path, message, fix in found]


def _environment(doc: Mapping[str, Any], env: str | None, tree: Tree
                 ) -> tuple[dict[str, Any], list[tuple[KeyPath, str]], bool, list[Problem]]:
    """The variables, scope patterns (with their paths) and protected flag of ``env``."""
    variables = dict(doc.get("variables") or {})
    environments: dict[str, Any] = doc.get("environments") or {}
    names = sorted(environments)
    if env is None:
        if environments:
            return variables, [], False, [Problem(
                line_of(tree.lines, ("environments",)), "environments",
                f"this file declares environments ({', '.join(names)}) and none was chosen",
                f"run with --env {' or --env '.join(names)}")]
        return variables, [], False, []
    if env not in environments:
        if not environments:
            return variables, [], False, [Problem(None, "environments", f"unknown environment '{env}': the file "
                                                  "declares no environments", "run without --env, or add an "
                                                  f"'environments: {{{env}: {{variables: …}}}}' section")]
        return variables, [], False, [Problem(line_of(tree.lines, ("environments",)), "environments",
                                              f"unknown environment '{env}'", choice_fix(env, names, "one of"))]
    spec = environments[env] or {}
    variables.update(spec.get("variables") or {})
    scope: list[tuple[KeyPath, str]] = [(("environments", env, "scope", i), str(pattern))
                                        for i, pattern in enumerate(spec.get("scope") or [])]
    return variables, scope, bool(spec.get("protected", False)), []


def _as_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


class _Substituter:
    """``${name}`` substitution over the data tree, carrying each node's line to its new path
    (a queue key ``${prefix}billing`` becomes ``stg-billing`` in every later error message)."""

    def __init__(self, variables: dict[str, Any], lines: dict[KeyPath, int], env: str | None) -> None:
        self.variables = variables
        self.raw_lines = lines
        self.lines: dict[KeyPath, int] = {(): 1}
        self.env = env
        self.problems: list[Problem] = []

    def walk(self, value: Any, raw: KeyPath, new: KeyPath) -> Any:
        line = self.raw_lines.get(raw)
        if line is not None:
            self.lines[new] = line
        if isinstance(value, dict):
            out: dict[str, Any] = {}
            for key, item in value.items():
                new_key = _as_text(self.text(key, (*raw, key), (*new, key)))
                if new_key in out:
                    self._problem((*raw, key), (*new, new_key), f"'{key}' becomes '{new_key}' after substitution, "
                                  "which is already a key here", "give the two entries different names")
                    continue
                out[new_key] = self.walk(item, (*raw, key), (*new, new_key))
            return out
        if isinstance(value, list):
            return [self.walk(item, (*raw, i), (*new, i)) for i, item in enumerate(value)]
        if isinstance(value, str):
            return self.text(value, raw, new)
        return value

    def text(self, text: str, raw: KeyPath, new: KeyPath) -> Any:
        whole = _WHOLE.fullmatch(text)
        if whole is not None and whole.group(1) in self.variables:
            return self.variables[whole.group(1)]

        def replace(match: re.Match[str]) -> str:
            if match.group(0) == "$${":
                return "${"
            name = match.group(1)
            if name in self.variables:
                return _as_text(self.variables[name])
            known = sorted(self.variables)
            close = did_you_mean(name, known)
            where = f"environments.{self.env}.variables" if self.env else "variables"
            hint = f"did you mean ${{{close}}}? " if close else ""
            listing = ", ".join(known) if known else "none"
            self._problem(raw, new, f"unknown variable ${{{name}}}", f"{hint}known variables: {listing}; "
                          f"define it under {where}: (or write $${{ for a literal ${{)")
            return match.group(0)

        return _REFERENCE.sub(replace, text)

    def _problem(self, raw: KeyPath, new: KeyPath, message: str, fix: str) -> None:
        self.problems.append(Problem(line_of(self.raw_lines, raw), render_path(new), message, fix))
