"""parse_message_attributes / parse_system_attributes / message_size."""

from __future__ import annotations

import base64
from typing import Any

import pytest

from postroom.core.message_attributes import (
    message_size,
    parse_message_attributes,
    parse_system_attributes,
    select_message_attributes,
)
from postroom.core.model import MessageAttributeValue as V
from postroom.errors import InvalidParameterValue


def s(value: Any, data_type: str = "String") -> dict[str, Any]:
    return {"DataType": data_type, "StringValue": value}


def b(value: Any, data_type: str = "Binary") -> dict[str, Any]:
    return {"DataType": data_type, "BinaryValue": value}


def test_none_and_empty() -> None:
    assert parse_message_attributes(None) == {}
    assert parse_message_attributes({}) == {}


def test_valid_attributes_become_records() -> None:
    parsed = parse_message_attributes({
        "s": s("v"), "n": s("-1.5e3", "Number"), "bin": b(b"\x00\x01"), "custom": s("1", "Number.int"),
        "json": s("{}", "String.json"), "img": b(b"gif", "Binary.gif"),
    })
    assert parsed == {
        "s": V("String", "v"), "n": V("Number", "-1.5e3"), "bin": V("Binary", binary_value=b"\x00\x01"),
        "custom": V("Number.int", "1"), "json": V("String.json", "{}"), "img": V("Binary.gif", binary_value=b"gif"),
    }


def test_binary_accepts_bytes_like_and_base64_text() -> None:
    assert parse_message_attributes({"x": b(bytearray(b"ab"))})["x"].binary_value == b"ab"
    assert parse_message_attributes({"x": b(memoryview(b"ab"))})["x"].binary_value == b"ab"
    assert parse_message_attributes({"x": b(base64.b64encode(b"ab").decode())})["x"].binary_value == b"ab"


def test_ten_attributes_allowed_eleven_not() -> None:
    parse_message_attributes({f"a{i}": s("v") for i in range(10)})
    with pytest.raises(InvalidParameterValue) as info:
        parse_message_attributes({f"a{i}": s("v") for i in range(11)})
    assert info.value.message == "Number of message attributes [11] exceeds the allowed maximum [10]."


# AWS also accepts accented Latin letters (U+00C0–U+017F), as LocalStack observed against AWS.
GOOD_NAMES = ["a", "A-b_c.d", "x" * 256, "a.b.c", "AWS", "Amazon", "aws-x", "amazonx", "awsx.y", "0",
              "Größe", "café", "Ærø.ł"]


@pytest.mark.parametrize("name", GOOD_NAMES)
def test_good_names(name: str) -> None:
    assert name in parse_message_attributes({name: s("v")})


BAD_NAMES = [
    ("", "non-empty message attribute name"),
    ("x" * 257, "is invalid"),
    (".a", "is invalid"),
    ("a.", "is invalid"),
    ("a..b", "is invalid"),
    ("a b", "is invalid"),
    ("a/b", "is invalid"),
    ("日本", "is invalid"),
    ("a\u0180", "is invalid"),  # just past Latin Extended-A
    ("AWS.x", "reserved"),
    ("aws.x", "reserved"),
    ("Amazon.x", "reserved"),
    ("AMAZON.x", "reserved"),
]


@pytest.mark.parametrize(("name", "fragment"), BAD_NAMES)
def test_bad_names(name: str, fragment: str) -> None:
    with pytest.raises(InvalidParameterValue, match=fragment) as info:
        parse_message_attributes({name: s("v")})
    if name:
        assert name in info.value.message


