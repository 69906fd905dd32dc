"""SendMessage / ReceiveMessage / DeleteMessage, message attributes, MD5s, sizes."""

from __future__ import annotations

import re
import uuid

import pytest
from botocore.exceptions import ClientError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.api.conftest import assert_error, counts, drain, md5_hex, md5_of_attributes

ATTRS = {
    "zeta": {"DataType": "String", "StringValue": "last"},
    "alpha": {"DataType": "Number", "StringValue": "-12.5e3"},
    "blob": {"DataType": "Binary", "BinaryValue": b"\x00\x01\xfe\xff"},
    "custom": {"DataType": "String.json", "StringValue": '{"k": "ü"}'},
    "num_int": {"DataType": "Number.int", "StringValue": "42"},
}


def test_send_and_receive_roundtrip(sqs, queue):
    url = queue()
    body = "hello ✓ \t\n\r" + chr(0x1F600) + chr(0xE000)
    sent = sqs.send_message(QueueUrl=url, MessageBody=body)
    uuid.UUID(sent["MessageId"])
    assert sent["MD5OfMessageBody"] == md5_hex(body)
    assert "MD5OfMessageAttributes" not in sent
    msgs = sqs.receive_message(QueueUrl=url)["Messages"]
    assert len(msgs) == 1
    m = msgs[0]
    assert m["Body"] == body
    assert m["MessageId"] == sent["MessageId"]
    assert m["MD5OfBody"] == md5_hex(body)
    assert m["ReceiptHandle"]
    sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
    assert counts(sqs, url) == (0, 0, 0)


def test_message_attributes_md5_and_roundtrip(sqs, queue):
    url = queue()
    sent = sqs.send_message(QueueUrl=url, MessageBody="b", MessageAttributes=ATTRS)
    assert sent["MD5OfMessageAttributes"] == md5_of_attributes(ATTRS)
    m = sqs.receive_message(QueueUrl=url, MessageAttributeNames=["All"])["Messages"][0]
    assert m["MessageAttributes"] == ATTRS
    assert m["MD5OfMessageAttributes"] == md5_of_attributes(ATTRS)


def test_md5_known_vector(sqs, queue):
    # fixed vector so the test's own MD5 routine is checked too
    attrs = {"a": {"DataType": "String", "StringValue": "b"}}
    assert md5_of_attributes(attrs) == md5_hex(b"\x00\x00\x00\x01a\x00\x00\x00\x06String\x01\x00\x00\x00\x01b")
    url = queue()
    assert sqs.send_message(QueueUrl=url, MessageBody="x", MessageAttributes=attrs)[
        "MD5OfMessageAttributes"] == md5_of_attributes(attrs)


@pytest.mark.parametrize(("names", "expected"), [
    (["All"], set(ATTRS)),
    ([".*"], set(ATTRS)),
    (["*"], set(ATTRS)),
    (["zeta"], {"zeta"}),
    (["zeta", "blob", "missing"], {"zeta", "blob"}),
    (["cust.*"], {"custom"}),  # AWS: "prefix.*" selects names starting with "prefix"
    (["missing"], set()),  # AWS answers "MessageAttributes": {} then
    ([], None),
    (["AWS."], None),  # not a valid name: selects nothing, and is no error
])
def test_message_attribute_name_selection(sqs, queue, names, expected):
    """As recorded in LocalStack's AWS-validated snapshot
    test_receive_message_message_attribute_names_filters."""
    url = queue()
    sqs.send_message(QueueUrl=url, MessageBody="b", MessageAttributes=ATTRS)
    kwargs = {"MessageAttributeNames": names} if names else {}
    m = sqs.receive_message(QueueUrl=url, **kwargs)["Messages"][0]
    if expected is None:
        assert "MessageAttributes" not in m
    else:
        assert set(m["MessageAttributes"]) == expected
        assert m["MessageAttributes"] == {k: ATTRS[k] for k in expected}
    if not expected:
        assert "MD5OfMessageAttributes" not in m


