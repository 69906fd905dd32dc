"""Filter policy matching, table-driven from the *Amazon SNS Developer Guide* examples
("Example filter policies", "String value matching", "Numeric value matching", "Key
matching", "IP address matching", "AND/OR logic")."""

from __future__ import annotations

import json
from typing import Any

import pytest

from postroom.core.sns.filter_policy import matches_attributes, matches_body, parse_filter_policy

Attributes = dict[str, tuple[str, str]]


def _attrs(policy: Any, attributes: Attributes) -> bool:
    return matches_attributes(parse_filter_policy(json.dumps(policy)), attributes)


def _body(policy: Any, body: Any) -> bool:
    text = body if isinstance(body, str) else json.dumps(body)
    return matches_body(parse_filter_policy(json.dumps(policy), "MessageBody"), text)


def S(value: str) -> tuple[str, str]:  # reads like the DataType
    return ("String", value)


def N(value: str) -> tuple[str, str]:
    return ("Number", value)


def A(*values: Any) -> tuple[str, str]:
    return ("String.Array", json.dumps(list(values)))


# --- Example filter policies -------------------------------------------------------------------

EXAMPLE_MESSAGE: Attributes = {
    "customer_interests": A("soccer", "rugby", "hockey"),
    "store": S("example_corp"),
    "event": S("order_placed"),
    "price_usd": N("210.75"),
}
EXAMPLE_BODY = {"customer_interests": ["soccer", "rugby", "hockey"], "store": "example_corp",
                "event": "order_placed", "price_usd": 210.75}
ACCEPTING = {
    "store": ["example_corp"],
    "event": [{"anything-but": "order_cancelled"}],
    "customer_interests": ["rugby", "football", "baseball"],
    "price_usd": [{"numeric": [">=", 100]}],
}
REJECTING = {
    "store": ["example_corp"],
    "event": ["order_cancelled"],
    "encrypted": [False],
    "customer_interests": ["basketball", "baseball"],
}


def test_example_policy_accepts_example_message() -> None:
    assert _attrs(ACCEPTING, EXAMPLE_MESSAGE)
    assert _body(ACCEPTING, EXAMPLE_BODY)


def test_example_policy_rejects_example_message() -> None:
    assert not _attrs(REJECTING, EXAMPLE_MESSAGE)
    assert not _body(REJECTING, EXAMPLE_BODY)


def test_each_accepting_key_is_needed() -> None:
    for key in ACCEPTING:
        assert not _attrs(ACCEPTING, {k: v for k, v in EXAMPLE_MESSAGE.items() if k != key})


def test_message_attributes_not_in_policy_are_ignored() -> None:
    assert _attrs({"store": ["example_corp"]}, {**EXAMPLE_MESSAGE, "other": S("x")})


def test_empty_policy_matches_everything() -> None:
    assert _attrs({}, {})
    assert _body({}, {"a": 1})
    assert not _body({}, "not json")


# --- attribute scope, table ------------------------------------------------------------------

