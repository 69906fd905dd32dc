"""SNS text messaging (SMS): Publish with PhoneNumber, ``sms`` subscriptions, the account's SMS
attributes, opt-outs and the SMS sandbox. No text leaves postroom: each one is kept in the SMS
outbox (``GET /_postroom/outbox/sms``, ``postroom outbox sms``).

AWS docs: *Amazon SNS API Reference* › Publish, SetSMSAttributes, GetSMSAttributes,
CheckIfPhoneNumberIsOptedOut, ListPhoneNumbersOptedOut, OptInPhoneNumber,
CreateSMSSandboxPhoneNumber, VerifySMSSandboxPhoneNumber, ListSMSSandboxPhoneNumbers,
DeleteSMSSandboxPhoneNumber, GetSMSSandboxAccountStatus, ListOriginationNumbers; *Developer Guide*
› "Mobile text messaging (SMS)". Error texts: LocalStack's AWS-validated tests and SDK users' code.
"""

from __future__ import annotations

import json
import random
import subprocess
import sys
import time
from typing import Any

import pytest
import requests
from botocore.exceptions import ClientError

from tests.api.conftest import REPO, Server
from tests.archive.conftest import iso, wait_replay_done
from tests.sns.conftest import assert_sns_error, make_sns, new_topic, sub_counts
from tests.sns.test_platform import outbox


def phone() -> str:
    return "+1555" + "".join(random.choice("0123456789") for _ in range(7))


def test_publish_to_phone_number_goes_to_sms_outbox(sns: Any, sns_server: Server) -> None:
    """Publish with PhoneNumber sends the message as a text to that number: the SMS outbox holds the
    number, the message, the MessageId and the AWS.SNS.SMS.* settings (SMSType from the message
    attribute, else the account's DefaultSMSType, Promotional by default)."""
    number = phone()
    message_id = sns.publish(PhoneNumber=number, Message="your code is 1234", MessageAttributes={
        "AWS.SNS.SMS.SMSType": {"DataType": "String", "StringValue": "Transactional"},
        "AWS.SNS.SMS.SenderID": {"DataType": "String", "StringValue": "Postroom"}})["MessageId"]
    (entry,) = outbox(sns_server, "sms", number)
    assert entry["message"] == "your code is 1234"
    assert entry["message_id"] == message_id
    assert (entry["sms_type"], entry["sender_id"]) == ("Transactional", "Postroom")
    assert entry["destination"] == number
    sns.publish(PhoneNumber=number, Message="second")
    assert [e["message"] for e in outbox(sns_server, "sms", number)] == ["your code is 1234", "second"]


@pytest.mark.parametrize("bad", ["12345abc", "+0123456", "+1234567890123456", "hello"])
def test_publish_to_invalid_phone_number(sns: Any, bad: str) -> None:
    """AWS: a PhoneNumber not in E.164 form is InvalidParameter "Invalid parameter: PhoneNumber
    Reason: <number> is not valid to publish to"."""
    with pytest.raises(ClientError) as exc:
        sns.publish(PhoneNumber=bad, Message="x")
    assert_sns_error(exc, "InvalidParameter", 400,
                     f"Invalid parameter: PhoneNumber Reason: {bad} is not valid to publish to")


def test_publish_empty_message_to_phone(sns_raw: Any) -> None:
    """AWS: an empty Message is "Invalid parameter: Empty message", whatever the target."""
    with pytest.raises(ClientError) as exc:
        sns_raw.publish(PhoneNumber=phone(), Message="")
    assert_sns_error(exc, "InvalidParameter", 400, "Invalid parameter: Empty message")


def test_sms_attributes(sns: Any) -> None:
    """SetSMSAttributes sets the named attributes and keeps the others; GetSMSAttributes returns
    them all (with the default MonthlySpendLimit of 1 USD), or only those named; DefaultSMSType
    must be Promotional or Transactional and an unknown name is refused (InvalidParameter)."""
    sns.set_sms_attributes(attributes={"DefaultSMSType": "Transactional", "DefaultSenderID": "Shop1"})
    sns.set_sms_attributes(attributes={"UsageReportS3Bucket": "reports"})
    got = sns.get_sms_attributes()["attributes"]
    assert got["DefaultSMSType"] == "Transactional"
    assert got["DefaultSenderID"] == "Shop1"
    assert got["UsageReportS3Bucket"] == "reports"
    assert got["MonthlySpendLimit"] == "1"
    assert sns.get_sms_attributes(attributes=["DefaultSMSType"])["attributes"] == {"DefaultSMSType": "Transactional"}
    for bad in ({"DefaultSMSType": "Urgent"}, {"Colour": "red"}, {"DefaultSenderID": "1234"}):
        with pytest.raises(ClientError) as exc:
            sns.set_sms_attributes(attributes=bad)
        assert_sns_error(exc, "InvalidParameter", 400)
    assert sns.get_sms_attributes(attributes=["DefaultSMSType"])["attributes"] == {"DefaultSMSType": "Transactional"}


