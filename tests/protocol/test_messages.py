"""Messages with every attribute type, empty and absent fields, unicode and XML special
characters, through both protocols in both directions."""

from __future__ import annotations

from typing import Any

import pytest

from postroom.protocol.parse import parse_json_request, parse_query_request
from postroom.protocol.serialize import serialize_json_response, serialize_query_response

from .support import TRICKY, json_request, op, parse_response, query_request

ATTRIBUTES: dict[str, Any] = {
    "s": {"DataType": "String", "StringValue": TRICKY},
    "n": {"DataType": "Number", "StringValue": "-12.5e3"},
    "b": {"DataType": "Binary", "BinaryValue": b"\x00\x01\xfe\xff<]]>&"},
    "f": {"DataType": "Number.float", "StringValue": "3.14"},
    "c": {"DataType": "String.custom-Ü", "StringValue": ""},
    "bc": {"DataType": "Binary.gif", "BinaryValue": b""},
}

SENDS: list[dict[str, Any]] = [
    {"QueueUrl": "http://localhost:9700/000000000000/q", "MessageBody": "plain"},
    {"QueueUrl": "http://localhost:9700/000000000000/q", "MessageBody": TRICKY, "DelaySeconds": 0,
     "MessageAttributes": ATTRIBUTES},
    {"QueueUrl": "http://localhost:9700/000000000000/q.fifo", "MessageBody": "<xml a='1'>&amp;</xml>",
     "MessageGroupId": "g", "MessageDeduplicationId": "d",
     "MessageSystemAttributes": {"AWSTraceHeader": {"DataType": "String", "StringValue": "Root=1-5759e988"}}},
    {"QueueUrl": "u", "MessageBody": ""},
]

MESSAGE: dict[str, Any] = {
    "MessageId": "5fea7756-0ea4-451a-a703-a558b933e274", "ReceiptHandle": "AQEB+/=",
    "MD5OfBody": "fafb00f5732ab283681e124bf8747ed1", "Body": TRICKY,
    "Attributes": {"SentTimestamp": "1700000000000", "ApproximateReceiveCount": "1", "SenderId": "AIDA"},
    "MD5OfMessageAttributes": "d25a6aea97eb8f585bfa92d314504a92", "MessageAttributes": ATTRIBUTES,
}
RECEIVES: list[dict[str, Any]] = [
    {"Messages": [MESSAGE, {"MessageId": "m2", "ReceiptHandle": "r2", "MD5OfBody": "x", "Body": ""}]},
    {"Messages": [{"MessageId": "m3", "Body": "ü", "Attributes": {"SentTimestamp": "1"}}]},
]


def _query_rt(name: str, params: dict[str, Any]) -> dict[str, Any]:
    return parse_query_request(op(name), query_request(op(name), params))


@pytest.mark.parametrize("params", SENDS)
def test_send_message_both_protocols(params: dict[str, Any]) -> None:
    send = op("SendMessage")
    assert parse_json_request(send, json_request(send, params)) == params
    assert _query_rt("SendMessage", params) == params


def test_send_message_query_wire_names() -> None:
    form = query_request(op("SendMessage"), SENDS[1])
    assert form["MessageAttribute.1.Name"] == "s"
    assert form["MessageAttribute.1.Value.DataType"] == "String"
    assert form["MessageAttribute.1.Value.StringValue"] == TRICKY
    assert form["MessageAttribute.3.Value.BinaryValue"] == "AAH+/zxdXT4m"


def test_send_message_batch_both_protocols() -> None:
    entries = [{"Id": f"e{i}", **{k: v for k, v in p.items() if k != "QueueUrl"}} for i, p in enumerate(SENDS)]
    entries[0]["DelaySeconds"] = 900
    params = {"QueueUrl": "u", "Entries": entries}
    batch = op("SendMessageBatch")
    assert parse_json_request(batch, json_request(batch, params)) == params
    assert _query_rt("SendMessageBatch", params) == params
    form = query_request(batch, params)
    assert form["SendMessageBatchRequestEntry.2.MessageAttribute.3.Value.DataType"] == "Binary"


@pytest.mark.parametrize("result", RECEIVES)
def test_receive_message_both_protocols(result: dict[str, Any]) -> None:
    recv = op("ReceiveMessage")
    assert parse_response("json", recv, serialize_json_response(recv, result)) == result
    assert parse_response("query", recv, serialize_query_response(recv, result, "r")) == result


def test_receive_message_xml_layout() -> None:
    xml = serialize_query_response(op("ReceiveMessage"), RECEIVES[0], "rid").decode()
    assert xml.count("<Message>") == 2
    assert "<Attribute><Name>SentTimestamp</Name><Value>1700000000000</Value></Attribute>" in xml
    assert "<MessageAttribute><Name>n</Name><Value><StringValue>-12.5e3</StringValue>" in xml
    assert "&lt;cödé&gt; &amp;" in xml and "&#xD;\n" in xml
    assert xml.endswith("<ResponseMetadata><RequestId>rid</RequestId></ResponseMetadata></ReceiveMessageResponse>")