ATTRIBUTE_CASES: list[tuple[str, Any, Attributes, bool]] = [
    # String value matching › Exact matching
    ("exact", ["rugby", "tennis"], {"k": S("rugby")}, True),
    ("exact", ["rugby", "tennis"], {"k": S("tennis")}, True),
    ("exact", ["rugby", "tennis"], {"k": A("rugby", "tennis")}, True),
    ("exact", ["rugby", "tennis"], {"k": S("baseball")}, False),
    ("exact", ["rugby", "tennis"], {"k": A("baseball")}, False),
    ("exact case-sensitive", ["rugby"], {"k": S("Rugby")}, False),
    ("exact absent", ["rugby"], {}, False),
    # Anything-but matching
    ("anything-but", [{"anything-but": ["rugby", "tennis"]}], {"k": S("baseball")}, True),
    ("anything-but", [{"anything-but": ["rugby", "tennis"]}], {"k": S("football")}, True),
    ("anything-but", [{"anything-but": ["rugby", "tennis"]}], {"k": S("rugby")}, False),
    ("anything-but array: none listed", [{"anything-but": ["rugby", "tennis"]}], {"k": A("baseball", "soccer")}, True),
    ("anything-but array: one listed", [{"anything-but": ["rugby", "tennis"]}], {"k": A("rugby", "baseball")}, False),
    ("anything-but absent", [{"anything-but": ["rugby"]}], {}, False),
    ("anything-but single", [{"anything-but": "rugby"}], {"k": S("soccer")}, True),
    ("anything-but or exists false", [{"anything-but": ["rugby"]}, {"exists": False}], {}, True),
    ("anything-but or exists false", [{"anything-but": ["rugby"]}, {"exists": False}], {"k": S("rugby")}, False),
    # anything-but with prefix / suffix / equals-ignore-case / wildcard
    ("anything-but prefix", [{"anything-but": {"prefix": "order-"}}], {"k": S("invoice-1")}, True),
    ("anything-but prefix", [{"anything-but": {"prefix": "order-"}}], {"k": S("order-1")}, False),
    ("anything-but suffix", [{"anything-but": {"suffix": "ball"}}], {"k": S("rugby")}, True),
    ("anything-but suffix", [{"anything-but": {"suffix": "ball"}}], {"k": S("baseball")}, False),
    ("anything-but ignore-case", [{"anything-but": {"equals-ignore-case": ["RUGBY"]}}], {"k": S("Rugby")}, False),
    ("anything-but ignore-case", [{"anything-but": {"equals-ignore-case": "rugby"}}], {"k": S("golf")}, True),
    ("anything-but wildcard", [{"anything-but": {"wildcard": "*.png"}}], {"k": S("a.jpg")}, True),
    ("anything-but wildcard", [{"anything-but": {"wildcard": "*.png"}}], {"k": S("a.png")}, False),
    # Prefix / suffix / equals-ignore-case
    ("prefix", [{"prefix": "bas"}], {"k": S("baseball")}, True),
    ("prefix", [{"prefix": "bas"}], {"k": S("basketball")}, True),
    ("prefix", [{"prefix": "bas"}], {"k": S("rugby")}, False),
    ("prefix array", [{"prefix": "bas"}], {"k": A("rugby", "basketball")}, True),
    ("suffix", [{"suffix": "ball"}], {"k": S("baseball")}, True),
    ("suffix", [{"suffix": "ball"}], {"k": S("basketball")}, True),
    ("suffix", [{"suffix": "ball"}], {"k": S("rugby")}, False),
    ("equals-ignore-case", [{"equals-ignore-case": "RuGbY"}], {"k": S("rugby")}, True),
    ("equals-ignore-case", [{"equals-ignore-case": "RuGbY"}], {"k": S("RUGBY")}, True),
    ("equals-ignore-case", [{"equals-ignore-case": "RuGbY"}], {"k": S("baseball")}, False),
    # Wildcard
    ("wildcard", [{"wildcard": "*.png"}], {"k": S("cat.png")}, True),
    ("wildcard", [{"wildcard": "*.png"}], {"k": S("cat.png.gz")}, False),
    ("wildcard middle", [{"wildcard": "dir/*/file"}], {"k": S("dir/a/b/file")}, True),
    ("wildcard escaped star", [{"wildcard": "a\\*b"}], {"k": S("a*b")}, True),
    ("wildcard escaped star", [{"wildcard": "a\\*b"}], {"k": S("axb")}, False),
    ("wildcard regex chars literal", [{"wildcard": "a.c*"}], {"k": S("abc")}, False),
    # Numeric value matching
    ("numeric =", [{"numeric": ["=", 301.5]}], {"k": N("301.5")}, True),
    ("numeric =", [{"numeric": ["=", 301.5]}], {"k": N("3.015e2")}, True),
    ("numeric =", [{"numeric": ["=", 301.5]}], {"k": N("301.6")}, False),
    ("exact number", [300], {"k": N("3.0e2")}, True),
    ("exact number", [300], {"k": N("300.000001")}, True),  # five digits of accuracy
    ("exact number", [300], {"k": N("300.0001")}, False),
    ("exact number vs string", [300], {"k": S("300")}, False),
    ("string vs number", ["300"], {"k": N("300")}, False),
    ("numeric vs String attribute", [{"numeric": [">", 0]}], {"k": S("5")}, False),
    ("numeric vs text", [{"numeric": [">", 0]}], {"k": N("abc")}, False),
    ("anything-but numbers", [{"anything-but": [100, 500]}], {"k": N("101")}, True),
    ("anything-but numbers", [{"anything-but": [100, 500]}], {"k": N("100.1")}, True),
    ("anything-but numbers", [{"anything-but": [100, 500]}], {"k": N("100")}, False),
    ("anything-but numbers", [{"anything-but": [100, 500]}], {"k": N("1e2")}, False),
    ("range <", [{"numeric": ["<", 0]}], {"k": N("-1")}, True),
    ("range <", [{"numeric": ["<", 0]}], {"k": N("0")}, False),
    ("range", [{"numeric": [">", 0, "<=", 150]}], {"k": N("150")}, True),
    ("range", [{"numeric": [">", 0, "<=", 150]}], {"k": N("0.5")}, True),
    ("range", [{"numeric": [">", 0, "<=", 150]}], {"k": N("0")}, False),
    ("range", [{"numeric": [">", 0, "<=", 150]}], {"k": N("150.1")}, False),
    ("range >= <", [{"numeric": [">=", 10, "<", 20]}], {"k": N("10")}, True),
    ("range >= <", [{"numeric": [">=", 10, "<", 20]}], {"k": N("20")}, False),
    ("range <=", [{"numeric": ["<=", -5]}], {"k": N("-5")}, True),
    ("numeric in array", [{"numeric": [">", 10]}], {"k": A("a", 5, 11)}, True),
    ("numeric in array", [{"numeric": [">", 10]}], {"k": A("a", 5, "11")}, False),
    # Key matching
    ("exists true", [{"exists": True}], {"k": S("fans")}, True),
    ("exists true", [{"exists": True}], {"other": S("fans")}, False),
    ("exists false", [{"exists": False}], {"k": S("fans")}, False),
    ("exists false", [{"exists": False}], {"other": S("fans")}, True),
    ("exists true empty array", [{"exists": True}], {"k": A()}, True),
    ("binary is ignored", [{"exists": True}], {"k": ("Binary", "AAEC")}, False),
    ("binary is ignored", [{"exists": False}], {"k": ("Binary", "AAEC")}, True),
    ("binary never matches", [{"anything-but": "x"}], {"k": ("Binary", "AAEC")}, False),
    # Custom type labels follow the base type
    ("custom String label", ["x"], {"k": ("String.custom", "x")}, True),
    ("custom Number label", [{"numeric": [">", 1]}], {"k": ("Number.float", "1.5")}, True),
    # Literals inside String.Array
    ("boolean in array", [True], {"k": A(True)}, True),
    ("boolean vs string", [True], {"k": S("true")}, False),
    ("null in array", [None], {"k": A(None)}, True),
    ("null never matches absent", [None], {}, False),
    ("bad array", ["a"], {"k": ("String.Array", "not json")}, False),
    # IP address matching
    ("cidr v4", [{"cidr": "10.0.0.0/24"}], {"k": S("10.0.0.255")}, True),
    ("cidr v4", [{"cidr": "10.0.0.0/24"}], {"k": S("10.0.1.0")}, False),
    ("cidr v4 host bits", [{"cidr": "10.0.0.7/24"}], {"k": S("10.0.0.1")}, True),
    ("cidr v6", [{"cidr": "2001:db8::/32"}], {"k": S("2001:db8:1::1")}, True),
    ("cidr v6", [{"cidr": "2001:db8::/32"}], {"k": S("2001:db9::1")}, False),
    ("cidr v6 vs v4", [{"cidr": "::/0"}], {"k": S("10.0.0.1")}, False),
    ("cidr not an ip", [{"cidr": "10.0.0.0/8"}], {"k": S("ten")}, False),
]