def test_message_attribute_prefix_selection(sqs, queue):
    """AWS's ``prefix.*`` is a plain name prefix: ``Hel.*`` selects ``Hello`` and
    ``Help.Me`` (LocalStack's AWS-validated snapshot), so ``app.*`` selects ``apple``."""
    url = queue()
    attrs = {"app.one": {"DataType": "String", "StringValue": "1"},
             "app.two": {"DataType": "String", "StringValue": "2"},
             "apple": {"DataType": "String", "StringValue": "3"},
             "other": {"DataType": "String", "StringValue": "4"}}
    sqs.send_message(QueueUrl=url, MessageBody="b", MessageAttributes=attrs)
    m = sqs.receive_message(QueueUrl=url, MessageAttributeNames=["app.*"])["Messages"][0]
    assert set(m["MessageAttributes"]) == {"app.one", "app.two", "apple"}
    assert m["MD5OfMessageAttributes"] == md5_of_attributes({k: attrs[k] for k in ("app.one", "app.two", "apple")})


@pytest.mark.parametrize("param", ["AttributeNames", "MessageSystemAttributeNames"])
def test_system_attributes(sqs, queue, server, param):
    url = queue()
    before_ms = int(server.now() * 1000) - 2000
    sent = sqs.send_message(QueueUrl=url, MessageBody="b")
    m = sqs.receive_message(QueueUrl=url, **{param: ["All"]})["Messages"][0]
    a = m["Attributes"]
    after_ms = int(server.now() * 1000) + 2000
    assert m["MessageId"] == sent["MessageId"]
    assert {"SenderId", "SentTimestamp", "ApproximateReceiveCount", "ApproximateFirstReceiveTimestamp"} <= set(a)
    assert a["SenderId"]
    assert before_ms <= int(a["SentTimestamp"]) <= after_ms
    assert int(a["SentTimestamp"]) <= int(a["ApproximateFirstReceiveTimestamp"]) <= after_ms
    assert a["ApproximateReceiveCount"] == "1"
    assert "MessageGroupId" not in a and "SequenceNumber" not in a


def test_system_attribute_selection(sqs, queue):
    url = queue()
    sqs.send_message(QueueUrl=url, MessageBody="b")
    m = sqs.receive_message(QueueUrl=url, MessageSystemAttributeNames=["SentTimestamp"])["Messages"][0]
    assert set(m["Attributes"]) == {"SentTimestamp"}
    sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"], VisibilityTimeout=0)
    m = sqs.receive_message(QueueUrl=url)["Messages"][0]
    assert "Attributes" not in m


def test_receive_respects_max_number_and_drains_exactly_once(sqs, queue):
    url = queue()
    bodies = {f"m{i}" for i in range(25)}
    for chunk in range(0, 25, 10):
        sqs.send_message_batch(QueueUrl=url, Entries=[
            {"Id": b, "MessageBody": b} for b in sorted(bodies)[chunk:chunk + 10]])
    seen: list[str] = []
    for n in (1, 3, 10, 10, 10, 10, 10, 10):
        msgs = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=n).get("Messages", [])
        assert len(msgs) <= n
        seen += [m["Body"] for m in msgs]
    assert len(seen) == len(set(seen))
    assert set(seen) == bodies
    assert counts(sqs, url) == (0, 25, 0)


@pytest.mark.parametrize("n", [0, 11, -1])
def test_receive_max_number_out_of_range(sqs, queue, n):
    url = queue()
    sqs.send_message(QueueUrl=url, MessageBody="x")
    with pytest.raises(ClientError) as ei:
        sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=n)
    assert_error(ei, "InvalidParameterValue")
    assert counts(sqs, url) == (1, 0, 0)


@pytest.mark.parametrize("body", ["\x00", "a\x08b", "\ufffe", "\x1f"])
def test_invalid_characters_rejected(sqs, queue, body):
    url = queue()
    with pytest.raises(ClientError) as ei:
        sqs.send_message(QueueUrl=url, MessageBody=body)
    assert_error(ei, "InvalidMessageContents", "InvalidMessageContents")
    assert counts(sqs, url) == (0, 0, 0)


