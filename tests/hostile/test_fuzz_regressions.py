"""Each request the fuzzer (bench/fuzz.py) found answered with a 5xx, or not at all, as an
ordinary regression test: it now gets AWS's client error, and changes nothing."""

from __future__ import annotations

import base64
import copy
import json
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from botocore.exceptions import ClientError

from tests.api.conftest import Server
from tests.hostile.conftest import error_type, post_form, post_json, unique
from tests.protocol.support import MODEL, OPERATIONS, example

SURROGATE_BODY = ('{"QueueUrl": "%s", "Entries": [{"Id": "bad", "MessageBody": "\\ud800"}, '
                  '{"Id": "ok", "MessageBody": "fine"}]}')
FORBIDDEN = ["\ud800", "\udfff", "a\udc00b", "\x00", "\ufffe", "\uffff", "\x1f"]


def _messages(sqs: Any, url: str) -> list[str]:
    got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=0)
    return sorted(m["Body"] for m in got.get("Messages", []))


def test_lone_surrogate_in_a_batch_entry_body_fails_that_entry_with_invalid_message_contents(
        server: Server, sqs: Any) -> None:
    """Issue #15: this request was a 500 InternalError."""
    url = sqs.create_queue(QueueName=unique())["QueueUrl"]
    r = post_json(server, "SendMessageBatch", SURROGATE_BODY % url)
    assert r.status_code == 200, r.text
    doc = r.json()
    assert [e["Id"] for e in doc["Successful"]] == ["ok"]
    assert [(e["Id"], e["Code"], e["SenderFault"]) for e in doc["Failed"]] == [
        ("bad", "InvalidMessageContents", True)]
    assert _messages(sqs, url) == ["fine"]


@pytest.mark.parametrize("where", ["MessageBody", "StringValue"])
def test_lone_surrogate_in_send_message_is_rejected_and_nothing_is_sent(server: Server, sqs: Any, where: str) -> None:
    url = sqs.create_queue(QueueName=unique())["QueueUrl"]
    body: dict[str, Any] = {"QueueUrl": url, "MessageBody": "x"}
    if where == "MessageBody":
        body["MessageBody"] = "\ud800"
    else:
        body["MessageAttributes"] = {"a": {"DataType": "String", "StringValue": "\udfff"}}
    r = post_json(server, "SendMessage", body)
    assert r.status_code == 400, r.text
    assert error_type(r) == ("InvalidMessageContents" if where == "MessageBody" else "InvalidParameterValueException")
    assert _messages(sqs, url) == []


@pytest.mark.parametrize("value", ["\ud800", "x\udfffy"])
def test_lone_surrogate_in_other_fields_is_invalid_parameter_value(server: Server, sqs: Any, value: str) -> None:
    url = sqs.create_queue(QueueName=unique())["QueueUrl"]
    for action, body in [("TagQueue", {"QueueUrl": url, "Tags": {"k": value}}),
                         ("TagQueue", {"QueueUrl": url, "Tags": {value: "v"}}),
                         ("SetQueueAttributes", {"QueueUrl": url, "Attributes": {"Policy": value}}),
                         ("SendMessage", {"QueueUrl": url + value, "MessageBody": "x"}),
                         ("SendMessage", {"QueueUrl": url, "MessageBody": "x", "MessageGroupId": value})]:
        r = post_json(server, action, body)
        assert r.status_code == 400, (action, r.text)
        assert error_type(r) == "InvalidParameterValueException", (action, r.text)
    assert sqs.list_queue_tags(QueueUrl=url).get("Tags") is None
    assert "Policy" not in sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert _messages(sqs, url) == []


