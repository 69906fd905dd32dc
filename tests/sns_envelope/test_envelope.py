"""The SNS JSON envelope against the examples in AWS's "Amazon SNS message and JSON formats".

The documented HTTP POST examples give the body and its ``Content-Length``; our
serialization must reproduce the notification body byte for byte and the length of
all three (773, 1336 and 1399 bytes).
"""

from __future__ import annotations

import base64
import json
from datetime import datetime

import pytest

from postroom.core.sns import envelope as sns_envelope
from postroom.core.sns.envelope import (
    format_timestamp,
    notification,
    string_to_sign,
    subscription_confirmation,
    to_json,
    unsubscribe_confirmation,
)
from postroom.errors import InvalidParameterValue

TOPIC = "arn:aws:sns:us-west-2:123456789012:MyTopic"
CERT_URL = "https://sns.us-west-2.amazonaws.com/SimpleNotificationService-f3ecfb7224c7233fe7bb5f59f96de52f.pem"
UNSUBSCRIBE_URL = (
    "https://sns.us-west-2.amazonaws.com/?Action=Unsubscribe&SubscriptionArn="
    "arn:aws:sns:us-west-2:123456789012:MyTopic:c9135db0-26c4-47ec-8998-413945fb5a96"
)

# "HTTP/HTTPS notification JSON format": the documented body (Content-Length: 773).
DOC_NOTIFICATION = """{
  "Type" : "Notification",
  "MessageId" : "22b80b92-fdea-4c2c-8f9d-bdfb0c7bf324",
  "TopicArn" : "arn:aws:sns:us-west-2:123456789012:MyTopic",
  "Subject" : "My First Message",
  "Message" : "Hello world!",
  "Timestamp" : "2012-05-02T00:54:06.655Z",
  "SignatureVersion" : "1",
  "Signature" : "EXAMPLEw6JRNwm1LFQL4ICB0bnXrdB8ClRMTQFGBqwLpGbM78tJ4etTwC5zU7O3tS6tGpey3ejedNdOJ+1fkIp9F2/LmNVKb5aFlYq+9rk9ZiPph5YlLmWsDcyC5T+Sy9/umic5S0UQc2PEtgdpVBahwNOdMW4JPwk0kAJJztnc=",
  "SigningCertURL" : "https://sns.us-west-2.amazonaws.com/SimpleNotificationService-f3ecfb7224c7233fe7bb5f59f96de52f.pem",
  "UnsubscribeURL" : "https://sns.us-west-2.amazonaws.com/?Action=Unsubscribe&SubscriptionArn=arn:aws:sns:us-west-2:123456789012:MyTopic:c9135db0-26c4-47ec-8998-413945fb5a96"
}"""  # noqa: E501


def _ms(iso: str) -> int:
    return round(datetime.strptime(iso, "%Y-%m-%dT%H:%M:%S.%f%z").timestamp() * 1000)


def _doc_notification() -> dict[str, object]:
    envelope = notification(
        message_id="22b80b92-fdea-4c2c-8f9d-bdfb0c7bf324",
        topic_arn=TOPIC,
        subject="My First Message",
        message="Hello world!",
        timestamp_ms=_ms("2012-05-02T00:54:06.655Z"),
        unsubscribe_url=UNSUBSCRIBE_URL,
        signing_cert_url=CERT_URL,
    )
    envelope["Signature"] = json.loads(DOC_NOTIFICATION)["Signature"]
    return envelope


def test_notification_matches_the_documented_body_byte_for_byte() -> None:
    body = to_json(_doc_notification())
    assert body == DOC_NOTIFICATION
    assert len(body.encode("utf-8")) == 773  # the example's Content-Length


def test_notification_key_order_and_optional_keys() -> None:
    envelope = _doc_notification()
    assert list(envelope) == [
        "Type",
        "MessageId",
        "TopicArn",
        "Subject",
        "Message",
        "Timestamp",
        "SignatureVersion",
        "Signature",
        "SigningCertURL",
        "UnsubscribeURL",
    ]
    bare = notification(
        message_id="m",
        topic_arn=TOPIC,
        message="x",
        timestamp_ms=0,
        unsubscribe_url=UNSUBSCRIBE_URL,
        signing_cert_url=CERT_URL,
        message_attributes={},
    )
    assert "Subject" not in bare
    assert "MessageAttributes" not in bare
    assert "SequenceNumber" not in bare
    assert bare["Signature"] == ""
    assert bare["SignatureVersion"] == "1"


