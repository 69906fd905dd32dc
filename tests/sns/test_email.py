"""SNS ``email`` and ``email-json`` subscriptions. postroom sends no mail: the confirmation request
and every notification go to the email outbox (``GET /_postroom/outbox/email``). A test confirms a
subscription the way a recipient would: it reads the confirmation entry, which carries the
``subscribe_url`` and the ``token``, and visits the URL or calls ConfirmSubscription.

AWS docs: *Amazon SNS Developer Guide* › "Email notifications" ("the subscription … is pending
until the recipient confirms it by following the link in the confirmation email"), "Amazon SNS
message and JSON formats"; *API Reference* › Subscribe, ConfirmSubscription.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
import requests
from botocore.exceptions import ClientError

from tests.api.conftest import Server
from tests.sns.conftest import assert_sns_error, new_topic, sub_counts, unique
from tests.sns.test_platform import outbox


def address() -> str:
    return f"{unique('someone')}@example.com"


def subscribe_email(sns: Any, server: Server, topic: str, protocol: str = "email") -> tuple[str, dict[str, Any]]:
    """(email address, its confirmation entry)"""
    to = address()
    answer = sns.subscribe(TopicArn=topic, Protocol=protocol, Endpoint=to)["SubscriptionArn"]
    assert answer == "pending confirmation"
    (entry,) = outbox(server, "email", to)
    return to, entry


def test_email_subscription_waits_for_confirmation(sns: Any, sns_server: Server) -> None:
    """AWS: an email subscription is pending confirmation (Subscribe answers "pending confirmation",
    ListSubscriptionsByTopic "PendingConfirmation") and receives nothing until confirmed; SNS sends a
    confirmation email naming the topic and holding the SubscribeURL. ConfirmSubscription with the
    email's token confirms it; then a publish is mailed: the Subject (else "AWS Notification
    Message") and the message with the unsubscribe footer."""
    topic = new_topic(sns)
    to, confirmation = subscribe_email(sns, sns_server, topic)
    assert confirmation["type"] == "SubscriptionConfirmation"
    assert confirmation["subject"] == "AWS Notification - Subscription Confirmation"
    assert topic in confirmation["message"] and confirmation["subscribe_url"] in confirmation["message"]
    listed = sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"]
    assert [(s["Protocol"], s["Endpoint"], s["SubscriptionArn"]) for s in listed] == [
        ("email", to, "PendingConfirmation")]
    sns.publish(TopicArn=topic, Message="too early")
    assert len(outbox(sns_server, "email", to)) == 1
    sub = sns.confirm_subscription(TopicArn=topic, Token=confirmation["token"])["SubscriptionArn"]
    assert sub.startswith(topic + ":")
    message_id = sns.publish(TopicArn=topic, Message="hello by mail", Subject="Greetings")["MessageId"]
    sns.publish(TopicArn=topic, Message="no subject")
    mails = outbox(sns_server, "email", to)[1:]
    assert [m["subject"] for m in mails] == ["Greetings", "AWS Notification Message"]
    assert mails[0]["message_id"] == message_id
    assert mails[0]["message"].startswith("hello by mail\n")
    assert mails[0]["unsubscribe_url"] in mails[0]["message"]
    assert sub_counts(sns_server, sub)["delivered"] == 2


def test_email_json_confirmed_by_subscribe_url(sns: Any, sns_server: Server) -> None:
    """An email-json subscription's confirmation is SNS's SubscriptionConfirmation JSON; visiting its
    SubscribeURL confirms the subscription (as the link in the mail does); notifications are SNS's
    JSON envelope (Type Notification, MessageId, TopicArn, Message, Signature …)."""
    topic = new_topic(sns)
    to, confirmation = subscribe_email(sns, sns_server, topic, "email-json")
    envelope = json.loads(confirmation["message"])
    assert envelope["Type"] == "SubscriptionConfirmation"
    assert envelope["Token"] == confirmation["token"]
    assert envelope["SubscribeURL"] == confirmation["subscribe_url"]
    r = requests.get(confirmation["subscribe_url"], timeout=10)
    assert r.status_code == 200, r.text
    attrs = sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"]
    assert attrs[0]["SubscriptionArn"].startswith(topic + ":")
    message_id = sns.publish(TopicArn=topic, Message="json mail", Subject="S")["MessageId"]
    mail = outbox(sns_server, "email", to)[-1]
    notification = json.loads(mail["message"])
    assert notification["Type"] == "Notification"
    assert (notification["MessageId"], notification["TopicArn"], notification["Message"]) == (
        message_id, topic, "json mail")
    assert notification["Subject"] == "S"
    assert notification["Signature"]


def test_email_json_structure_picks_email_entry(sns: Any, sns_server: Server) -> None:
    """With MessageStructure=json an email subscriber receives the ``email`` entry, else ``default``."""
    topic = new_topic(sns)
    to, confirmation = subscribe_email(sns, sns_server, topic)
    sns.confirm_subscription(TopicArn=topic, Token=confirmation["token"])
    sns.publish(TopicArn=topic, MessageStructure="json", Message=json.dumps({"default": "d", "email": "for mail"}))
    assert outbox(sns_server, "email", to)[-1]["message"].startswith("for mail\n")


@pytest.mark.parametrize("protocol", ["email", "email-json"])
def test_email_endpoint_must_be_an_address(sns: Any, protocol: str) -> None:
    """AWS: an email subscription's endpoint must be an email address ("Invalid parameter: Email
    address", InvalidParameter)."""
    topic = new_topic(sns)
    with pytest.raises(ClientError) as exc:
        sns.subscribe(TopicArn=topic, Protocol=protocol, Endpoint="not an address")
    assert_sns_error(exc, "InvalidParameter", 400, "Email address")


def test_email_has_no_raw_delivery(sns: Any) -> None:
    """AWS: raw message delivery is for SQS, HTTP/S and Firehose only: "Delivery protocol [email]
    does not support raw message delivery"."""
    topic = new_topic(sns)
    with pytest.raises(ClientError) as exc:
        sns.subscribe(TopicArn=topic, Protocol="email", Endpoint=address(),
                      Attributes={"RawMessageDelivery": "true"})
    assert_sns_error(exc, "InvalidParameter", 400, "does not support raw message delivery")


def test_unsubscribed_email_gets_nothing(sns: Any, sns_server: Server) -> None:
    """After Unsubscribe a confirmed email subscriber receives no more notifications."""
    topic = new_topic(sns)
    to, confirmation = subscribe_email(sns, sns_server, topic)
    sub = sns.confirm_subscription(TopicArn=topic, Token=confirmation["token"])["SubscriptionArn"]
    sns.unsubscribe(SubscriptionArn=sub)
    sns.publish(TopicArn=topic, Message="after")
    assert [e["type"] for e in outbox(sns_server, "email", to)] == ["SubscriptionConfirmation"]
