"""Publish to SQS subscriptions: fan-out, the JSON envelope field by field with its signature
checked by an independent verifier, raw delivery, MessageStructure=json, Publish's errors."""

from __future__ import annotations

import base64
import copy
import json
import re
import urllib.parse
from typing import Any

import pytest
import requests
from botocore.exceptions import ClientError
from cryptography.exceptions import InvalidSignature

from tests.api.conftest import Server
from tests.sns import sigverify
from tests.sns.conftest import assert_sns_error, envelope, new_topic, receive, subscribe_queue

TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


def test_fan_out_to_three_queues(sns: Any, sqs: Any) -> None:
    topic = new_topic(sns)
    queues = [subscribe_queue(sns, sqs, topic)[0] for _ in range(3)]
    ids = [sns.publish(TopicArn=topic, Message=f"m{i}")["MessageId"] for i in range(4)]
    assert len(set(ids)) == 4 and all(UUID.match(i) for i in ids), ids
    for url in queues:
        got = receive(sqs, url, 4)
        envs = [envelope(m) for m in got]
        assert sorted(e["Message"] for e in envs) == ["m0", "m1", "m2", "m3"], envs
        assert sorted(e["MessageId"] for e in envs) == sorted(ids)


@pytest.mark.parametrize("version", ["1", "2"])
def test_envelope_field_by_field_and_signature(sns: Any, sqs: Any, sns_server: Server, version: str) -> None:
    topic = new_topic(sns, SignatureVersion=version)
    url, sub = subscribe_queue(sns, sqs, topic)
    message = 'héllo "world"\nline 2 <&>'
    mid = sns.publish(TopicArn=topic, Message=message, Subject="Greetings", MessageAttributes={
        "colour": {"DataType": "String", "StringValue": "blue"},
        "size": {"DataType": "Number", "StringValue": "42.5"},
        "blob": {"DataType": "Binary", "BinaryValue": b"\x00\x01\xff"},
        "tags": {"DataType": "String.Array", "StringValue": '["a", "b"]'},
    })["MessageId"]
    [m] = receive(sqs, url, 1)
    env = envelope(m)
    assert env["Type"] == "Notification"
    assert env["MessageId"] == mid
    assert env["TopicArn"] == topic
    assert env["Subject"] == "Greetings"
    assert env["Message"] == message
    assert TIMESTAMP.match(env["Timestamp"]), env["Timestamp"]
    assert env["SignatureVersion"] == version
    assert env["Signature"]
    assert env["SigningCertURL"].endswith(".pem")
    unsub = urllib.parse.urlparse(env["UnsubscribeURL"])
    q = urllib.parse.parse_qs(unsub.query)
    assert q["Action"] == ["Unsubscribe"] and q["SubscriptionArn"] == [sub], env["UnsubscribeURL"]
    assert env["MessageAttributes"] == {
        "colour": {"Type": "String", "Value": "blue"},
        "size": {"Type": "Number", "Value": "42.5"},
        "blob": {"Type": "Binary", "Value": base64.b64encode(b"\x00\x01\xff").decode()},
        "tags": {"Type": "String.Array", "Value": '["a", "b"]'},
    }
    # the SQS message itself carries no message attributes when the envelope is delivered
    assert "MessageAttributes" not in m

    sigverify.verify(env)
    # the verifier can fail: a changed field or the wrong algorithm must not verify
    for field, value in (("Message", message + "!"), ("Subject", "Greeting"), ("TopicArn", topic + "x")):
        forged = copy.deepcopy(env)
        forged[field] = value
        with pytest.raises(InvalidSignature):
            sigverify.verify(forged)
    other = copy.deepcopy(env)
    other["SignatureVersion"] = "2" if version == "1" else "1"
    with pytest.raises(InvalidSignature):
        sigverify.verify(other)


def test_envelope_without_subject_and_attributes(sns: Any, sqs: Any) -> None:
    topic = new_topic(sns)
    url, _ = subscribe_queue(sns, sqs, topic)
    sns.publish(TopicArn=topic, Message="plain")
    [m] = receive(sqs, url, 1)
    env = envelope(m)
    assert "Subject" not in env, env  # AWS: absent when no Subject was published
    assert env.get("MessageAttributes", {}) == {}
    assert env["SignatureVersion"] == "1"  # a topic signs with version 1 unless told otherwise
    sigverify.verify(env)


def test_signing_certificate_served(sns: Any, sqs: Any, sns_server: Server) -> None:
    r = requests.get(sns_server.endpoint + "/_postroom/sns/SimpleNotificationService-postroom.pem", timeout=10)
    assert r.status_code == 200
    assert b"-----BEGIN CERTIFICATE-----" in r.content


def test_unsubscribe_url_unsubscribes(sns: Any, sqs: Any) -> None:
    topic = new_topic(sns)
    url, sub = subscribe_queue(sns, sqs, topic)
    sns.publish(TopicArn=topic, Message="first")
    [m] = receive(sqs, url, 1)
    r = requests.get(envelope(m)["UnsubscribeURL"], timeout=10)
    assert r.status_code == 200, r.text
    with pytest.raises(ClientError) as ei:
        sns.get_subscription_attributes(SubscriptionArn=sub)
    assert_sns_error(ei, "NotFound", 404)
    sns.publish(TopicArn=topic, Message="second")
    assert receive(sqs, url, 1, timeout=1.5) == []