def test_empty_subject_is_kept() -> None:
    envelope = notification(
        message_id="m",
        topic_arn=TOPIC,
        message="x",
        subject="",
        timestamp_ms=0,
        unsubscribe_url=UNSUBSCRIBE_URL,
        signing_cert_url=CERT_URL,
    )
    assert envelope["Subject"] == ""
    assert "Subject\n\n" in string_to_sign(envelope)


def test_message_attributes_come_last_in_sns_layout() -> None:
    binary = base64.b64encode(b"\x00\xff").decode()
    envelope = notification(
        message_id="m-1",
        topic_arn=TOPIC,
        message='{"foo": "bar"}',
        timestamp_ms=_ms("2023-01-17T22:33:14.134Z"),
        message_attributes={"Prefix": ("String", "/a/b"), "Count": ("Number", "3"), "Blob": ("Binary", binary)},
        unsubscribe_url=UNSUBSCRIBE_URL,
        signing_cert_url=CERT_URL,
        signature_version="2",
    )
    assert list(envelope)[-1] == "MessageAttributes"
    assert envelope["MessageAttributes"] == {
        "Prefix": {"Type": "String", "Value": "/a/b"},
        "Count": {"Type": "Number", "Value": "3"},
        "Blob": {"Type": "Binary", "Value": binary},
    }
    body = to_json(envelope)
    # SNS: the attribute object opens on the key's line, one attribute a line (four
    # spaces, compact inner object, the caller's order), closed by "\n  }" then "\n}".
    assert body.endswith(
        '  "MessageAttributes" : {\n'
        '    "Prefix" : {"Type":"String","Value":"/a/b"},\n'
        '    "Count" : {"Type":"Number","Value":"3"},\n'
        f'    "Blob" : {{"Type":"Binary","Value":"{binary}"}}\n'
        "  }\n"
        "}"
    )
    assert '  "Message" : "{\\"foo\\": \\"bar\\"}",\n' in body
    assert '  "SignatureVersion" : "2",\n' in body
    assert json.loads(body) == envelope


def test_fifo_notification_has_sequence_number_and_no_signature() -> None:
    # Bodies SNS delivers from FIFO topics: Type, MessageId, SequenceNumber, TopicArn,
    # Subject, Message, Timestamp, UnsubscribeURL (no SignatureVersion/Signature/SigningCertURL).
    envelope = notification(
        message_id="05ebceec-d15b-5059-98ad-af12051ad22e",
        sequence_number="10000000000000003000",
        topic_arn="arn:aws:sns:us-east-1:123456789012:orders.fifo",
        subject="order-alarm",
        message='{"orderId":"1001"}',
        timestamp_ms=_ms("2026-02-05T17:23:13.176Z"),
        unsubscribe_url=UNSUBSCRIBE_URL,
        signing_cert_url=CERT_URL,
        message_attributes={"k": ("String", "v")},
    )
    assert list(envelope) == [
        "Type",
        "MessageId",
        "SequenceNumber",
        "TopicArn",
        "Subject",
        "Message",
        "Timestamp",
        "UnsubscribeURL",
        "MessageAttributes",
    ]
    body = to_json(envelope)
    assert body.startswith(
        '{\n  "Type" : "Notification",\n  "MessageId" : "05ebceec-d15b-5059-98ad-af12051ad22e",\n'
        '  "SequenceNumber" : "10000000000000003000",\n'
    )
    # The string to sign never contains SequenceNumber.
    assert "SequenceNumber" not in string_to_sign(envelope)


