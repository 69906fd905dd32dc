"""Cross-account SQS: another account's queue is out of reach unless its Policy (written by
hand or by AddPermission) allows the action; an explicit Deny wins, the owner's own requests
included. A refused request changes nothing."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.api.conftest import Server
from tests.auth_policy.conftest import OTHER, OWNER, Account, query

DENIED = "Access to the resource https://sqs.us-east-1.amazonaws.com/ is denied."


def new_queue(owner: Account, **attributes: str) -> tuple[str, str]:
    name = "q-" + uuid.uuid4().hex[:10]
    url = owner.sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
    arn = owner.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    return url, arn


def assert_denied(call: Any, **kwargs: Any) -> None:
    with pytest.raises(ClientError) as exc:
        call(**kwargs)
    err = exc.value.response
    assert err["Error"]["Code"] == "AccessDenied", err
    assert err["ResponseMetadata"]["HTTPStatusCode"] == 403
    assert err["Error"]["Message"] == DENIED


def visible(owner: Account, url: str) -> int:
    attrs = owner.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"])
    return int(attrs["Attributes"]["ApproximateNumberOfMessages"])


def test_another_accounts_queue_is_out_of_reach_without_a_policy(server: Server, owner: Account,
                                                                 other: Account) -> None:
    url, _ = new_queue(owner)
    assert url.split("/")[-2] == OWNER
    owner.sqs.send_message(QueueUrl=url, MessageBody="mine")
    assert_denied(other.sqs.send_message, QueueUrl=url, MessageBody="intruder")
    assert_denied(other.sqs.send_message_batch, QueueUrl=url, Entries=[{"Id": "1", "MessageBody": "x"}])
    assert_denied(other.sqs.receive_message, QueueUrl=url, WaitTimeSeconds=0)
    assert_denied(other.sqs.get_queue_attributes, QueueUrl=url, AttributeNames=["All"])
    assert_denied(other.sqs.get_queue_url, QueueName=url.split("/")[-1], QueueOwnerAWSAccountId=OWNER)
    assert_denied(other.sqs.purge_queue, QueueUrl=url)
    assert_denied(other.sqs.set_queue_attributes, QueueUrl=url, Attributes={"DelaySeconds": "5"})
    assert_denied(other.sqs.tag_queue, QueueUrl=url, Tags={"k": "v"})
    assert_denied(other.sqs.add_permission, QueueUrl=url, Label="me", AWSAccountIds=[OTHER],
                  Actions=["SendMessage"])
    assert_denied(other.sqs.delete_queue, QueueUrl=url)
    # nothing happened: the queue, its one message (never received), its attributes and tags
    assert other.sqs.list_queues(QueueNamePrefix=url.split("/")[-1]).get("QueueUrls", []) == []
    got = owner.sqs.receive_message(QueueUrl=url, AttributeNames=["ApproximateReceiveCount"], WaitTimeSeconds=0)
    assert [(m["Body"], m["Attributes"]["ApproximateReceiveCount"]) for m in got["Messages"]] == [("mine", "1")]
    attrs = owner.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert attrs["DelaySeconds"] == "0" and "Policy" not in attrs
    assert owner.sqs.list_queue_tags(QueueUrl=url).get("Tags", {}) == {}


def test_query_protocol_answers_access_denied(server: Server, owner: Account) -> None:
    url, _ = new_queue(owner)
    r = query(server, OTHER, "sqs", {"Action": "SendMessage", "QueueUrl": url, "MessageBody": "x",
                                     "Version": "2012-11-05"})
    assert r.status_code == 403, r.text
    assert "<Code>AccessDenied</Code>" in r.text and DENIED in r.text
    assert visible(owner, url) == 0


def test_add_permission_grants_what_it_names_and_remove_permission_takes_it_back(owner: Account,
                                                                                 other: Account) -> None:
    url, _ = new_queue(owner)
    owner.sqs.add_permission(QueueUrl=url, Label="send", AWSAccountIds=[OTHER], Actions=["SendMessage"])
    other.sqs.send_message(QueueUrl=url, MessageBody="granted")
    assert_denied(other.sqs.receive_message, QueueUrl=url, WaitTimeSeconds=0)  # not granted
    assert visible(owner, url) == 1
    owner.sqs.add_permission(QueueUrl=url, Label="read", AWSAccountIds=[OTHER],
                             Actions=["ReceiveMessage", "DeleteMessage", "GetQueueUrl"])
    assert other.sqs.get_queue_url(QueueName=url.split("/")[-1], QueueOwnerAWSAccountId=OWNER)["QueueUrl"] == url
    got = other.sqs.receive_message(QueueUrl=url, WaitTimeSeconds=0)["Messages"]
    assert [m["Body"] for m in got] == ["granted"]
    other.sqs.delete_message(QueueUrl=url, ReceiptHandle=got[0]["ReceiptHandle"])
    owner.sqs.remove_permission(QueueUrl=url, Label="send")
    assert_denied(other.sqs.send_message, QueueUrl=url, MessageBody="revoked")
    assert visible(owner, url) == 0


def test_policy_attribute_allows_another_account_and_a_deny_wins(owner: Account, other: Account,
                                                                 third: Account) -> None:
    url, arn = new_queue(owner)
    policy = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{OTHER}:root"}, "Action": "sqs:*", "Resource": arn},
        {"Sid": "no-reading", "Effect": "Deny", "Principal": {"AWS": [OTHER]}, "Action": "SQS:Receive*",
         "Resource": arn}]}
    owner.sqs.set_queue_attributes(QueueUrl=url, Attributes={"Policy": json.dumps(policy)})
    other.sqs.send_message(QueueUrl=url, MessageBody="allowed")
    assert other.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"] == arn
    assert_denied(other.sqs.receive_message, QueueUrl=url, WaitTimeSeconds=0)  # Deny wins over sqs:*
    assert_denied(third.sqs.send_message, QueueUrl=url, MessageBody="not named")
    # owner-only actions stay the owner's, whatever the policy allows
    assert_denied(other.sqs.set_queue_attributes, QueueUrl=url, Attributes={"Policy": ""})
    assert_denied(other.sqs.delete_queue, QueueUrl=url)
    assert visible(owner, url) == 1


def test_an_explicit_deny_binds_the_owner_too_but_not_its_owner_only_actions(owner: Account) -> None:
    url, arn = new_queue(owner)
    deny = {"Statement": [{"Effect": "Deny", "Principal": "*", "Action": "sqs:SendMessage", "Resource": arn}]}
    owner.sqs.set_queue_attributes(QueueUrl=url, Attributes={"Policy": json.dumps(deny)})
    assert_denied(owner.sqs.send_message, QueueUrl=url, MessageBody="x")
    assert owner.sqs.receive_message(QueueUrl=url, WaitTimeSeconds=0).get("Messages", []) == []  # not denied
    owner.sqs.set_queue_attributes(QueueUrl=url, Attributes={"Policy": ""})  # the owner can always undo it
    owner.sqs.send_message(QueueUrl=url, MessageBody="x")
    assert visible(owner, url) == 1


def test_same_name_in_two_accounts_are_two_queues(owner: Account, other: Account) -> None:
    name = "same-" + uuid.uuid4().hex[:8]
    mine = owner.sqs.create_queue(QueueName=name)["QueueUrl"]
    theirs = other.sqs.create_queue(QueueName=name)["QueueUrl"]
    assert mine != theirs and theirs.split("/")[-2] == OTHER
    other.sqs.send_message(QueueUrl=name, MessageBody="theirs")  # a bare name is the caller's own queue
    assert visible(owner, mine) == 0
    assert [u for u in owner.sqs.list_queues(QueueNamePrefix=name)["QueueUrls"]] == [mine]