def test_body_of_exactly_one_mib_accepted_and_one_more_byte_rejected(sqs, queue):
    url = queue()
    body = "x" * 1048576
    sqs.send_message(QueueUrl=url, MessageBody=body)
    with pytest.raises(ClientError) as ei:
        sqs.send_message(QueueUrl=url, MessageBody=body + "y")
    assert_error(ei, "InvalidParameterValue")
    msgs = drain(sqs, url)
    assert [len(m["Body"]) for m in msgs] == [1048576]


def test_size_counts_utf8_bytes_and_attributes(sqs, queue):
    url = queue(MaximumMessageSize=1024)
    sqs.send_message(QueueUrl=url, MessageBody="é" * 512)  # 1024 bytes
    with pytest.raises(ClientError) as ei:
        sqs.send_message(QueueUrl=url, MessageBody="é" * 512 + "x")
    assert_error(ei, "InvalidParameterValue")
    # name (1) + type (6) + value (10) = 17 bytes of attributes on top of a 1010-byte body
    with pytest.raises(ClientError) as ei:
        sqs.send_message(QueueUrl=url, MessageBody="x" * 1010,
                         MessageAttributes={"a": {"DataType": "String", "StringValue": "0123456789"}})
    assert_error(ei, "InvalidParameterValue")
    sqs.send_message(QueueUrl=url, MessageBody="x" * 1007,
                     MessageAttributes={"a": {"DataType": "String", "StringValue": "0123456789"}})
    assert sorted(len(m["Body"]) for m in drain(sqs, url)) == [512, 1007]


def test_too_many_message_attributes(sqs, queue):
    url = queue()
    attrs = {f"a{i}": {"DataType": "String", "StringValue": "v"} for i in range(11)}
    with pytest.raises(ClientError) as ei:
        sqs.send_message(QueueUrl=url, MessageBody="b", MessageAttributes=attrs)
    assert_error(ei, "InvalidParameterValue")
    attrs.pop("a10")
    sqs.send_message(QueueUrl=url, MessageBody="b", MessageAttributes=attrs)
    assert counts(sqs, url) == (1, 0, 0)


@pytest.mark.parametrize("attr", [
    {"DataType": "Number", "StringValue": "not-a-number"},
    {"DataType": "Strange", "StringValue": "v"},
    {"DataType": "String", "StringValue": ""},
    {"DataType": "String"},
])
def test_invalid_message_attribute(sqs, queue, attr):
    url = queue()
    with pytest.raises(ClientError) as ei:
        sqs.send_message(QueueUrl=url, MessageBody="b", MessageAttributes={"a": attr})
    assert_error(ei, "InvalidParameterValue")
    assert counts(sqs, url) == (0, 0, 0)


@pytest.mark.parametrize("name", ["AWS.reserved", "amazon.x", "bad name", "日本", ".lead", "trail.", "a..b"])
def test_invalid_message_attribute_name(sqs, queue, name):
    url = queue()
    with pytest.raises(ClientError) as ei:
        sqs.send_message(QueueUrl=url, MessageBody="b",
                         MessageAttributes={name: {"DataType": "String", "StringValue": "v"}})
    assert_error(ei, "InvalidParameterValue")
    assert counts(sqs, url) == (0, 0, 0)


def test_delete_message_invalid_receipt_handle(sqs, queue):
    url = queue()
    sqs.send_message(QueueUrl=url, MessageBody="b")
    with pytest.raises(ClientError) as ei:
        sqs.delete_message(QueueUrl=url, ReceiptHandle="garbage")
    assert_error(ei, "ReceiptHandleIsInvalid", "ReceiptHandleIsInvalid")
    assert counts(sqs, url) == (1, 0, 0)


