"""Property tests for filter policy matching."""

from __future__ import annotations

import json
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from postroom.core.sns.filter_policy import FilterPolicy, matches_attributes, matches_body, parse_filter_policy

words = st.text(alphabet="abcAB-_.*\\ é", max_size=6)
word_lists = st.lists(words, min_size=1, max_size=4)


def _policy(rule: object, scope: str = "MessageAttributes") -> FilterPolicy:
    return parse_filter_policy(json.dumps({"k": rule}), scope)


@given(word_lists, words)
def test_anything_but_is_complement_of_exact_for_strings(listed: list[str], value: str) -> None:
    exact = _policy(listed)
    negated = _policy([{"anything-but": listed}])
    attributes = {"k": ("String", value)}
    assert matches_attributes(exact, attributes) is not matches_attributes(negated, attributes)


@given(word_lists, st.lists(words, min_size=1, max_size=4))
def test_anything_but_is_complement_of_exact_for_string_arrays(listed: list[str], values: list[str]) -> None:
    exact = _policy(listed)
    negated = _policy([{"anything-but": listed}])
    attributes = {"k": ("String.Array", json.dumps(values))}
    assert matches_attributes(exact, attributes) is not matches_attributes(negated, attributes)


@given(st.booleans(), st.one_of(st.none(), words))
def test_exists_true_and_false_are_complements(flag: bool, value: str | None) -> None:
    attributes: dict[str, tuple[str, str]] = {} if value is None else {"k": ("String", value)}
    yes = matches_attributes(_policy([{"exists": flag}]), attributes)
    no = matches_attributes(_policy([{"exists": not flag}]), attributes)
    assert yes is not no


@given(word_lists, words)
def test_scopes_agree_on_flat_string_policies(listed: list[str], value: str) -> None:
    rule = [*listed, {"prefix": listed[0]}, {"suffix": listed[-1]}]
    in_attributes = matches_attributes(_policy(rule), {"k": ("String", value)})
    in_body = matches_body(_policy(rule, "MessageBody"), json.dumps({"k": value}))
    assert in_attributes is in_body


@given(words, words)
def test_equals_ignore_case_is_case_insensitive_equality(pattern: str, value: str) -> None:
    matched = matches_attributes(_policy([{"equals-ignore-case": pattern}]), {"k": ("String", value)})
    assert matched is (pattern.lower() == value.lower())


@given(st.decimals(min_value=-10**9, max_value=10**9, places=5, allow_nan=False, allow_infinity=False),
       st.sampled_from(["{:f}", "{:e}", "{:E}"]))
def test_numeric_equality_ignores_notation(number: Decimal, notation: str) -> None:
    policy = _policy([{"numeric": ["=", float(number)]}])
    text = notation.format(Decimal(repr(float(number))))
    assert matches_attributes(policy, {"k": ("Number", text)})


@given(st.integers(-1000, 1000), st.integers(-1000, 1000), st.integers(-1000, 1000))
def test_numeric_range_agrees_with_comparison(low: int, high: int, value: int) -> None:
    if low >= high:
        return
    policy = _policy([{"numeric": [">", low, "<=", high]}])
    assert matches_attributes(policy, {"k": ("Number", str(value))}) is (low < value <= high)
