"""Amazon SNS subscription filter policies: parse once, match many times.

AWS docs: *Amazon SNS Developer Guide* › "Amazon SNS message filtering", "Amazon SNS
subscription filter policies", "Filter policy constraints in Amazon SNS", "Filter policy
scope" and "AND/OR logic". A policy is a JSON object whose properties are AND-ed; each
property's list of match values is OR-ed; ``"$or": [{…}, {…}]`` ORs whole sub-policies. With
``FilterPolicyScope=MessageAttributes`` properties name message attributes and may not nest;
with ``MessageBody`` they name (nested) properties of a JSON-object body.

The policy compiles to a disjunction of branches (``$or`` expanded), each a tuple of
:class:`~postroom.core.sns.filter_policy_rules.KeyRule`; a message matches when every rule of
some branch does.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Final

from postroom.core.sns.filter_policy_compile import PolicyError, compile_key_rule, policy_error
from postroom.core.sns.filter_policy_location import position_suffix
from postroom.core.sns.filter_policy_rules import KeyRule, Scalar, parse_number
from postroom.errors import InvalidParameterValue

SCOPE_ATTRIBUTES: Final = "MessageAttributes"
SCOPE_BODY: Final = "MessageBody"
MAX_KEYS: Final = 5
MAX_COMBINATIONS: Final = 150
MAX_POLICY_BYTES: Final = 256 * 1024
OR_KEY: Final = "$or"

Branch = tuple[KeyRule, ...]


@dataclass(frozen=True)
class FilterPolicy:
    """A compiled, immutable filter policy. ``branches`` is the ``$or``-expanded policy (an
    empty policy ``{}`` is one empty branch and matches everything); ``combinations`` is
    AWS's complexity measure; ``paths`` holds every key path and its dotted prefixes."""

    scope: str
    branches: tuple[Branch, ...]
    combinations: int
    paths: frozenset[str]


# --- parsing -------------------------------------------------------------------------------


def parse_filter_policy(text: str, scope: str = SCOPE_ATTRIBUTES) -> FilterPolicy:
    """Validate ``text`` as AWS does and compile it. Errors are InvalidParameterValue with
    SNS's message ("Invalid parameter: FilterPolicy: …"; SNS's code is ``InvalidParameter``).

    Errors SNS's policy parser finds end with where it stopped (:mod:`filter_policy_location`);
    the limits below are checked apart from it and say no place.

    Limits (Filter policy constraints): at most 256 KB; at most five top-level keys (for a
    nested policy only the parent keys count); the total combination of values at most 150,
    computed as AWS documents: multiply, over the properties, the number of values in each
    array times the key's nesting depth, and add up the products of the ``$or`` branches.
    """
    if scope not in (SCOPE_ATTRIBUTES, SCOPE_BODY):
        raise InvalidParameterValue(f"Invalid parameter: FilterPolicyScope: Invalid value [{scope}]. "
                                    "Please use either MessageBody or MessageAttributes")
    if len(text.encode("utf-8", "surrogatepass")) > MAX_POLICY_BYTES:
        raise policy_error("Filter policy is too large")
    document = _load_policy_json(text)
    try:
        branches = tuple(tuple(branch) for branch in _expand(document, "", 1, scope))
    except PolicyError as err:
        if err.at is None:
            raise
        raise InvalidParameterValue(err.message + position_suffix(document, err.at)) from None
    if len(document) > MAX_KEYS:
        raise policy_error(f"Filter policy can not have more than {MAX_KEYS} keys")
    combinations = sum(_branch_combinations(branch) for branch in branches)
    if combinations > MAX_COMBINATIONS:
        raise policy_error("Filter policy is too complex")
    return FilterPolicy(scope, branches, combinations, _path_prefixes(branches))


def _reject_constant(name: str) -> Any:
    raise ValueError(f"Non-standard token '{name}'")


def _load_policy_json(text: str) -> dict[str, Any]:
    try:
        document = json.loads(text, parse_float=Decimal, parse_int=Decimal, parse_constant=_reject_constant)
    except (ValueError, RecursionError) as error:
        raise policy_error(f"failed to parse JSON. {error}") from None
    if not isinstance(document, dict):
        raise policy_error("Filter policy must be a JSON object")
    return document


def _is_or(value: Any) -> bool:
    """``$or`` is an operator when it holds two or more objects; otherwise it is just a key."""
    return isinstance(value, list) and len(value) >= 2 and all(isinstance(item, dict) for item in value)


def _expand(node: Mapping[str, Any], prefix: str, depth: int, scope: str) -> list[list[KeyRule]]:
    """The branches (AND-ed rule lists) of ``node``; ``prefix`` is its dotted key path."""
    branches: list[list[KeyRule]] = [[]]
    for key, value in node.items():
        if key == OR_KEY and _is_or(value):
            alternatives = [alt for sub in value for alt in _expand(sub, prefix, depth, scope)]
            branches = [branch + alt for branch in branches for alt in alternatives]
        elif isinstance(value, dict):
            if scope == SCOPE_ATTRIBUTES:
                raise InvalidParameterValue(
                    "Invalid parameter: Filter policy scope MessageAttributes does not support nested filter policy")
            nested = _expand(value, _join(prefix, key), depth + 1, scope)
            branches = [branch + sub for branch in branches for sub in nested]
        elif isinstance(value, list):
            rule = compile_key_rule(_join(prefix, key), value, depth)
            branches = [[*branch, rule] for branch in branches]
        else:
            raise policy_error(f'"{key}" must be an object or an array', (node, key, "read"))
        if len(branches) > MAX_COMBINATIONS:
            raise policy_error("Filter policy is too complex")
    return branches