def test_delete_twice_is_ok(sqs, queue):
    url = queue()
    sqs.send_message(QueueUrl=url, MessageBody="b")
    m = sqs.receive_message(QueueUrl=url)["Messages"][0]
    sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
    sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
    assert counts(sqs, url) == (0, 0, 0)


def test_receipt_handle_of_other_queue_is_rejected(sqs, queue):
    a, b = queue(), queue()
    sqs.send_message(QueueUrl=a, MessageBody="b")
    h = sqs.receive_message(QueueUrl=a)["Messages"][0]["ReceiptHandle"]
    with pytest.raises(ClientError) as ei:
        sqs.delete_message(QueueUrl=b, ReceiptHandle=h)
    assert_error(ei, "ReceiptHandleIsInvalid")
    assert counts(sqs, a) == (0, 1, 0)


def test_message_ids_are_unique(sqs, queue):
    url = queue()
    ids = {sqs.send_message(QueueUrl=url, MessageBody="same")["MessageId"] for _ in range(20)}
    assert len(ids) == 20
    assert all(re.fullmatch(r"[0-9a-f-]{36}", i) for i in ids)


def test_aws_trace_header_system_attribute(sqs, queue):
    url = queue()
    trace = {"AWSTraceHeader": {"DataType": "String",
                                "StringValue": "Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=1"}}
    sent = sqs.send_message(QueueUrl=url, MessageBody="b", MessageSystemAttributes=trace)
    assert sent["MD5OfMessageSystemAttributes"] == md5_of_attributes(trace)
    m = sqs.receive_message(QueueUrl=url, MessageSystemAttributeNames=["AWSTraceHeader"])["Messages"][0]
    assert m["Attributes"] == {"AWSTraceHeader": trace["AWSTraceHeader"]["StringValue"]}


_NAME = st.from_regex(r"[A-Za-z0-9_-]{1,20}", fullmatch=True).filter(
    lambda s: not s.lower().startswith(("aws", "amazon")))
_ATTR = st.one_of(
    st.builds(lambda v: {"DataType": "String", "StringValue": v},
              st.text(st.characters(min_codepoint=0x20, max_codepoint=0xD7FF), min_size=1, max_size=30)),
    st.builds(lambda v: {"DataType": "Number", "StringValue": str(v)}, st.integers(-10**9, 10**9)),
    st.builds(lambda v: {"DataType": "Binary", "BinaryValue": v}, st.binary(min_size=1, max_size=30)),
    st.builds(lambda v: {"DataType": "String.custom-label", "StringValue": v}, st.text("abc", min_size=1)),
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(attrs=st.dictionaries(_NAME, _ATTR, min_size=1, max_size=10))
def test_md5_of_random_attributes(sqs, queue, attrs):
    url = queue()
    sent = sqs.send_message(QueueUrl=url, MessageBody="b", MessageAttributes=attrs)
    assert sent["MD5OfMessageAttributes"] == md5_of_attributes(attrs)
    m = sqs.receive_message(QueueUrl=url, MessageAttributeNames=["All"])["Messages"][0]
    assert m["MessageAttributes"] == attrs
    assert m["MD5OfMessageAttributes"] == md5_of_attributes(attrs)


def test_concurrent_consumers_on_standard_queue_lose_nothing(server, queue, sqs):
    import threading

    from tests.api.conftest import make_client

    url = queue(VisibilityTimeout=120)
    bodies = {f"s{i}" for i in range(500)}
    ordered = sorted(bodies)
    for i in range(0, 500, 10):
        sqs.send_message_batch(QueueUrl=url, Entries=[{"Id": str(k), "MessageBody": b}
                                                      for k, b in enumerate(ordered[i:i + 10])])
    got: list[str] = []
    lock = threading.Lock()

    def consume() -> None:
        c = make_client(server.endpoint)
        for m in drain(c, url):
            with lock:
                got.append(m["Body"])

    ts = [threading.Thread(target=consume) for _ in range(6)]
    for t in ts:
        t.start()
    for t in ts:
        t.join(60)
    assert set(got) == bodies
    assert counts(sqs, url) == (0, 0, 0)
