"""Probe samples: a message that a subscription's filter policy accepts, so that ``verify --probe``
can send its probe along a filtered route too.

A probe carries no application attributes, so a subscription with a filter policy usually drops it.
The file may give a sample per subscription (``sample:``); otherwise :func:`derive_sample` builds one
from the policy itself, with postroom's filter-policy compiler (:mod:`postroom.core.sns.filter_policy`,
the same code that filters postroom's own deliveries):

- the policy is compiled into its branches (``$or`` expanded, nested keys flattened to dotted paths);
- for each branch, each key path gets a value that every rule on that path accepts — taken from the
  rules themselves: an exact value, a string with the ``prefix``/``suffix``, a case of
  ``equals-ignore-case``, a string the ``wildcard`` matches, an address inside the ``cidr``, a number
  inside the ``numeric`` range; for ``anything-but`` (list, ``prefix``, ``suffix``,
  ``equals-ignore-case``, ``wildcard``) a value it does not exclude; ``exists: false`` leaves the key
  out, ``exists: true`` gives it any value. When no single value satisfies every rule on a path (the
  same key in a branch twice, through ``$or``), the values go in an array: a ``String.Array``
  attribute, or a JSON array in the body — SNS matches a rule when any element does;
- attribute values become SNS message attributes (a string ``String``, a number ``Number``, ``true``/
  ``false``/``null`` a one-element ``String.Array``); body values become a JSON object (nested keys
  nested);
- the result is checked with the compiler's own matcher, together with the probe's marker (the
  ``postroom-probe`` attribute and body key), and the first branch that passes is used.

Derivation is deterministic. ``None`` means no branch could be satisfied (e.g. a range with no
number in it at SNS's five-decimal precision); verify then reports the route "not probeable".
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any, Final

from postroom.core.sns.filter_policy import (
    SCOPE_BODY,
    FilterPolicy,
    matches_attributes,
    matches_body,
    parse_filter_policy,
)
from postroom.core.sns.filter_policy_rules import (
    Cidr,
    EqualsIgnoreCase,
    KeyRule,
    NotIn,
    NotMatching,
    NumericRange,
    Prefix,
    Scalar,
    Suffix,
    Wildcard,
    canonical_number,
)
from postroom.errors import PostroomError
from postroom.topology.model import Sample

__all__ = ["PROBE_MARKER", "body_object", "derive_sample", "dumps", "sample_passes"]

PROBE_MARKER: Final = "postroom-probe"
"""The probe's attribute name and body key (see :mod:`postroom.probe`)."""
_MARKER_ATTRIBUTE: Final = ("String", '{"id":"0"}')
_STEP: Final = Decimal("0.00001")  # SNS compares numbers to five decimal places
_MAX_ATTRIBUTES: Final = 9  # SNS allows 10 message attributes; the probe takes one
_GENERIC: Final[tuple[Scalar, ...]] = ("postroom-probe", "probe", "x", "0", Decimal(0), Decimal(1), Decimal(-1))