def _join(prefix: str, key: str) -> str:
    return f"{prefix}.{key}" if prefix else key


def _branch_combinations(branch: Branch) -> int:
    product = 1
    for rule in branch:
        product *= rule.weight
    return product


def _path_prefixes(branches: tuple[Branch, ...]) -> frozenset[str]:
    prefixes: set[str] = set()
    for branch in branches:
        for rule in branch:
            parts = rule.path.split(".")
            prefixes.update(".".join(parts[: end + 1]) for end in range(len(parts)))
    return frozenset(prefixes)


# --- matching: message attributes ----------------------------------------------------------


def matches_attributes(policy: FilterPolicy, attributes: Mapping[str, tuple[str, str]]) -> bool:
    """Attribute-based filtering: ``attributes`` maps a name to ``(DataType, StringValue)``.

    ``String`` values are strings; ``Number`` values are numbers (only they meet ``numeric``
    and exact-number matches); a ``String.Array`` is a JSON array whose elements are matched
    one by one (an ``anything-but`` must hold for all of them). Custom type labels
    (``Number.float``) follow their base type. ``Binary`` attributes are ignored, i.e. count
    as absent. A policy with ``FilterPolicyScope=MessageBody`` never matches here."""
    if policy.scope != SCOPE_ATTRIBUTES:
        return False
    cache: dict[str, tuple[list[Scalar], bool] | None] = {}
    return any(all(_rule_matches_attribute(rule, attributes, cache) for rule in branch) for branch in policy.branches)


def _rule_matches_attribute(rule: KeyRule, attributes: Mapping[str, tuple[str, str]],
                            cache: dict[str, tuple[list[Scalar], bool] | None]) -> bool:
    if rule.path not in cache:
        attribute = attributes.get(rule.path)
        cache[rule.path] = None if attribute is None else _attribute_values(*attribute)
    found = cache[rule.path]
    if found is None:
        return rule.matches(None)
    values, whole_array = found
    return rule.matches(values, whole_array)


def _attribute_values(data_type: str, string_value: str) -> tuple[list[Scalar], bool] | None:
    """The leaf values of one attribute, and whether it is a ``String.Array``."""
    if data_type == "String.Array":
        return _string_array(string_value), True
    base = data_type.split(".", 1)[0]
    if base == "String":
        return [string_value], False
    if base == "Number":
        number = parse_number(string_value)
        return ([] if number is None else [number]), False
    return None


def _string_array(text: str) -> list[Scalar]:
    try:
        loaded = json.loads(text)
    except (ValueError, RecursionError):
        return []
    if not isinstance(loaded, list):
        return []
    return list(_scalars(loaded))


def _scalars(items: list[Any]) -> Iterator[Scalar]:
    for item in items:
        if isinstance(item, list):
            yield from _scalars(item)
        elif not isinstance(item, dict):
            yield from _scalar(item)


def _scalar(item: Any) -> Iterator[Scalar]:
    """A parsed JSON leaf as a :data:`Scalar`. Numbers are parsed as Python numbers (fast)
    and turned into Decimal here: a float's shortest repr is exact to the 15 significant
    digits AWS's range and accuracy need. ``NaN``/``Infinity`` are not JSON and are dropped."""
    if isinstance(item, float):
        if math.isfinite(item):
            yield Decimal(repr(item))
    elif isinstance(item, int) and not isinstance(item, bool):
        yield Decimal(item)
    else:
        yield item


# --- matching: message body -----------------------------------------------------------------


def matches_body(policy: FilterPolicy, body: str) -> bool:
    """Payload-based filtering (``FilterPolicyScope=MessageBody``): the body must be a JSON
    object, else nothing matches. Nested policy keys address nested properties; a property
    is present only when it reaches a leaf (a string, number, boolean or null — not an
    object). Arrays anywhere along the path are flattened: the property matches when any
    element does. As on AWS, a key containing dots equals the nested path it spells
    (``{"a.b": …}`` and ``{"a": {"b": …}}``). A policy with the attributes scope never
    matches here."""
    if policy.scope != SCOPE_BODY:
        return False
    try:
        document = json.loads(body)
    except (ValueError, RecursionError):
        return False
    if not isinstance(document, dict):
        return False
    leaves: dict[str, list[Scalar]] = {}
    try:
        _collect_leaves(document, "", policy.paths, leaves)
    except RecursionError:
        return False
    return any(all(rule.matches(leaves.get(rule.path)) for rule in branch) for branch in policy.branches)


def _collect_leaves(node: Any, path: str, wanted: frozenset[str], leaves: dict[str, list[Scalar]]) -> None:
    if isinstance(node, dict):
        for key, value in node.items():
            child = _join(path, key)
            if child in wanted:
                _collect_leaves(value, child, wanted, leaves)
    elif isinstance(node, list):
        for item in node:
            _collect_leaves(item, path, wanted, leaves)
    elif path:
        leaves.setdefault(path, []).extend(_scalar(node))