BAD_VALUES: list[tuple[dict[str, Any], str]] = [
    ({"StringValue": "v"}, "must contain non-empty message attribute type"),
    ({"DataType": "", "StringValue": "v"}, "must contain non-empty message attribute type"),
    (s("v", "Text"), "The type of message \\(user\\) attribute 'attr' is invalid. You must use only the "
                     "following supported type prefixes: Binary, Number, String."),
    (s("v", "string"), "supported type prefixes"),
    (s("v", ".String"), "supported type prefixes"),
    (s("v", "String.a b"), "invalid data type"),
    (s("v", "String." + "x" * 250), "invalid data type"),
    ({"DataType": "String"}, "must contain non-empty message attribute value for message attribute type 'String'"),
    ({"DataType": "Number"}, "must contain non-empty message attribute value for message attribute type 'Number'"),
    ({"DataType": "Binary"}, "must contain non-empty message attribute value for message attribute type 'Binary'"),
    (s(""), "must contain a non-empty value of type 'String'"),
    (s("", "Number"), "must contain a non-empty value of type 'Number'"),
    (b(b""), "must contain a non-empty value of type 'Binary'"),
    (b(b"x", "String"), "must use field 'String'"),
    (s("x", "Binary"), "must use field 'Binary'"),
    (s(5), "must have a string value"),
    (b(12), "invalid binary value"),
    (b("not base64!!"), "invalid binary value"),
    (s("a\x00b"), "Invalid characters found"),
    (s("\ufffe"), "Invalid characters found"),
    (s("abc", "Number"), "Can't cast the value of message \\(user\\) attribute 'attr' to a number."),
    (s("1.2.3", "Number"), "Can't cast"),
    (s("1e", "Number"), "Can't cast"),
    (s("0x10", "Number"), "Can't cast"),
    (s("NaN", "Number"), "Can't cast"),
    (s("Infinity", "Number"), "Can't cast"),
    (s(" 1", "Number"), "Can't cast"),
    (s("1" * 39, "Number"), "out of range"),
    (s("1e127", "Number"), "out of range"),
    (s("-1e127", "Number"), "out of range"),
    (s("1e-129", "Number"), "out of range"),
]


@pytest.mark.parametrize(("spec", "fragment"), BAD_VALUES)
def test_bad_values(spec: dict[str, Any], fragment: str) -> None:
    with pytest.raises(InvalidParameterValue, match=fragment) as info:
        parse_message_attributes({"attr": spec})
    assert "attr" in info.value.message


@pytest.mark.parametrize("number", [
    "0", "-0", "+7", "1.", ".5", "1e126", "-1e126", "1e-128", "-1e-128", "1" * 38, "1" * 38 + "0" * 50,
    "0.000" + "1" * 38, "12345678901234567890123456789012345678e10", "1E+5", "00012",
])
def test_good_numbers(number: str) -> None:
    parse_message_attributes({"n": s(number, "Number")})


def test_message_size_counts_body_names_types_and_values() -> None:
    attrs = {"ab": V("String", "é"), "c": V("Binary.x", binary_value=b"\x00" * 5)}
    # body 3 + ("ab" 2 + "String" 6 + "é" 2) + ("c" 1 + "Binary.x" 8 + 5)
    assert message_size("abc", attrs) == 3 + 10 + 14
    assert message_size("☃", {}) == 3


def test_system_attributes() -> None:
    assert parse_system_attributes(None) == {}
    header = "Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=1"
    assert parse_system_attributes({"AWSTraceHeader": s(header)}) == {"AWSTraceHeader": V("String", header)}


@pytest.mark.parametrize(("raw", "fragment"), [
    ({"Other": s("x")}, "Message system attribute name 'Other' is invalid."),
    ({"AWSTraceHeader": b(b"x")}, "must be of type 'String'"),
    ({"AWSTraceHeader": s("x", "Number")}, "must be of type 'String'"),
    ({"AWSTraceHeader": s("x", "String.custom")}, "must be of type 'String'"),
    ({"AWSTraceHeader": s("")}, "non-empty value"),
    ({"AWSTraceHeader": {"DataType": "String"}}, "non-empty message attribute value"),
])
def test_bad_system_attributes(raw: dict[str, dict[str, Any]], fragment: str) -> None:
    with pytest.raises(InvalidParameterValue, match=fragment):
        parse_system_attributes(raw)


SELECTABLE = {"General": s("Kenobi"), "Hello": s("There"), "Help.Me": s("Me")}


@pytest.mark.parametrize(("names", "expected"), [
    (["All"], {"General", "Hello", "Help.Me"}),
    (["*"], {"General", "Hello", "Help.Me"}),
    ([".*"], {"General", "Hello", "Help.Me"}),
    (["Foo", "Help"], set()),
    (["Foo", "Hello"], {"Hello"}),
    (["Hel.*"], {"Hello", "Help.Me"}),
    (["Help.*"], {"Help.Me"}),
    (["AWS."], None),
    (["..foo"], None),
    ([], None),
])
def test_select_message_attributes(names: list[str], expected: set[str] | None) -> None:
    """AWS's MessageAttributeNames selection (LocalStack's AWS-validated snapshot
    test_receive_message_message_attribute_names_filters)."""
    attrs = parse_message_attributes(SELECTABLE)
    selected = select_message_attributes(attrs, names)
    assert (None if selected is None else set(selected)) == expected


def test_select_from_a_message_without_attributes_is_none() -> None:
    assert select_message_attributes({}, ["All"]) is None