def dumps(value: Any) -> str:
    """JSON text of a sample body: like json.dumps, but a :class:`~decimal.Decimal` is written as
    the exact number it is (no float rounding)."""
    if isinstance(value, Decimal):
        text = format(value, "f")
        return text.rstrip("0").rstrip(".") if "." in text else text
    if isinstance(value, dict):
        return "{" + ",".join(f"{json.dumps(str(k))}:{dumps(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list | tuple):
        return "[" + ",".join(dumps(v) for v in value) + "]"
    return json.dumps(value)


def sample_passes(sample: Sample, policy: FilterPolicy) -> bool:
    """Whether SNS (postroom's matcher) delivers ``sample`` — with the probe's marker added, as the
    probe is published — through a subscription with ``policy``."""
    if policy.scope == SCOPE_BODY:
        body = body_object(sample)
        if body is None:
            return False
        return matches_body(policy, dumps({**body, PROBE_MARKER: {"id": "0"}}))
    attributes = {**sample.attribute_map(), PROBE_MARKER: _MARKER_ATTRIBUTE}
    return matches_attributes(policy, attributes)


def body_object(sample: Sample) -> dict[str, Any] | None:
    """The sample's body as a JSON object (a file may give it as JSON text), or None."""
    if isinstance(sample.body, dict):
        return sample.body
    if isinstance(sample.body, str):
        try:
            loaded = json.loads(sample.body, parse_float=Decimal)
        except ValueError:
            return None
        return loaded if isinstance(loaded, dict) else None
    return None


def derive_sample(filter_policy: str, scope: str = "MessageAttributes") -> Sample | None:
    """A sample message that ``filter_policy`` (canonical JSON, as the model holds it) accepts in
    ``scope``, or None when none could be built."""
    try:
        policy = parse_filter_policy(filter_policy, scope)
    except PostroomError:
        return None
    for branch in policy.branches:
        sample = _branch_sample(branch, scope == SCOPE_BODY)
        if sample is not None and sample_passes(sample, policy):
            return sample
    return None


# ---- one branch -----------------------------------------------------------------------------------

def _branch_sample(branch: Sequence[KeyRule], body: bool) -> Sample | None:
    by_path: dict[str, list[KeyRule]] = {}
    for rule in branch:
        if rule.path == PROBE_MARKER or rule.path.startswith(PROBE_MARKER + "."):
            return None  # a policy about the probe's own key: nothing to derive
        by_path.setdefault(rule.path, []).append(rule)
    values: dict[str, list[Scalar]] = {}
    for path, rules in by_path.items():
        if all(r.matches(None) for r in rules):
            continue  # absent satisfies them (exists: false)
        found = _values(rules, whole_array=not body)
        if found is None:
            return None
        values[path] = found
    if body:
        return Sample(body=_nest(values))
    if len(values) > _MAX_ATTRIBUTES:
        return None
    return Sample(attributes=tuple(_attribute(path, found) for path, found in values.items()))


def _attribute(name: str, values: list[Scalar]) -> tuple[str, str, str]:
    if len(values) == 1:
        value = values[0]
        if isinstance(value, str):
            return name, "String", value
        if isinstance(value, Decimal):
            return name, "Number", dumps(value)
    return name, "String.Array", dumps(values)


def _values(rules: list[KeyRule], whole_array: bool) -> list[Scalar] | None:
    """Values for one key path that every rule accepts: one value if possible, else one per rule."""
    candidates = _dedupe([c for r in rules for c in _candidates(r)] + _combined(rules) + list(_GENERIC)
                         + _avoiding(rules))
    for value in candidates:
        if all(r.matches([value]) for r in rules):
            return [value]
    picked: list[Scalar] = []
    for rule in rules:
        own = next((v for v in candidates if rule.matches([v])), None)
        if own is None:
            return None
        if own not in picked:
            picked.append(own)
    if all(r.matches(picked, whole_array) for r in rules):
        return picked
    return None


def _dedupe(values: Iterable[Scalar]) -> list[Scalar]:
    seen: set[tuple[str, str]] = set()
    out: list[Scalar] = []
    for v in values:
        key = (type(v).__name__, repr(v))
        if key not in seen:
            seen.add(key)
            out.append(v)
    return out


def _candidates(rule: KeyRule) -> list[Scalar]:
    out: list[Scalar] = []
    if rule.exists_true:
        out.append("postroom-probe")
    for tag, value in sorted(rule.exact, key=repr):
        if (tag == "s" and isinstance(value, str)) or (tag == "d" and isinstance(value, Decimal)) \
                or (tag == "b" and isinstance(value, bool)):
            out.append(value)
        elif tag == "n":
            out.append(None)
    for condition in rule.positive:
        out += _satisfying(condition)
    return out


def _satisfying(condition: object) -> list[Scalar]:
    """Values a positive operator accepts."""
    if isinstance(condition, Prefix):
        return [condition.text + "probe", condition.text]
    if isinstance(condition, Suffix):
        return ["probe" + condition.text, condition.text]
    if isinstance(condition, EqualsIgnoreCase):
        lowered: list[Scalar] = []
        lowered.extend(sorted(condition.lowered))
        return lowered
    if isinstance(condition, Wildcard):
        return _wildcard_texts(condition)
    if isinstance(condition, Cidr):
        network = condition.network
        hosts = [network.network_address + 1] if network.num_addresses > 2 else []
        return [str(a) for a in [*hosts, network.network_address, network.broadcast_address]]
    if isinstance(condition, NumericRange):
        return _numbers(condition)
    return []


def _wildcard_texts(condition: Wildcard) -> list[Scalar]:
    """Strings a compiled wildcard matches: its literal parts, with "" (or "probe") for every ``*``.
    The compiled pattern is ``.*`` for a ``*`` and :func:`re.escape` of every other character."""
    pattern = condition.pattern.pattern
    literal: list[str | None] = []  # None: a "*"
    i = 0
    while i < len(pattern):
        if pattern.startswith(".*", i):
            literal.append(None)
            i += 2
        elif pattern[i] == "\\" and i + 1 < len(pattern):
            literal.append(pattern[i + 1])
            i += 2
        else:
            literal.append(pattern[i])
            i += 1
    texts: list[Scalar] = ["".join(c if c is not None else fill for c in literal) for fill in ("probe", "", "x")]
    return texts


def _numbers(r: NumericRange) -> list[Scalar]:
    low, high = r.low, r.high
    out: list[Decimal] = []
    if low is not None and high is not None:
        middle = ((low + high) / 2).quantize(_STEP) if abs(low) <= 10 ** 9 and abs(high) <= 10 ** 9 else low + 1
        out += [middle, low.to_integral_value(rounding="ROUND_FLOOR") + 1, low + _STEP, high - _STEP]
    elif low is not None:
        out += [low.to_integral_value(rounding="ROUND_FLOOR") + 1, low + _STEP]
    elif high is not None:
        out += [high.to_integral_value(rounding="ROUND_CEILING") - 1, high - _STEP]
    else:
        out.append(Decimal(0))
    if r.low_inclusive and low is not None:
        out.append(low)
    if r.high_inclusive and high is not None:
        out.append(high)
    return [n for n in (canonical_number(x) for x in out) if n is not None and r(n)]


def _combined(rules: list[KeyRule]) -> list[Scalar]:
    """Strings for a path with several string operators at once: a prefix joined to a suffix."""
    prefixes = [c.text for r in rules for c in r.positive if isinstance(c, Prefix)]
    suffixes = [c.text for r in rules for c in r.positive if isinstance(c, Suffix)]
    return [p + middle + s for p in prefixes for s in suffixes for middle in ("probe", "")]


def _avoiding(rules: list[KeyRule]) -> list[Scalar]:
    """Values no ``anything-but`` of the rules excludes: numbered variants of the generic ones."""
    excluded = sum(len(c.excluded) if isinstance(c, NotIn) else 1 for r in rules for c in r.negative
                   if isinstance(c, NotIn | NotMatching))
    out: list[Scalar] = [f"postroom-probe-{i}" for i in range(excluded + 2)]
    return out + [f"{i}-postroom" for i in range(3)]


def _nest(values: dict[str, list[Scalar]]) -> dict[str, Any]:
    """A JSON object holding each dotted path's values: a leaf that is also a parent (``a`` and
    ``a.b`` both wanted) becomes an array of its values and the nested object — SNS flattens arrays
    on the way to a leaf."""
    tree: dict[str, Any] = {}
    for path, found in values.items():
        node = tree
        parts = path.split(".")
        for part in parts[:-1]:
            node = node.setdefault(part, {"__leaf__": [], "__children__": {}})["__children__"]
        entry = node.setdefault(parts[-1], {"__leaf__": [], "__children__": {}})
        entry["__leaf__"].extend(found)
    return _render(tree)


def _render(tree: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, entry in tree.items():
        leaves: list[Any] = list(entry["__leaf__"])
        children = _render(entry["__children__"])
        items = leaves + ([children] if children else [])
        out[key] = items[0] if len(items) == 1 else items
    return out