def test_opt_out_and_opt_in(sns: Any, sns_server: Server) -> None:
    """A number that replied STOP is opted out (postroom: ``POST /_postroom/sms/opted-out`` plays the
    handset): CheckIfPhoneNumberIsOptedOut says so, ListPhoneNumbersOptedOut lists it, SNS sends it
    nothing (the publish still answers a MessageId); OptInPhoneNumber ends it. A malformed number is
    "Invalid parameter: PhoneNumber Reason: input incorrectly formatted"."""
    number = phone()
    assert sns.check_if_phone_number_is_opted_out(phoneNumber=number)["isOptedOut"] is False
    r = requests.post(sns_server.endpoint + "/_postroom/sms/opted-out", json={"phone_number": number}, timeout=10)
    assert r.status_code == 200, r.text
    assert sns.check_if_phone_number_is_opted_out(phoneNumber=number)["isOptedOut"] is True
    assert number in sns.list_phone_numbers_opted_out()["phoneNumbers"]
    assert sns.publish(PhoneNumber=number, Message="dropped")["MessageId"]
    assert outbox(sns_server, "sms", number) == []
    sns.opt_in_phone_number(phoneNumber=number)
    assert sns.check_if_phone_number_is_opted_out(phoneNumber=number)["isOptedOut"] is False
    assert number not in sns.list_phone_numbers_opted_out()["phoneNumbers"]
    with pytest.raises(ClientError) as exc:
        sns.check_if_phone_number_is_opted_out(phoneNumber="not-a-number")
    assert_sns_error(exc, "InvalidParameter", 400, "input incorrectly formatted")


def test_sms_subscription(sns: Any, sns_server: Server) -> None:
    """Subscribe with Protocol=sms and an E.164 number is confirmed at once; a publish to the topic
    texts the number (with MessageStructure=json, the ``sms`` entry), counted delivered. A bad number
    is InvalidParameter (recorded: "Invalid SMS endpoint: <x>")."""
    topic = new_topic(sns)
    number = phone()
    sub = sns.subscribe(TopicArn=topic, Protocol="sms", Endpoint=number)["SubscriptionArn"]
    assert sub.startswith(topic + ":")
    sns.publish(TopicArn=topic, Message="plain")
    sns.publish(TopicArn=topic, MessageStructure="json", Message=json.dumps({"default": "d", "sms": "short"}))
    entries = outbox(sns_server, "sms", number)
    assert [e["message"] for e in entries] == ["plain", "short"]
    assert entries[0]["subscription_arn"] == sub and entries[0]["topic_arn"] == topic
    assert sub_counts(sns_server, sub)["delivered"] == 2
    with pytest.raises(ClientError) as exc:
        sns.subscribe(TopicArn=topic, Protocol="sms", Endpoint="call-me")
    assert_sns_error(exc, "InvalidParameter", 400, "Invalid SMS endpoint: call-me")


def test_sms_subscription_not_on_fifo_topic(sns: Any) -> None:
    """AWS: a FIFO topic delivers to SQS only; an sms subscription is "Invalid parameter: Invalid
    protocol type: sms"."""
    topic = new_topic(sns, fifo=True)
    with pytest.raises(ClientError) as exc:
        sns.subscribe(TopicArn=topic, Protocol="sms", Endpoint=phone())
    assert_sns_error(exc, "InvalidParameter", 400, "Invalid protocol type")