def test_subscription_confirmation_matches_the_documented_example() -> None:
    token = (
        "2336412f37fb687f5d51e6e241d09c805a5a57b30d712f794cc5f6a988666d92768dd60a747ba6f3beb71854e285d6ad0242"
        "8b09ceece29417f1f02d609c582afbacc99c583a916b9981dd2728f4ae6fdb82efd087cc3b7849e05798d2d2785c03b0879594"
        "eeac82c01f235d0e717736"
    )
    envelope = subscription_confirmation(
        message_id="165545c9-2a5c-472c-8df2-7ff2be2b3b1b",
        token=token,
        topic_arn=TOPIC,
        subscribe_url=f"https://sns.us-west-2.amazonaws.com/?Action=ConfirmSubscription&TopicArn={TOPIC}&Token={token}",
        timestamp_ms=_ms("2012-04-26T20:45:04.751Z"),
        signing_cert_url=CERT_URL,
    )
    envelope["Signature"] = (
        "EXAMPLEpH+DcEwjAPg8O9mY8dReBSwksfg2S7WKQcikcNKWLQjwu6A4VbeS0QHVCkhRS7fUQvi2egU3N858fiTDN6bkkOxYDVrY0Ad8L10"
        "Hs3zH81mtnPk5uvvolIC1CXGu43obcgFxeL3khZl8IKvO61GWB6jI9b5+gLPoBc1Q="
    )
    assert list(envelope) == [
        "Type",
        "MessageId",
        "Token",
        "TopicArn",
        "Message",
        "SubscribeURL",
        "Timestamp",
        "SignatureVersion",
        "Signature",
        "SigningCertURL",
    ]
    assert envelope["Type"] == "SubscriptionConfirmation"
    assert envelope["Message"] == (
        "You have chosen to subscribe to the topic arn:aws:sns:us-west-2:123456789012:MyTopic.\n"
        "To confirm the subscription, visit the SubscribeURL included in this message."
    )
    body = to_json(envelope)
    assert len(body.encode("utf-8")) == 1336  # the example's Content-Length
    assert ".\\nTo confirm the subscription" in body


def test_unsubscribe_confirmation_matches_the_documented_example() -> None:
    token = (
        "2336412f37fb687f5d51e6e241d09c805a5a57b30d712f7948a98bac386edfe3e10314e873973b3e0a3c09119b722dedf2b5e31c"
        "59b13edbb26417c19f109351e6f2169efa9085ffe97e10535f4179ac1a03590b0f541f209c190f9ae23219ed6c470453e06c19b5"
        "ba9fcbb27daeb7c7"
    )
    envelope = unsubscribe_confirmation(
        message_id="47138184-6831-46b8-8f7c-afc488602d7d",
        token=token,
        topic_arn=TOPIC,
        subscription_arn=f"{TOPIC}:2bcfbf39-05c3-41de-beaa-fcfcc21c8f55",
        subscribe_url=f"https://sns.us-west-2.amazonaws.com/?Action=ConfirmSubscription&TopicArn={TOPIC}&Token={token}",
        timestamp_ms=_ms("2012-04-26T20:06:41.581Z"),
        signing_cert_url=CERT_URL,
    )
    envelope["Signature"] = (
        "EXAMPLEHXgJmXqnqsHTlqOCk7TIZsnk8zpJJoQbr8leD+8kAHcke3ClC4VPOvdpZo9s/vR9GOznKab6sjGxE8uwqDI9HwpDm8lGxSlFGu"
        "wCruWeecnt7MdJCNh0XK4XQCbtGoXB762ePJfaSWi9tYwzW65zAFU04WkNBkNsIf60="
    )
    assert envelope["Type"] == "UnsubscribeConfirmation"
    assert envelope["Message"].startswith(
        "You have chosen to deactivate subscription arn:aws:sns:us-west-2:123456789012:MyTopic:"
        "2bcfbf39-05c3-41de-beaa-fcfcc21c8f55.\nTo cancel this operation"
    )
    assert len(to_json(envelope).encode("utf-8")) == 1399  # the example's Content-Length


def test_string_to_sign_matches_the_documented_notification_example() -> None:
    # "Verifying the signatures of Amazon SNS messages": the example string to sign.
    envelope = {
        "Type": "Notification",
        "MessageId": "4d4dc071-ddbf-465d-bba8-08f81c89da64",
        "TopicArn": "arn:aws:sns:us-east-2:123456789012:s4-MySNSTopic-1G1WEFCOXTC0P",
        "Subject": "My subject",
        "Message": "My Test Message",
        "Timestamp": "2019-01-31T04:37:04.321Z",
        "SignatureVersion": "1",
        "Signature": "x",
        "SigningCertURL": CERT_URL,
        "UnsubscribeURL": UNSUBSCRIBE_URL,
        "MessageAttributes": {"a": {"Type": "String", "Value": "b"}},
    }
    assert string_to_sign(envelope) == (
        "Message\nMy Test Message\n"
        "MessageId\n4d4dc071-ddbf-465d-bba8-08f81c89da64\n"
        "Subject\nMy subject\n"
        "Timestamp\n2019-01-31T04:37:04.321Z\n"
        "TopicArn\narn:aws:sns:us-east-2:123456789012:s4-MySNSTopic-1G1WEFCOXTC0P\n"
        "Type\nNotification\n"
    )
    del envelope["Subject"]
    assert "Subject" not in string_to_sign(envelope)


