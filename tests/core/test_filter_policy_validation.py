"""Filter policy validation: AWS's error messages and complexity limits.

Messages are the ones SNS returned when recorded against AWS, from *Amazon SNS Developer
Guide* › "Filter policy constraints in Amazon SNS". The parser position SNS appends to most of
them (``\n at [Source: …; line: 1, column: N]``) is compared here apart from the reason:
:func:`_error` gives the reason, :func:`test_parser_position` the whole message.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from postroom.core.sns.filter_policy import parse_filter_policy
from postroom.errors import InvalidParameterValue

PREFIX = "Invalid parameter: FilterPolicy: "


def _full_error(policy: Any, scope: str = "MessageAttributes") -> str:
    text = policy if isinstance(policy, str) else json.dumps(policy)
    with pytest.raises(InvalidParameterValue) as caught:
        parse_filter_policy(text, scope)
    return caught.value.message


def _error(policy: Any, scope: str = "MessageAttributes") -> str:
    """The reason, without the parser position."""
    return _full_error(policy, scope).split("\n at [Source: ", 1)[0]


@pytest.mark.parametrize(("policy", "column"), [
    ({"key": [["value"]]}, 10),
    ({"key": [{"suffix": "value", "prefix": "value2"}]}, 37),
    ({"key": [{"numeric": ["operator"]}]}, 32),
    ({"key": [{"numeric": [">", 20, "<", "30"]}]}, 33),
    ({"key": [{"numeric": []}]}, 22),
    ({"key_a": "value_one"}, 11),
])
def test_parser_position(policy: Any, column: int) -> None:
    """AWS (LocalStack's test_sns_filter_policy snapshots): the policy re-serialized without
    whitespace, and the parser's column in it."""
    compact = json.dumps(policy, separators=(",", ":"))
    suffix = f'\n at [Source: (String)"{compact}"; line: 1, column: {column}]'
    assert _full_error(policy, "MessageBody").endswith(suffix)


def test_limits_say_no_position() -> None:
    """AWS: "Filter policy is too complex" and the five-keys limit carry no parser position."""
    assert _full_error({"store": [str(i) for i in range(151)]}) == PREFIX + "Filter policy is too complex"
    assert _full_error({f"k{i}": ["v"] for i in range(6)}) == PREFIX + "Filter policy can not have more than 5 keys"


@pytest.mark.parametrize(("policy", "reason"), [
    ({"key": [["value"]]}, "Match value must be String, number, true, false, or null"),
    ({"key": [{"wrong-operator": True}]}, "Unrecognized match type wrong-operator"),
    ({"key": [{"suffix": "value", "prefix": "value2"}]}, "Only one key allowed in match expression"),
    ({"key": [{"suffix": 100}]}, "suffix match pattern must be a string"),
    ({"key": [{"suffix": None}]}, "suffix match pattern must be a string"),
    ({"key": [{"suffix": []}]}, "suffix match pattern must be a string"),
    ({"key": [{"suffix": ["test", "test2"]}]}, "suffix match pattern must be a string"),
    ({"key": [{"prefix": 1}]}, "prefix match pattern must be a string"),
    ({"key": [{"equals-ignore-case": 1}]}, "equals-ignore-case match pattern must be a string"),
    ({"key": [{"wildcard": 1}]}, "wildcard match pattern must be a string"),
    ({"key": {"suffix": "value"}}, '"suffix" must be an object or an array'),
    ({"key": {"suffix": "value", "prefix": "value"}}, '"suffix" must be an object or an array'),
    ({"key": {"not-an-operator": "value"}}, '"not-an-operator" must be an object or an array'),
    ({"key_a": "value_one"}, '"key_a" must be an object or an array'),
    ({"key": []}, "Empty arrays are not allowed"),
    ({"key": [{"exists": None}]}, "exists match pattern must be either true or false."),
    ({"key": [{"exists": "no"}]}, "exists match pattern must be either true or false."),
])
def test_operator_errors(policy: Any, reason: str) -> None:
    assert _error(policy, "MessageBody") == PREFIX + reason


@pytest.mark.parametrize(("numeric", "reason"), [
    ([], "Invalid member in numeric match: ]"),
    (["operator"], "Unrecognized numeric range operator: operator"),
    ([1, "<="], "Invalid member in numeric match: 1"),
    (["=", "000"], "Value of equals must be numeric"),
    ([">="], "Value of >= must be numeric"),
    (["<", 100, ">", 10], "Too many elements in numeric expression"),
    ([">=", 1, ">", 2], "Bad numeric range operator: >"),
    ([">", 3, "<", 1], "Bottom must be less than top"),
    ([">", 3, "<", 3], "Bottom must be less than top"),
    ([">", 20, "<="], "Value of <= must be numeric"),
    ([">", 20, 30], "Bad value in numeric range: 30"),
    ([">", 20, "test"], "Bad numeric range operator: test"),
    ([">", "20", "<", "30"], "Value of > must be numeric"),
    ([">", 20, "<", "30"], "Value of < must be numeric"),
    ([">", 20, "<", 30, "<", 50], "Too many terms in numeric range expression"),
    (["=", True], "Value of equals must be numeric"),
])
def test_numeric_errors(numeric: list[Any], reason: str) -> None:
    assert _error({"key": [{"numeric": numeric}]}) == PREFIX + reason


@pytest.mark.parametrize(("anything_but", "reason"), [
    ({"wrong-operator": None}, "Unsupported anything-but pattern: wrong-operator"),
    ({"exists": False}, "Unsupported anything-but pattern: exists"),
    ({"numeric": [">", 1]}, "Unsupported anything-but pattern: numeric"),
    ({"prefix": False}, "prefix match pattern must be a string"),
    ({"suffix": 3}, "suffix match pattern must be a string"),
    ({"prefix": "a", "suffix": "b"}, "Only one key allowed in match expression"),
    ([], "Empty arrays are not allowed"),
    ([True], "Inside anything but list, start|null|boolean is not supported."),
    ([None, "a"], "Inside anything but list, start|null|boolean is not supported."),
])
def test_anything_but_errors(anything_but: Any, reason: str) -> None:
    assert _error({"key": [{"anything-but": anything_but}]}) == PREFIX + reason


@pytest.mark.parametrize(("cidr", "reason"), [
    (24, "prefix match pattern must be a string"),
    ("10.0.0.0", "Malformed CIDR, one '/' required"),
    ("10.0.0.0/24/8", "Malformed CIDR, one '/' required"),
    ("10.0.0.0/x", "Malformed CIDR, mask bits must be an integer"),
    ("10.0.0.300/24", "Nonstandard IP address: 10.0.0.300"),
    ("10.0.0.0/33", "Nonstandard IP address: 10.0.0.0"),
])
def test_cidr_errors(cidr: Any, reason: str) -> None:
    assert _error({"ip": [{"cidr": cidr}]}) == PREFIX + reason


@pytest.mark.parametrize(("pattern", "reason"), [
    ("a**b", "Consecutive wildcard characters at pos 2"),
    ("a\\b", "Invalid escape character at pos 1"),
    ("ab\\", "Invalid escape character at pos 2"),
])
def test_wildcard_errors(pattern: str, reason: str) -> None:
    assert _error({"file": [{"wildcard": pattern}]}) == PREFIX + reason


def test_policy_must_be_json_object() -> None:
    assert _error("not json").startswith(PREFIX + "failed to parse JSON.")
    assert _error("[1, 2]") == PREFIX + "Filter policy must be a JSON object"
    assert _error('{"a": [NaN]}').startswith(PREFIX + "failed to parse JSON.")


def test_attributes_scope_rejects_nesting() -> None:
    """Filter policy constraints: "Amazon SNS doesn't accept a nested filter policy for
    attribute-based filtering"."""
    policy = {"object": {"key": [{"prefix": "auto-"}]}}
    assert _error(policy) == (
        "Invalid parameter: Filter policy scope MessageAttributes does not support nested filter policy")
    parse_filter_policy(json.dumps(policy), "MessageBody")


def test_unknown_scope() -> None:
    assert _error({"a": ["b"]}, "RandomValue") == (
        "Invalid parameter: FilterPolicyScope: Invalid value [RandomValue]. "
        "Please use either MessageBody or MessageAttributes")


# --- limits ------------------------------------------------------------------------------------


def test_documented_combination_example() -> None:
    """Filter policy constraints: 3 x 1 x 2 = 6."""
    policy = parse_filter_policy(json.dumps({
        "key_a": ["value_one", "value_two", "value_three"],
        "key_b": ["value_one"],
        "key_c": ["value_one", "value_two"],
    }))
    assert policy.combinations == 6


def test_documented_nested_combination_example() -> None:
    """Payload-based constraints: four values at depth three and three at depth two give
    3 x 4 x 2 x 3 = 72."""
    policy = parse_filter_policy(json.dumps({
        "key_a": {"key_b": {"key_c": ["value_one", "value_two", "value_three", "value_four"]}},
        "key_d": {"key_e": ["value_one", "value_two", "value_three"]},
    }), "MessageBody")
    assert policy.combinations == 72


def test_or_combinations_add_up() -> None:
    """An ``$or`` adds up the combinations of its branches (AND/OR logic › OR operator)."""
    policy = parse_filter_policy(json.dumps({
        "source": ["aws.cloudwatch", "aws.s3"],
        "$or": [{"metricName": ["CPUUtilization", "ReadLatency"]}, {"namespace": ["AWS/EC2", "AWS/ES"]}],
    }))
    assert policy.combinations == 2 * 2 + 2 * 2


def test_too_complex_in_one_key() -> None:
    assert _error({"key": [str(i) for i in range(151)]}) == PREFIX + "Filter policy is too complex"
    parse_filter_policy(json.dumps({"key": [str(i) for i in range(150)]}))


def test_too_complex_across_keys() -> None:
    policy = {"a": [str(i) for i in range(10)], "b": [str(i) for i in range(16)]}
    assert _error(policy) == PREFIX + "Filter policy is too complex"
    policy["b"] = policy["b"][:15]
    assert parse_filter_policy(json.dumps(policy)).combinations == 150


def test_too_complex_nested_depth_counts() -> None:
    """Depth multiplies: 51 values at depth three is 153."""
    policy = {"a": {"b": {"c": [str(i) for i in range(51)]}}}
    assert _error(policy, "MessageBody") == PREFIX + "Filter policy is too complex"
    policy["a"]["b"]["c"] = policy["a"]["b"]["c"][:50]
    parse_filter_policy(json.dumps(policy), "MessageBody")


def test_too_complex_with_or() -> None:
    branch = {"k": [str(i) for i in range(76)]}
    assert _error({"$or": [branch, branch]}) == PREFIX + "Filter policy is too complex"


def test_or_explosion_is_cut_short() -> None:
    policy: dict[str, Any] = {"leaf": ["x"]}
    for level in range(12):
        policy = {"$or": [{f"a{level}": ["1"], **policy}, {f"b{level}": ["2"], **policy}]}
    assert _error(policy) == PREFIX + "Filter policy is too complex"


def test_at_most_five_keys() -> None:
    five = {f"key{i}": ["v"] for i in range(5)}
    parse_filter_policy(json.dumps(five))
    six = {**five, "key5": ["v"]}
    assert _error(six) == PREFIX + "Filter policy can not have more than 5 keys"


def test_only_parent_keys_count_in_nested_policy() -> None:
    nested = {"parent": {f"child{i}": ["v"] for i in range(7)}}
    parse_filter_policy(json.dumps(nested), "MessageBody")


def test_size_limit() -> None:
    big = json.dumps({"key": ["x" * (256 * 1024)]})
    assert _error(big) == PREFIX + "Filter policy is too large"


def test_accepts_every_operator() -> None:
    policy = parse_filter_policy(json.dumps({
        "a": ["s", 1, True, None, {"prefix": "p"}, {"suffix": "s"}, {"equals-ignore-case": "E"}],
        "b": [{"anything-but": ["x", "y"]}, {"anything-but": 5}, {"anything-but": {"prefix": "p"}}],
        "c": [{"numeric": [">", 0, "<=", 150]}, {"exists": False}],
    }))
    assert (len(policy.branches), policy.combinations) == (1, 7 * 3 * 2)
    policy = parse_filter_policy(json.dumps({
        "d": [{"cidr": "10.0.0.0/24"}, {"cidr": "2001:db8::/32"}, {"wildcard": "*.png"}],
        "e": [{"anything-but": {"suffix": "s"}}, {"anything-but": {"equals-ignore-case": ["A", "b"]}},
              {"anything-but": {"wildcard": "a*"}}],
    }))
    assert (len(policy.branches), policy.combinations) == (1, 3 * 3)


def test_empty_policy_is_accepted() -> None:
    assert parse_filter_policy("{}").branches == ((),)