def test_empty_receive() -> None:
    recv = op("ReceiveMessage")
    assert parse_response("query", recv, serialize_query_response(recv, {}, "r")) == {}
    assert parse_response("query", recv, serialize_query_response(recv, {"Messages": []}, "r")) == {}
    assert parse_response("json", recv, serialize_json_response(recv, {"Messages": []})) == {"Messages": []}
    assert serialize_json_response(recv, {}) == b"{}"


def test_none_and_unknown_members_are_omitted() -> None:
    send = op("SendMessage")
    result = {"MessageId": "m", "MD5OfMessageBody": "x", "MD5OfMessageAttributes": None, "Bogus": 1}
    assert serialize_json_response(send, result) == b'{"MessageId":"m","MD5OfMessageBody":"x"}'
    xml = serialize_query_response(send, result, "r")
    assert b"MD5OfMessageAttributes" not in xml and b"Bogus" not in xml
    assert parse_response("query", send, xml) == {"MessageId": "m", "MD5OfMessageBody": "x"}


def test_receive_request_lists() -> None:
    params = {"QueueUrl": "u", "AttributeNames": ["All"], "MessageSystemAttributeNames": ["SenderId", "SentTimestamp"],
              "MessageAttributeNames": ["a.*", "b"], "MaxNumberOfMessages": 10, "WaitTimeSeconds": 20,
              "VisibilityTimeout": 0}
    recv = op("ReceiveMessage")
    form = query_request(recv, params)
    assert form["AttributeName.1"] == "All"
    assert form["MessageSystemAttributeName.2"] == "SentTimestamp"
    assert form["MessageAttributeName.1"] == "a.*"
    assert parse_query_request(recv, form) == params
    assert parse_json_request(recv, json_request(recv, params)) == params


def test_empty_list_in_query_is_sent_as_bare_name() -> None:
    recv = op("ReceiveMessage")
    form = query_request(recv, {"QueueUrl": "u", "AttributeNames": []})
    assert form["AttributeNames"] == ""
    assert parse_query_request(recv, form) == {"QueueUrl": "u", "AttributeNames": []}


def test_query_list_indices_are_ordered_numerically() -> None:
    form = {"QueueUrl": "u", **{f"AttributeName.{i}": f"a{i}" for i in (10, 2, 1)}}
    assert parse_query_request(op("GetQueueAttributes"), form)["AttributeNames"] == ["a1", "a2", "a10"]


def test_queue_attributes_and_tags() -> None:
    create = op("CreateQueue")
    params = {"QueueName": "q.fifo", "Attributes": {"FifoQueue": "true", "RedrivePolicy": '{"a": "<&>"}'},
              "tags": {"team": "ü", "": ""}}
    form = query_request(create, params)
    assert form["Attribute.1.Name"] == "FifoQueue" and form["Tag.1.Key"] == "team"
    assert parse_query_request(create, form) == params
    assert parse_json_request(create, json_request(create, params)) == params
    untag = op("UntagQueue")
    form = query_request(untag, {"QueueUrl": "u", "TagKeys": ["a", "b"]})
    assert form["TagKey.2"] == "b"
    attrs = op("GetQueueAttributes")
    result = {"Attributes": {"VisibilityTimeout": "30", "Policy": '{"x":"<y>"}'}}
    xml = serialize_query_response(attrs, result, "r")
    assert b"<Attribute><Name>VisibilityTimeout</Name><Value>30</Value></Attribute>" in xml
    assert parse_response("query", attrs, xml) == result
    tags = op("ListQueueTags")
    xml = serialize_query_response(tags, {"Tags": {"k": "v"}}, "r")
    assert b"<Tag><Key>k</Key><Value>v</Value></Tag>" in xml


def test_list_queues_xml() -> None:
    lq = op("ListQueues")
    result = {"QueueUrls": ["http://h/1/a", "http://h/1/b"], "NextToken": "t"}
    xml = serialize_query_response(lq, result, "r")
    assert b"<QueueUrl>http://h/1/a</QueueUrl><QueueUrl>http://h/1/b</QueueUrl>" in xml
    assert parse_response("query", lq, xml) == result


def test_operation_without_output() -> None:
    xml = serialize_query_response(op("DeleteMessage"), {}, "rid")
    assert xml == (b'<?xml version="1.0"?><DeleteMessageResponse xmlns="http://queue.amazonaws.com/doc/2012-11-05/">'
                   b"<ResponseMetadata><RequestId>rid</RequestId></ResponseMetadata></DeleteMessageResponse>")
    assert serialize_json_response(op("DeleteMessage"), {}) == b"{}"


def test_batch_results_with_failures() -> None:
    batch = op("SendMessageBatch")
    result = {"Successful": [{"Id": "a", "MessageId": "m", "MD5OfMessageBody": "x"}],
              "Failed": [{"Id": "b", "SenderFault": True, "Code": "InvalidParameterValue", "Message": "<bad>"},
                         {"Id": "c", "SenderFault": False, "Code": "InternalError"}]}
    xml = serialize_query_response(batch, result, "r")
    assert b"<BatchResultErrorEntry><Id>b</Id><SenderFault>true</SenderFault>" in xml
    assert b"<SendMessageBatchResultEntry><Id>a</Id>" in xml
    assert parse_response("query", batch, xml) == result
    assert parse_response("json", batch, serialize_json_response(batch, result)) == result