def _string_leaves(node: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    if isinstance(node, dict):
        for k, v in node.items():
            yield from _string_leaves(v, (*path, k))
            yield (*path, ("key", k))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from _string_leaves(v, (*path, i))
    elif isinstance(node, str):
        yield path


def _wire(node: Any) -> Any:
    """params as the AWS JSON protocol carries them: blobs in base64 (json.dumps then escapes
    every non-ASCII character, lone surrogates included, as ``\\uXXXX``)."""
    if isinstance(node, dict):
        return {k: _wire(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_wire(v) for v in node]
    if isinstance(node, bytes):
        return base64.b64encode(node).decode()
    return node


def _replace(params: dict[str, Any], path: tuple[Any, ...], value: str) -> dict[str, Any]:
    out = copy.deepcopy(params)
    node: Any = out
    for p in path[:-1]:
        node = node[p]
    last = path[-1]
    if isinstance(last, tuple):
        node[value] = node.pop(last[1])
    else:
        node[last] = value
    return out


@pytest.mark.parametrize("action", OPERATIONS)
def test_forbidden_characters_in_every_field_of_every_action_are_client_errors(
        server: Server, sqs: Any, action: str) -> None:
    """Every string (and map key) of every SQS action, batch entries included, replaced in turn by
    a lone surrogate, NUL, U+FFFE…: a 2xx or a 4xx with AWS's error shape, never a 5xx; an
    untouched queue stays as it was."""
    sentinel = sqs.create_queue(QueueName=unique("sentinel"), tags={"t": "1"})["QueueUrl"]
    sqs.send_message(QueueUrl=sentinel, MessageBody="keep")
    before = sqs.get_queue_attributes(QueueUrl=sentinel, AttributeNames=["All"])["Attributes"]
    url = sqs.create_queue(QueueName=unique())["QueueUrl"]
    op = MODEL.operation_model(action)
    params = example(op.input_shape)
    for key in ("QueueUrl",):
        if key in params:
            params[key] = url
    for path in _string_leaves(params):
        for value in FORBIDDEN:
            r = post_json(server, action, json.dumps(_wire(_replace(params, path, value))))
            assert r.status_code < 500, (action, path, repr(value), r.text)
            if r.status_code >= 400:
                assert "__type" in r.json(), r.text
    assert sqs.get_queue_attributes(QueueUrl=sentinel, AttributeNames=["All"])["Attributes"] == before
    assert sqs.list_queue_tags(QueueUrl=sentinel)["Tags"] == {"t": "1"}
    assert _messages(sqs, sentinel) == ["keep"]


def _deep(depth: int) -> str:
    return "[" * depth + "]" * depth


def test_deeply_nested_json_body_is_a_serialization_exception(server: Server) -> None:
    for body in (_deep(100_000), '{"QueueName": ' + _deep(50_000) + "}", '{"a":' * 50_000 + "1" + "}" * 50_000):
        r = post_json(server, "CreateQueue", body)
        assert r.status_code == 400, r.text[:300]
        assert error_type(r) == "SerializationException"


@pytest.mark.parametrize("attribute", ["Policy", "RedrivePolicy", "RedriveAllowPolicy"])
def test_deeply_nested_json_in_queue_policies_is_rejected(server: Server, sqs: Any, attribute: str) -> None:
    url = sqs.create_queue(QueueName=unique())["QueueUrl"]
    before = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    for text in (_deep(20_000), '{"a": ' + _deep(20_000) + "}"):
        with pytest.raises(ClientError) as err:
            sqs.set_queue_attributes(QueueUrl=url, Attributes={attribute: text})
        assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
        assert err.value.response["Error"]["Code"] in ("InvalidAttributeValue", "InvalidParameterValue")
    assert sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"] == before


@pytest.mark.parametrize("attribute", ["FilterPolicy", "DeliveryPolicy", "RedrivePolicy"])
def test_deeply_nested_json_in_subscription_policies_is_rejected(server: Server, sns: Any, sqs: Any,
                                                                 attribute: str) -> None:
    topic = sns.create_topic(Name=unique("t"))["TopicArn"]
    queue_url = sqs.create_queue(QueueName=unique())["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sub = sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn)["SubscriptionArn"]
    before = sns.get_subscription_attributes(SubscriptionArn=sub)["Attributes"]
    for text in (_deep(20_000), '{"a": ' + _deep(20_000) + "}"):
        with pytest.raises(ClientError) as err:
            sns.set_subscription_attributes(SubscriptionArn=sub, AttributeName=attribute, AttributeValue=text)
        assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400, err.value.response
    assert sns.get_subscription_attributes(SubscriptionArn=sub)["Attributes"] == before
    # A lone surrogate escaped inside the policy's JSON is text like any other: accepted or refused,
    # never a 5xx, and the subscription still reads back.
    try:
        sns.set_subscription_attributes(SubscriptionArn=sub, AttributeName=attribute,
                                        AttributeValue='{"a": ["\\ud800"]}')
    except ClientError as exc:
        assert exc.response["ResponseMetadata"]["HTTPStatusCode"] == 400, exc.response
    assert sns.get_subscription_attributes(SubscriptionArn=sub)["Attributes"]["SubscriptionArn"] == sub


@pytest.mark.parametrize("attribute", ["Policy", "DeliveryPolicy", "ArchivePolicy", "DataProtectionPolicy"])
def test_deeply_nested_json_in_topic_attributes_is_rejected(server: Server, sns: Any, attribute: str) -> None:
    topic = sns.create_topic(Name=unique("t"))["TopicArn"]
    before = sns.get_topic_attributes(TopicArn=topic)["Attributes"]
    for text in (_deep(20_000), '{"a": ' + _deep(20_000) + "}"):
        with pytest.raises(ClientError) as err:
            if attribute == "DataProtectionPolicy":
                sns.put_data_protection_policy(ResourceArn=topic, DataProtectionPolicy=text)
            else:
                sns.set_topic_attributes(TopicArn=topic, AttributeName=attribute, AttributeValue=text)
        assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400, err.value.response
    assert sns.get_topic_attributes(TopicArn=topic)["Attributes"] == before


def test_deeply_nested_json_message_structure_is_rejected(server: Server, sns: Any) -> None:
    topic = sns.create_topic(Name=unique("t"))["TopicArn"]
    with pytest.raises(ClientError) as err:
        sns.publish(TopicArn=topic, MessageStructure="json", Message=_deep(20_000))
    assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400


def test_integers_of_thousands_of_digits_are_invalid_values(server: Server, sqs: Any, sns: Any) -> None:
    """Python refuses to convert integers over 4,300 digits (ValueError); that was a 500."""
    url = sqs.create_queue(QueueName=unique())["QueueUrl"]
    huge = "9" * 5000
    r = post_form(server, f"Action=ReceiveMessage&Version=2012-11-05&QueueUrl={url}&MaxNumberOfMessages={huge}")
    assert r.status_code == 400 and "<Code>InvalidParameterValue</Code>" in r.text, r.text[:300]
    with pytest.raises(ClientError) as err:
        sqs.set_queue_attributes(QueueUrl=url, Attributes={"VisibilityTimeout": huge})
    assert err.value.response["Error"]["Code"] == "InvalidAttributeValue"
    assert sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["VisibilityTimeout"])["Attributes"] == {
        "VisibilityTimeout": "30"}
    app = sns.create_platform_application(Name=unique("app"), Platform="GCM",
                                          Attributes={"PlatformCredential": "k"})["PlatformApplicationArn"]
    with pytest.raises(ClientError) as err:
        sns.set_platform_application_attributes(PlatformApplicationArn=app,
                                                Attributes={"SuccessFeedbackSampleRate": huge})
    assert err.value.response["Error"]["Code"] == "InvalidParameter"


def test_queue_url_that_is_no_url_is_queue_does_not_exist(server: Server) -> None:
    r = post_json(server, "SendMessage", {"QueueUrl": "http://[127.0.0.1/000000000000/q", "MessageBody": "x"})
    assert r.status_code == 400, r.text
    assert error_type(r) == "QueueDoesNotExist"


@pytest.mark.parametrize("endpoint", ["http://127.0.0.1:9%,2Fhook", "http://127.0.0.1:99999/x", "http://:80/x",
                                      "http://h:-1/"])
def test_http_subscription_to_an_endpoint_that_is_no_url_is_invalid_parameter(server: Server, sns: Any,
                                                                              endpoint: str) -> None:
    """Such an endpoint was accepted, then failed every HTTP delivery tick (httpx.InvalidURL)."""
    topic = sns.create_topic(Name=unique("t"))["TopicArn"]
    with pytest.raises(ClientError) as err:
        sns.subscribe(TopicArn=topic, Protocol="http", Endpoint=endpoint)
    assert err.value.response["Error"]["Code"] == "InvalidParameter"
    assert sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"] == []


def test_sns_error_that_echoes_a_lone_surrogate_is_still_an_error_document(server: Server, sns: Any) -> None:
    topic = sns.create_topic(Name=unique("t"))["TopicArn"]
    policy = json.dumps({"a": [{"prefix": "\ud800", "x": 1}]})
    r = post_form(server, requests.models.RequestEncodingMixin._encode_params({  # type: ignore[attr-defined]
        "Action": "Subscribe", "Version": "2010-03-31", "TopicArn": topic, "Protocol": "sqs",
        "Endpoint": "arn:aws:sqs:us-east-1:000000000000:nope", "Attributes.entry.1.key": "FilterPolicy",
        "Attributes.entry.1.value": policy}), service="sns")
    assert r.status_code == 400, r.text[:300]
    assert "<Code>InvalidParameter</Code>" in r.text


@pytest.mark.parametrize("body", [b"1.5", b"[]", b'"x"', b"7", _deep(50_000).encode()])
def test_admin_api_bodies_that_are_no_json_object_are_400(server: Server, body: bytes) -> None:
    r = requests.post(server.endpoint + "/_postroom/sms/opted-out", data=body, timeout=10)
    assert r.status_code == 400, r.text[:300]
    r = requests.post(server.endpoint + "/_postroom/replays", data=body, timeout=10)
    assert r.status_code == 400, r.text[:300]


ODD_POLICIES = [{"Statement": "abc"}, {"Statement": ["x", 1]}, {"Statement": {"Sid": "a"}}, {"Statement": None}, {}]


@pytest.mark.parametrize("policy", ODD_POLICIES, ids=range(len(ODD_POLICIES)))
def test_add_and_remove_permission_over_any_stored_policy_object(server: Server, sqs: Any, sns: Any,
                                                                 policy: dict[str, Any]) -> None:
    """Any JSON object is a storable Policy; AddPermission then met a Statement that was null or a
    list of strings (a 500 on both services)."""
    url = sqs.create_queue(QueueName=unique())["QueueUrl"]
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"Policy": json.dumps(policy)})
    sqs.add_permission(QueueUrl=url, Label="l", AWSAccountIds=["111122223333"], Actions=["SendMessage"])
    stored = json.loads(sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["Policy"])["Attributes"]["Policy"])
    assert [st.get("Sid") for st in stored["Statement"] if isinstance(st, dict)][-1] == "l"
    sqs.remove_permission(QueueUrl=url, Label="l")
    topic = sns.create_topic(Name=unique("t"))["TopicArn"]
    sns.set_topic_attributes(TopicArn=topic, AttributeName="Policy", AttributeValue=json.dumps(policy))
    sns.add_permission(TopicArn=topic, Label="l", AWSAccountId=["111122223333"], ActionName=["Publish"])
    stored = json.loads(sns.get_topic_attributes(TopicArn=topic)["Attributes"]["Policy"])
    assert [st.get("Sid") for st in stored["Statement"] if isinstance(st, dict)][-1] == "l"
    sns.remove_permission(TopicArn=topic, Label="l")
    stored = json.loads(sns.get_topic_attributes(TopicArn=topic)["Attributes"]["Policy"])
    assert "l" not in [st.get("Sid") for st in stored["Statement"] if isinstance(st, dict)]