def test_sms_sandbox(sns: Any, sns_server: Server) -> None:
    """The SMS sandbox: CreateSMSSandboxPhoneNumber adds a destination Pending and texts it a
    one-time password (here: to the SMS outbox); VerifySMSSandboxPhoneNumber with a wrong password is
    VerificationException, with the right one makes it Verified; DeleteSMSSandboxPhoneNumber removes
    it, and a number not in the sandbox is ResourceNotFound (404). postroom's account is not in the
    sandbox (GetSMSSandboxAccountStatus)."""
    assert sns.get_sms_sandbox_account_status()["IsInSandbox"] is False
    number = phone()
    sns.create_sms_sandbox_phone_number(PhoneNumber=number, LanguageCode="en-US")
    listed = {p["PhoneNumber"]: p["Status"] for p in sns.list_sms_sandbox_phone_numbers()["PhoneNumbers"]}
    assert listed[number] == "Pending"
    (entry,) = outbox(sns_server, "sms", number)
    assert entry["type"] == "SandboxVerification"
    otp = entry["one_time_password"]
    assert otp in entry["message"]
    with pytest.raises(ClientError) as exc:
        sns.verify_sms_sandbox_phone_number(PhoneNumber=number, OneTimePassword="000000" if otp != "000000" else "1")
    assert_sns_error(exc, "VerificationException", 400)
    sns.verify_sms_sandbox_phone_number(PhoneNumber=number, OneTimePassword=otp)
    listed = {p["PhoneNumber"]: p["Status"] for p in sns.list_sms_sandbox_phone_numbers()["PhoneNumbers"]}
    assert listed[number] == "Verified"
    sns.delete_sms_sandbox_phone_number(PhoneNumber=number)
    with pytest.raises(ClientError) as exc:
        sns.delete_sms_sandbox_phone_number(PhoneNumber=number)
    assert_sns_error(exc, "ResourceNotFound", 404)
    with pytest.raises(ClientError) as exc:
        sns.verify_sms_sandbox_phone_number(PhoneNumber=number, OneTimePassword=otp)
    assert_sns_error(exc, "ResourceNotFound", 404)


def test_origination_numbers(sns: Any, sns_raw: Any) -> None:
    """ListOriginationNumbers: postroom owns no origination numbers; MaxResults above 30 is a
    ValidationException (the API reference's 1–30)."""
    assert sns.list_origination_numbers()["PhoneNumbers"] == []
    with pytest.raises(ClientError) as exc:
        sns_raw.list_origination_numbers(MaxResults=31)
    assert_sns_error(exc, "ValidationException", 400)


def test_outbox_cli(sns: Any, sns_server: Server) -> None:
    """``postroom outbox sms --endpoint-url … --destination … --format json`` prints the server's SMS
    outbox entries for that number, newest last; the table format shows the message."""
    number = phone()
    sns.publish(PhoneNumber=number, Message="first text")
    sns.publish(PhoneNumber=number, Message="second text")
    base = [sys.executable, "-m", "postroom", "outbox", "sms", "--endpoint-url", sns_server.endpoint,
            "--destination", number]
    done = subprocess.run([*base, "--format", "json"], cwd=REPO, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert [e["message"] for e in json.loads(done.stdout)] == ["first text", "second text"]
    table = subprocess.run(base, cwd=REPO, capture_output=True, text=True, timeout=60)
    assert table.returncode == 0, table.stderr
    assert table.stdout.index("first text") < table.stdout.index("second text")
    assert number in table.stdout


def test_outbox_unknown_kind(sns_server: Server) -> None:
    """The outbox has three kinds; another is 404."""
    assert requests.get(sns_server.endpoint + "/_postroom/outbox/fax", timeout=10).status_code == 404


def test_replay_to_sms_subscription(sns: Any, sns_server: Server) -> None:
    """A subscription's ReplayPolicy replays the topic's archive to it (README: archive and replay;
    AWS: "message replay" delivers archived messages to the subscription): an sms subscriber made
    after two publishes receives both, marked ``replayed``, with their original MessageIds."""
    topic = new_topic(sns)
    start = int(time.time() * 1000) - 60_000
    ids = [sns.publish(TopicArn=topic, Message=f"archived {i}")["MessageId"] for i in range(2)]
    number = phone()
    sub = sns.subscribe(TopicArn=topic, Protocol="sms", Endpoint=number, ReturnSubscriptionArn=True, Attributes={
        "ReplayPolicy": json.dumps({"PointType": "Timestamp", "StartingPoint": iso(start)})})["SubscriptionArn"]
    assert wait_replay_done(sns, sub) == "Completed"
    entries = outbox(sns_server, "sms", number)
    assert [(e["message"], e["message_id"], e.get("replayed")) for e in entries] == [
        ("archived 0", ids[0], True), ("archived 1", ids[1], True)]


def test_outbox_survives_kill9(fresh_sns_server: Server) -> None:
    """The outbox is in the store: an SMS acknowledged by Publish is still in the outbox after the
    server is killed with -9 and started again (postroom's durability promise, README)."""
    sns = make_sns(fresh_sns_server.endpoint)
    number = phone()
    message_id = sns.publish(PhoneNumber=number, Message="durable text")["MessageId"]
    fresh_sns_server.kill9()
    fresh_sns_server.start()
    assert [e["message_id"] for e in outbox(fresh_sns_server, "sms", number)] == [message_id]