@pytest.mark.parametrize(("label", "rule", "attributes", "expected"), ATTRIBUTE_CASES,
                         ids=[f"{c[0]}-{i}" for i, c in enumerate(ATTRIBUTE_CASES)])
def test_attribute_matching(label: str, rule: Any, attributes: Attributes, expected: bool) -> None:
    assert _attrs({"k": rule}, attributes) is expected


# --- AND / OR logic ------------------------------------------------------------------------------


def test_and_logic() -> None:
    policy = {"customer_interests": ["rugby"], "price_usd": [{"numeric": [">", 100]}]}
    assert _attrs(policy, {"customer_interests": S("rugby"), "price_usd": N("101")})
    assert not _attrs(policy, {"customer_interests": S("rugby"), "price_usd": N("100")})
    assert not _attrs(policy, {"customer_interests": S("soccer"), "price_usd": N("101")})


def test_or_logic_within_a_key() -> None:
    policy = {"customer_interests": ["rugby", "football", "baseball"]}
    for sport in ("rugby", "football", "baseball"):
        assert _attrs(policy, {"customer_interests": S(sport)})
    assert not _attrs(policy, {"customer_interests": S("golf")})


OR_POLICY = {
    "source": ["aws.cloudwatch"],
    "$or": [{"metricName": ["CPUUtilization"]}, {"namespace": ["AWS/EC2"]}],
}


