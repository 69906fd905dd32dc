"""YAML → plain data, remembering the line of every node, so that an error found anywhere later
(schema, substitution, references) can name the line the user has to edit.

PyYAML's composer gives the node tree with marks; this module converts it to dicts, lists and
scalars itself instead of through the constructor, because the constructor forgets the marks and
silently keeps the last of two equal keys. Here a duplicate key is an error (two queues with the
same name in one file are almost always a copy-and-paste slip).

Mapping keys are kept as the text the user wrote: YAML 1.1 would turn a key ``on:`` or ``no:``
into a boolean. For the same reason a plain ``severity: off`` in a check override stays the string
``off``.
Timestamps stay text (the file format has no dates).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml

PathPart = str | int
Path = tuple[PathPart, ...]

_RAW_TEXT_KEYS = frozenset({"severity"})
_TIMESTAMP = "tag:yaml.org,2002:timestamp"


@dataclass
class YamlProblem:
    line: int | None
    path: Path
    message: str
    fix: str


@dataclass
class Tree:
    """The document as plain data plus ``lines``: path → 1-based line of the key (for mapping
    entries) or of the item (for list items)."""

    data: Any
    lines: dict[Path, int] = field(default_factory=dict)
    problems: list[YamlProblem] = field(default_factory=list)


def render_path(path: Path) -> str:
    """``queues.billing.fifo.dlq``, ``subscriptions[2].topic``."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else part
    return out or "(document)"


def line_of(lines: dict[Path, int], path: Path) -> int | None:
    """The line of ``path`` or of its nearest ancestor that has one."""
    for end in range(len(path), -1, -1):
        line = lines.get(path[:end])
        if line is not None:
            return line
    return None


def parse(text: str) -> Tree:
    """Parse one YAML document. A syntax error becomes a problem with the line PyYAML points at."""
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        message = f"YAML syntax error: {exc.problem or exc.context}"
        fix = "correct the YAML syntax at that line (indentation, a missing ':' or an unclosed quote or bracket)"
        source_line = text.splitlines()[line - 1] if line is not None and 0 < line <= len(text.splitlines()) else ""
        if "${" in source_line and "{" in str(exc.problem):
            fix = ("quote values that contain ${…} inside [ ] or { }, e.g. [\"${prefix}orders.fifo\"] "
                   "(YAML reads an unquoted '{' there as the start of a mapping)")
        return Tree(None, {}, [YamlProblem(line, (), message, fix)])
    except yaml.YAMLError as exc:
        return Tree(None, {}, [YamlProblem(None, (), f"YAML error: {exc}", "correct the YAML syntax")])
    tree = Tree(None, {(): 1})
    try:
        if node is not None:
            tree.data = _convert(loader, node, (), tree)
    finally:
        loader.dispose()
    return tree


def _convert(loader: yaml.SafeLoader, node: yaml.Node, path: Path, tree: Tree) -> Any:
    if isinstance(node, yaml.MappingNode):
        return _mapping(loader, node, path, tree)
    if isinstance(node, yaml.SequenceNode):
        items = []
        for index, item in enumerate(node.value):
            tree.lines[(*path, index)] = item.start_mark.line + 1
            items.append(_convert(loader, item, (*path, index), tree))
        return items
    assert isinstance(node, yaml.ScalarNode)
    if node.tag == _TIMESTAMP or (len(path) >= 2 and path[-1] in _RAW_TEXT_KEYS and "checks" in path
                                  and node.style is None):
        return node.value
    try:
        return loader.construct_object(node, deep=True)
    except yaml.MarkedYAMLError as exc:
        tree.problems.append(YamlProblem(node.start_mark.line + 1, path, f"YAML value error: {exc.problem}",
                                         "write a plain value (postroom.yaml uses no YAML tags)"))
        return node.value


def _mapping(loader: yaml.SafeLoader, node: yaml.MappingNode, path: Path, tree: Tree) -> dict[str, Any]:
    try:
        loader.flatten_mapping(node)  # YAML merge keys (<<: *defaults)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        tree.problems.append(YamlProblem(mark.line + 1 if mark else None, path, f"YAML merge error: {exc.problem}",
                                         "merge (<<) only mappings"))
    out: dict[str, Any] = {}
    first_line: dict[str, int] = {}
    for key_node, value_node in node.value:
        line = key_node.start_mark.line + 1
        if not isinstance(key_node, yaml.ScalarNode):
            tree.problems.append(YamlProblem(line, path, "a mapping key must be a plain name, not a list or mapping",
                                             "write the key as a name"))
            continue
        key = str(key_node.value)
        if key in out:
            tree.problems.append(YamlProblem(line, (*path, key), f"duplicate key '{key}' (first at line "
                                             f"{first_line[key]})", "remove or rename one of the two entries"))
            continue
        first_line[key] = line
        tree.lines[(*path, key)] = line
        out[key] = _convert(loader, value_node, (*path, key), tree)
    return out