def test_raw_delivery(sns: Any, sqs: Any) -> None:
    topic = new_topic(sns)
    raw_url, _ = subscribe_queue(sns, sqs, topic, raw=True)
    env_url, _ = subscribe_queue(sns, sqs, topic)
    body = '{"order": 1, "note": "not re-encoded"}'
    sns.publish(TopicArn=topic, Message=body, Subject="ignored in raw", MessageAttributes={
        "colour": {"DataType": "String", "StringValue": "blue"},
        "size": {"DataType": "Number", "StringValue": "42.5"},
        "blob": {"DataType": "Binary", "BinaryValue": b"\x00\x01\xff"},
    })
    [m] = receive(sqs, raw_url, 1)
    assert m["Body"] == body
    assert m["MessageAttributes"] == {
        "colour": {"DataType": "String", "StringValue": "blue"},
        "size": {"DataType": "Number", "StringValue": "42.5"},
        "blob": {"DataType": "Binary", "BinaryValue": b"\x00\x01\xff"},
    }
    [e] = receive(sqs, env_url, 1)
    assert envelope(e)["Message"] == body


def test_raw_delivery_switched_on_later(sns: Any, sqs: Any) -> None:
    topic = new_topic(sns)
    url, sub = subscribe_queue(sns, sqs, topic)
    sns.set_subscription_attributes(SubscriptionArn=sub, AttributeName="RawMessageDelivery", AttributeValue="true")
    sns.publish(TopicArn=topic, Message="now raw")
    [m] = receive(sqs, url, 1)
    assert m["Body"] == "now raw"


def test_message_structure_json(sns: Any, sqs: Any) -> None:
    topic = new_topic(sns)
    env_url, _ = subscribe_queue(sns, sqs, topic)
    raw_url, _ = subscribe_queue(sns, sqs, topic, raw=True)
    sns.publish(TopicArn=topic, MessageStructure="json",
                Message=json.dumps({"default": "for everyone", "sqs": "for sqs", "http": "for http"}))
    assert envelope(receive(sqs, env_url, 1)[0])["Message"] == "for sqs"
    assert receive(sqs, raw_url, 1)[0]["Body"] == "for sqs"
    sns.publish(TopicArn=topic, MessageStructure="json",
                Message=json.dumps({"default": "for everyone", "http": "for http", "email": "for email"}))
    assert envelope(receive(sqs, env_url, 1)[0])["Message"] == "for everyone"
    assert receive(sqs, raw_url, 1)[0]["Body"] == "for everyone"


@pytest.mark.parametrize("message", [
    json.dumps({"sqs": "no default"}),
    "not json at all",
    json.dumps(["default"]),
])
def test_message_structure_json_invalid(sns: Any, message: str) -> None:
    topic = new_topic(sns)
    with pytest.raises(ClientError) as ei:
        sns.publish(TopicArn=topic, MessageStructure="json", Message=message)
    assert_sns_error(ei, "InvalidParameter")


def test_publish_errors(sns: Any, sns_raw: Any, sqs: Any) -> None:
    topic = new_topic(sns)
    url, _ = subscribe_queue(sns, sqs, topic)
    with pytest.raises(ClientError) as ei:
        sns.publish(TopicArn=topic, Message="")
    assert_sns_error(ei, "InvalidParameter")
    with pytest.raises(ClientError) as ei:
        sns.publish(TopicArn=topic, Message="x" * (256 * 1024 + 1))
    assert_sns_error(ei, "InvalidParameter")
    with pytest.raises(ClientError) as ei:
        sns.publish(TopicArn=topic, Message="x", Subject="s" * 101)
    assert_sns_error(ei, "InvalidParameter")
    with pytest.raises(ClientError) as ei:
        sns.publish(TopicArn=topic, Message="x", Subject="line\nbreak")
    assert_sns_error(ei, "InvalidParameter")
    with pytest.raises(ClientError) as ei:
        sns_raw.publish(TopicArn=topic)
    assert_sns_error(ei, "InvalidParameter")
    with pytest.raises(ClientError) as ei:
        sns.publish(TopicArn=topic, Message="x",
                    MessageAttributes={"n": {"DataType": "Number", "StringValue": "not-a-number"}})
    assert ei.value.response["Error"]["Code"] in ("ParameterValueInvalid", "InvalidParameter", "InvalidParameterValue")
    assert ei.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    # nothing was delivered by the failed calls
    assert receive(sqs, url, 1, timeout=1.0) == []


def test_publish_exactly_256_kib_is_accepted(sns: Any, sqs: Any) -> None:
    topic = new_topic(sns)
    url, _ = subscribe_queue(sns, sqs, topic, raw=True)
    body = "y" * (256 * 1024)
    sns.publish(TopicArn=topic, Message=body)
    [m] = receive(sqs, url, 1)
    assert m["Body"] == body


def test_publish_with_target_arn(sns: Any, sqs: Any) -> None:
    topic = new_topic(sns)
    url, _ = subscribe_queue(sns, sqs, topic, raw=True)
    sns.publish(TargetArn=topic, Message="via TargetArn")
    assert [m["Body"] for m in receive(sqs, url, 1)] == ["via TargetArn"]
