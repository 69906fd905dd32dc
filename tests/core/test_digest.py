"""MD5OfMessageBody / MD5OfMessageAttributes, against published vectors and a second,
deliberately plain implementation of AWS's documented algorithm."""

from __future__ import annotations

import hashlib
import struct

import pytest
from hypothesis import given
from hypothesis import strategies as st

from postroom.core.digest import md5_of_body, md5_of_message_attributes
from postroom.core.model import MessageAttributeValue as V


def reference_md5(attrs: dict[str, V]) -> str:
    """AWS Developer Guide, "Calculating the MD5 message digest for message attributes",
    spelled out step by step."""
    buf = bytearray()
    for name in sorted(attrs):
        attr = attrs[name]
        encoded_name = name.encode("utf-8")
        buf += struct.pack(">I", len(encoded_name)) + encoded_name
        encoded_type = attr.data_type.encode("utf-8")
        buf += struct.pack(">I", len(encoded_type)) + encoded_type
        if attr.data_type.split(".")[0] == "Binary":
            buf += b"\x02"
            value = attr.binary_value or b""
        else:
            buf += b"\x01"
            value = (attr.string_value or "").encode("utf-8")
        buf += struct.pack(">I", len(value)) + value
    return hashlib.md5(bytes(buf)).hexdigest()


# Published vectors. The first two are the "Amazon sample" vectors carried in
# ydb-platform/ydb's SQS attribute-MD5 unit test; the third is the SellerName example
# of the AWS message-attribute docs (as used in an SDK helper's test); the fourth is from
# wcharczuk/sqslite's test, which checks against aws-sdk-go-v2 types.
PUBLISHED = [
    ({"test_attribute_name_2": V("String", "test_attribute_value_2"),
      "test_attribute_name_1": V("String", "test_attribute_value_1")}, "d53f3b558fe951154770f25cb63dbba9"),
    ({"test_attribute_name": V("Binary", binary_value=b"test_attribute_value")},
     "23f6bd27ea87aab7dfeadcc9aebee495"),
    ({"SellerName": V("String", "Example Store")}, "cd28f3b68aeee4b2eac9c66f2f694b58"),
    ({"ordinal": V("Number", "1"), "category": V("String", "test")}, "d21ae90c49061e927f57df5f5d72be1f"),
]


@pytest.mark.parametrize(("attrs", "expected"), PUBLISHED)
def test_published_vectors(attrs: dict[str, V], expected: str) -> None:
    assert md5_of_message_attributes(attrs) == expected
    assert reference_md5(attrs) == expected


@pytest.mark.parametrize(("body", "expected"), [
    ("", "d41d8cd98f00b204e9800998ecf8427e"),
    ("abc", "900150983cd24fb0d6963f7d28e17f72"),
    ("bar", "37b51d194a7513e45b56f6524f2d51f2"),  # AWS's answer in elasticmq#373
])
def test_md5_of_body(body: str, expected: str) -> None:
    assert md5_of_body(body) == expected


def test_md5_of_body_uses_utf8() -> None:
    assert md5_of_body("héllo ☃ 𝄞") == hashlib.md5("héllo ☃ 𝄞".encode()).hexdigest()


def test_empty_attributes_have_no_digest() -> None:
    assert md5_of_message_attributes({}) is None


def test_order_of_insertion_does_not_matter() -> None:
    a = {"b": V("String", "1"), "a": V("Number", "2")}
    b = {"a": V("Number", "2"), "b": V("String", "1")}
    assert md5_of_message_attributes(a) == md5_of_message_attributes(b)


def test_custom_types_and_transport_bytes() -> None:
    cases = [
        {"n": V("Number.float", "1.5")},
        {"s": V("String.json", "{}")},
        {"b": V("Binary.gif", binary_value=b"\x00\xff")},
        {"u": V("String", "ünïcødé 𝄞")},
    ]
    for attrs in cases:
        assert md5_of_message_attributes(attrs) == reference_md5(attrs)


def test_string_and_binary_with_same_bytes_differ() -> None:
    as_string = md5_of_message_attributes({"x": V("String", "ab")})
    as_binary = md5_of_message_attributes({"x": V("Binary", binary_value=b"ab")})
    assert as_string != as_binary


def test_system_attribute_trace_header() -> None:
    header = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1"
    attrs = {"AWSTraceHeader": V("String", header)}
    assert md5_of_message_attributes(attrs) == reference_md5(attrs)


_names = st.text(alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.", min_size=1,
                 max_size=20)
_values = st.one_of(
    st.builds(lambda s, t: V(t, s), st.text(min_size=1, max_size=50),
              st.sampled_from(["String", "Number", "String.x", "Number.int"])),
    st.builds(lambda b, t: V(t, binary_value=b), st.binary(min_size=1, max_size=50),
              st.sampled_from(["Binary", "Binary.png"])),
)


@given(st.dictionaries(_names, _values, min_size=1, max_size=10))
def test_matches_reference(attrs: dict[str, V]) -> None:
    assert md5_of_message_attributes(attrs) == reference_md5(attrs)