@pytest.mark.parametrize(("attributes", "expected"), [
    ({"source": S("aws.cloudwatch"), "metricName": S("CPUUtilization")}, True),
    ({"source": S("aws.cloudwatch"), "namespace": S("AWS/EC2")}, True),
    ({"source": S("aws.cloudwatch"), "metricName": S("Other"), "namespace": S("AWS/EC2")}, True),
    ({"source": S("aws.cloudwatch"), "metricName": S("Other")}, False),
    ({"source": S("aws.s3"), "metricName": S("CPUUtilization")}, False),
])
def test_or_operator_attributes(attributes: Attributes, expected: bool) -> None:
    assert _attrs(OR_POLICY, attributes) is expected


def test_or_operator_body_nested() -> None:
    policy = {"source": ["aws.cloudwatch"],
              "detail": {"$or": [{"state": ["ALARM"]}, {"severity": [{"numeric": [">", 3]}]}]}}
    assert _body(policy, {"source": "aws.cloudwatch", "detail": {"state": "ALARM"}})
    assert _body(policy, {"source": "aws.cloudwatch", "detail": {"severity": 4}})
    assert not _body(policy, {"source": "aws.cloudwatch", "detail": {"severity": 3, "state": "OK"}})


def test_or_with_single_object_is_a_plain_key() -> None:
    """``$or`` needs two or more objects; otherwise it is read as an ordinary property whose
    values are (invalid) match expressions."""
    from postroom.errors import InvalidParameterValue

    with pytest.raises(InvalidParameterValue, match="Unrecognized match type a"):
        parse_filter_policy(json.dumps({"$or": [{"a": ["x"]}]}))


# --- body scope --------------------------------------------------------------------------------