@pytest.mark.parametrize("count", ["1" * 5000, "²"])
def test_redrive_max_receive_count_that_is_no_integer_is_invalid(server: Server, sqs: Any, count: str) -> None:
    """A maxReceiveCount string of 20,000 digits was a 500 (found by bench/fuzz.py, seed 12)."""
    url = sqs.create_queue(QueueName=unique())["QueueUrl"]
    dlq_url = sqs.create_queue(QueueName=unique())["QueueUrl"]
    dlq = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    with pytest.raises(ClientError) as err:
        sqs.set_queue_attributes(QueueUrl=url, Attributes={"RedrivePolicy": json.dumps(
            {"deadLetterTargetArn": dlq, "maxReceiveCount": count})})
    assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert "RedrivePolicy" not in sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]


@pytest.mark.parametrize("rate", ["²", "9" * 5000, "٣"])
def test_sample_rates_that_are_no_ascii_integer_are_invalid(server: Server, sns: Any, rate: str) -> None:
    """``"²".isdigit()`` is true and ``int("²")`` raises: a 500 in three SNS places."""
    topic = sns.create_topic(Name=unique("t"))["TopicArn"]
    with pytest.raises(ClientError) as err:
        sns.set_topic_attributes(TopicArn=topic, AttributeName="HTTPSuccessFeedbackSampleRate", AttributeValue=rate)
    assert err.value.response["Error"]["Code"] == "InvalidParameter"
    with pytest.raises(ClientError) as err:
        sns.set_sms_attributes(attributes={"DeliveryStatusSuccessSamplingRate": rate})
    assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    app = sns.create_platform_application(Name=unique("app"), Platform="GCM",
                                          Attributes={"PlatformCredential": "k"})["PlatformApplicationArn"]
    with pytest.raises(ClientError) as err:
        sns.set_platform_application_attributes(PlatformApplicationArn=app,
                                                Attributes={"SuccessFeedbackSampleRate": rate})
    assert err.value.response["Error"]["Code"] == "InvalidParameter"
    with pytest.raises(ClientError) as err:
        sns.set_topic_attributes(TopicArn=topic, AttributeName="ArchivePolicy",
                                 AttributeValue=json.dumps({"MessageRetentionPeriod": rate}))
    assert err.value.response["Error"]["Code"] == "InvalidParameter"