def test_string_to_sign_matches_the_documented_confirmation_example() -> None:
    url = (
        "https://sns.us-east-2.amazonaws.com/?Action=ConfirmSubscription&TopicArn="
        "arn:aws:sns:us-east-2:123456789012:s4-MySNSTopic-1G1WEFCOXTC0P&Token=233..."
    )
    envelope = {
        "Type": "SubscriptionConfirmation",
        "MessageId": "3d891288-136d-417f-bc05-901c108273ee",
        "Token": "233...",
        "TopicArn": "arn:aws:sns:us-east-2:123456789012:s4-MySNSTopic-1G1WEFCOXTC0P",
        "Message": "My Test Message",
        "SubscribeURL": url,
        "Timestamp": "2019-01-31T19:25:13.719Z",
        "SignatureVersion": "1",
        "Signature": "x",
        "SigningCertURL": CERT_URL,
    }
    expected = (
        "Message\nMy Test Message\n"
        "MessageId\n3d891288-136d-417f-bc05-901c108273ee\n"
        f"SubscribeURL\n{url}\n"
        "Timestamp\n2019-01-31T19:25:13.719Z\n"
        "Token\n233...\n"
        "TopicArn\narn:aws:sns:us-east-2:123456789012:s4-MySNSTopic-1G1WEFCOXTC0P\n"
    )
    assert string_to_sign(envelope) == expected + "Type\nSubscriptionConfirmation\n"
    envelope["Type"] = "UnsubscribeConfirmation"
    assert string_to_sign(envelope) == expected + "Type\nUnsubscribeConfirmation\n"


def test_string_to_sign_uses_decoded_values() -> None:
    envelope = notification(
        message_id="m",
        topic_arn=TOPIC,
        message='line 1\nline "2"\t\u00e9\u4e2d',
        timestamp_ms=1,
        unsubscribe_url=UNSUBSCRIBE_URL,
        signing_cert_url=CERT_URL,
    )
    reparsed = json.loads(to_json(envelope))
    assert string_to_sign(reparsed) == string_to_sign(envelope)
    assert 'Message\nline 1\nline "2"\t\u00e9\u4e2d\n' in string_to_sign(envelope)


def test_string_to_sign_rejects_unknown_or_incomplete_envelopes() -> None:
    with pytest.raises(InvalidParameterValue):
        string_to_sign({"Type": "Bogus"})
    with pytest.raises(InvalidParameterValue):
        string_to_sign({"Type": "Notification", "Message": "x"})
    with pytest.raises(InvalidParameterValue):
        string_to_sign({"Type": "SubscriptionConfirmation", "Message": "x", "MessageId": "m", "Timestamp": "t"})


def test_to_json_keeps_unicode_and_escapes_control_characters() -> None:
    envelope = notification(
        message_id="m",
        topic_arn=TOPIC,
        message='KBDS\ub3c4\ub11b / "q" \\ \r\n\t\x01',
        timestamp_ms=0,
        unsubscribe_url=UNSUBSCRIBE_URL,
        signing_cert_url=CERT_URL,
    )
    body = to_json(envelope)
    assert '"Message" : "KBDS\ub3c4\ub11b / \\"q\\" \\\\ \\r\\n\\t\\u0001"' in body
    assert json.loads(body) == envelope


def test_timestamp_format() -> None:
    assert format_timestamp(1335920046655) == "2012-05-02T00:54:06.655Z"
    assert format_timestamp(0) == "1970-01-01T00:00:00.000Z"
    assert format_timestamp(1_700_000_000_007) == "2023-11-14T22:13:20.007Z"
    with pytest.raises(InvalidParameterValue):
        format_timestamp(-1)


def test_signature_version_is_checked() -> None:
    with pytest.raises(InvalidParameterValue):
        notification(
            message_id="m",
            topic_arn=TOPIC,
            message="x",
            timestamp_ms=0,
            unsubscribe_url=UNSUBSCRIBE_URL,
            signing_cert_url=CERT_URL,
            signature_version="3",
        )
    assert sns_envelope.SIGNATURE_VERSIONS == ("1", "2")