BODY_CASES: list[tuple[str, Any, Any, bool]] = [
    ("exact", {"customer_interests": ["rugby", "tennis"]}, {"customer_interests": "rugby"}, True),
    ("exact", {"customer_interests": ["rugby", "tennis"]}, {"customer_interests": "baseball"}, False),
    ("array any element", {"customer_interests": ["rugby"]}, {"customer_interests": ["soccer", "rugby"]}, True),
    ("anything-but array", {"customer_interests": [{"anything-but": ["rugby", "tennis"]}]},
     {"customer_interests": ["rugby", "baseball"]}, True),
    ("anything-but", {"customer_interests": [{"anything-but": ["rugby", "tennis"]}]},
     {"customer_interests": "rugby"}, False),
    ("numbers", {"price_usd": [{"numeric": ["=", 301.5]}]}, {"price_usd": 3.015e2}, True),
    ("numbers", {"price_usd": [{"numeric": ["=", 301.5]}]}, {"price_usd": "301.5"}, False),
    ("anything-but numbers", {"price": [{"anything-but": [100, 500]}]}, {"price": [100, 50]}, True),
    ("anything-but numbers", {"price": [{"anything-but": [100, 500]}]}, {"price": 100}, False),
    ("boolean", {"encrypted": [False]}, {"encrypted": False}, True),
    ("boolean", {"encrypted": [False]}, {"encrypted": "false"}, False),
    ("null", {"x": [None]}, {"x": None}, True),
    ("null", {"x": [None]}, {}, False),
    ("exists", {"store": [{"exists": True}]}, {"store": "fans", "customer_interests": ["baseball"]}, True),
    ("exists", {"store": [{"exists": True}]}, {"customer_interests": ["baseball", "basketball"]}, False),
    ("not exists", {"store": [{"exists": False}]}, {"customer_interests": ["baseball"]}, True),
    ("not exists", {"store": [{"exists": False}]}, {"store": "fans"}, False),
    ("exists needs a leaf", {"store": [{"exists": True}]}, {"store": {"name": "fans"}}, False),
    ("exists empty array", {"store": [{"exists": True}]}, {"store": []}, False),
    ("exists null", {"store": [{"exists": True}]}, {"store": None}, True),
    ("nested", {"object": {"key": [{"prefix": "auto-"}]}}, {"object": {"key": "auto-insurance"}}, True),
    ("nested", {"object": {"key": [{"prefix": "auto-"}]}}, {"object": {"key": "home-insurance"}}, False),
    ("nested", {"object": {"key": [{"prefix": "auto-"}]}}, {"key": "auto-insurance"}, False),
    ("nested through arrays", {"Records": {"s3": {"object": {"key": [{"prefix": "auto-"}]}}}},
     {"Records": [{"s3": {"object": [[{"key": "auto-insurance-2314.xml"}]]}}, {"s3": {"object": {"key": "x"}}}]},
     True),
    ("dotted key matches nested", {"object.nested": ["string.value"]}, {"object": {"nested": "string.value"}}, True),
    ("nested matches dotted key", {"object": {"nested": ["string.value"]}}, {"object.nested": "string.value"}, True),
    ("deep dotted", {"object": {"nested": {"test": ["v"]}}}, {"object.nested": {"test": "v"}}, True),
    ("deep dotted", {"object": {"nested": {"test": ["v"]}}}, {"object": {"nested.test": "v"}}, True),
    ("route-to", {"headers": {"route-to": ["queue1"]}}, {"headers": {"route-to": ["queue1", "queue2"]}}, True),
    ("route-to", {"headers": {"route-to": ["queue1"]}}, {"headers": {"route-to": ["queue2"]}}, False),
    ("cidr", {"ip": [{"cidr": "10.0.0.0/24"}]}, {"ip": "10.0.0.3"}, True),
    ("suffix", {"file": [{"suffix": ".png"}]}, {"file": "a.png"}, True),
    ("not json", {"a": ["b"]}, "not json", False),
    ("not an object", {"a": ["b"]}, '["b"]', False),
    ("scalar body", {"a": ["b"]}, '"b"', False),
]


@pytest.mark.parametrize(("label", "policy", "body", "expected"), BODY_CASES,
                         ids=[f"{c[0]}-{i}" for i, c in enumerate(BODY_CASES)])
def test_body_matching(label: str, policy: Any, body: Any, expected: bool) -> None:
    assert _body(policy, body) is expected


def test_scopes_do_not_cross() -> None:
    attributes_policy = parse_filter_policy(json.dumps({"a": ["b"]}))
    body_policy = parse_filter_policy(json.dumps({"a": ["b"]}), "MessageBody")
    assert not matches_body(attributes_policy, '{"a": "b"}')
    assert not matches_attributes(body_policy, {"a": S("b")})


def test_policy_is_reusable_and_hashable() -> None:
    policy = parse_filter_policy(json.dumps(ACCEPTING))
    assert policy == parse_filter_policy(json.dumps(ACCEPTING))
    assert hash(policy) == hash(parse_filter_policy(json.dumps(ACCEPTING)))
    assert all(matches_attributes(policy, EXAMPLE_MESSAGE) for _ in range(3))


def test_deeply_nested_body_does_not_crash() -> None:
    body = '{"k": ' + "[" * 5000 + '"v"' + "]" * 5000 + "}"
    assert _body({"k": ["v"]}, body) in (True, False)
