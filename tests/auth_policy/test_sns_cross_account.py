"""Cross-account SNS: another account's topic answers AuthorizationError (403) unless its Policy
(or AddPermission) allows the action; a Deny wins. SNS→SQS across accounts: the queue's Policy
must allow the SNS service principal, else every delivery fails (and is counted failed)."""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.api.conftest import Server
from tests.auth_policy.conftest import OTHER, OWNER, THIRD, Account, sub_counts


def new_topic(owner: Account) -> str:
    arn: str = owner.sns.create_topic(Name="t-" + uuid.uuid4().hex[:10])["TopicArn"]
    return arn


def new_queue(account: Account) -> tuple[str, str]:
    url = account.sqs.create_queue(QueueName="q-" + uuid.uuid4().hex[:10])["QueueUrl"]
    arn = account.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    return url, arn


def assert_unauthorized(action: str, topic: str, caller: str, call: Any, **kwargs: Any) -> str:
    with pytest.raises(ClientError) as exc:
        call(**kwargs)
    err = exc.value.response
    assert err["Error"]["Code"] == "AuthorizationError", err
    assert err["ResponseMetadata"]["HTTPStatusCode"] == 403
    message: str = err["Error"]["Message"]
    assert message.startswith(f"User: arn:aws:iam::{caller}:"), message
    assert f"is not authorized to perform: SNS:{action} on resource: {topic}" in message
    return message


def topic_policy(topic: str, *statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def test_another_accounts_topic_is_out_of_reach_without_a_policy(owner: Account, other: Account) -> None:
    topic = new_topic(owner)
    _, queue_arn = new_queue(other)
    message = assert_unauthorized("Publish", topic, OTHER, other.sns.publish, TopicArn=topic, Message="x")
    assert message.endswith("because no resource-based policy allows the SNS:Publish action")
    assert_unauthorized("Subscribe", topic, OTHER, other.sns.subscribe, TopicArn=topic, Protocol="sqs",
                        Endpoint=queue_arn)
    assert_unauthorized("GetTopicAttributes", topic, OTHER, other.sns.get_topic_attributes, TopicArn=topic)
    assert_unauthorized("SetTopicAttributes", topic, OTHER, other.sns.set_topic_attributes, TopicArn=topic,
                        AttributeName="DisplayName", AttributeValue="mine")
    assert_unauthorized("DeleteTopic", topic, OTHER, other.sns.delete_topic, TopicArn=topic)
    assert topic not in [t["TopicArn"] for t in other.sns.list_topics()["Topics"]]
    # nothing happened
    assert owner.sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"] == []
    attrs = owner.sns.get_topic_attributes(TopicArn=topic)["Attributes"]
    assert attrs.get("DisplayName", "") == ""


def test_a_topic_policy_grants_publish_and_subscribe_and_a_deny_wins(server: Server, owner: Account, other: Account,
                                                                     third: Account) -> None:
    topic = new_topic(owner)
    url, queue_arn = new_queue(other)
    allow = {"Effect": "Allow", "Principal": {"AWS": [OTHER, f"arn:aws:iam::{THIRD}:root"]},
             "Action": ["SNS:Publish", "sns:Subscribe"], "Resource": topic}
    owner.sns.set_topic_attributes(TopicArn=topic, AttributeName="Policy",
                                   AttributeValue=topic_policy(topic, allow))
    sub = other.sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn,
                              ReturnSubscriptionArn=True)["SubscriptionArn"]
    assert [s["SubscriptionArn"] for s in owner.sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"]] \
        == [sub]
    other.sns.publish(TopicArn=topic, Message="from other")
    third.sns.publish(TopicArn=topic, Message="from third")
    deny = {"Sid": "not-third", "Effect": "Deny", "Principal": {"AWS": THIRD}, "Action": "sns:*", "Resource": "*"}
    owner.sns.set_topic_attributes(TopicArn=topic, AttributeName="Policy",
                                   AttributeValue=topic_policy(topic, allow, deny))
    message = assert_unauthorized("Publish", topic, THIRD, third.sns.publish, TopicArn=topic, Message="again")
    assert message.endswith("with an explicit deny in a resource-based policy")
    other.sns.publish(TopicArn=topic, Message="still allowed")
    counts = sub_counts_eventually(server, sub, "failed", 3)  # the queue allows no SNS: three failed
    assert counts["delivered"] == 0
    assert other.sqs.receive_message(QueueUrl=url, WaitTimeSeconds=0).get("Messages", []) == []


def test_sns_add_permission_grants_publish(owner: Account, other: Account) -> None:
    topic = new_topic(owner)
    assert_unauthorized("Publish", topic, OTHER, other.sns.publish, TopicArn=topic, Message="x")
    owner.sns.add_permission(TopicArn=topic, Label="pub", AWSAccountId=[OTHER], ActionName=["Publish"])
    assert other.sns.publish(TopicArn=topic, Message="x")["MessageId"]
    assert_unauthorized("Subscribe", topic, OTHER, other.sns.subscribe, TopicArn=topic, Protocol="sqs",
                        Endpoint=new_queue(other)[1])
    owner.sns.remove_permission(TopicArn=topic, Label="pub")
    assert_unauthorized("Publish", topic, OTHER, other.sns.publish, TopicArn=topic, Message="x")


def sub_counts_eventually(server: Server, sub: str, key: str, want: int, timeout: float = 10) -> dict[str, int]:
    deadline = time.monotonic() + timeout
    while True:
        counts = sub_counts(server, sub)
        if counts.get(key) == want or time.monotonic() > deadline:
            assert counts.get(key) == want, counts
            return counts
        time.sleep(0.05)


def test_cross_account_delivery_needs_the_queues_policy_to_allow_sns(server: Server, owner: Account,
                                                                    other: Account) -> None:
    """AWS: SNS delivers to a queue only if the queue's policy allows the SNS service principal
    sqs:SendMessage (the topic's ARN as aws:SourceArn). Refused, the delivery fails: it is
    counted failed and the queue stays empty; once the policy allows it, messages arrive."""
    topic = new_topic(owner)
    url, queue_arn = new_queue(other)
    sub = owner.sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn, ReturnSubscriptionArn=True,
                              Attributes={"RawMessageDelivery": "true"})["SubscriptionArn"]
    owner.sns.publish(TopicArn=topic, Message="refused")
    counts = sub_counts_eventually(server, sub, "failed", 1)
    assert counts["delivered"] == 0
    assert other.sqs.receive_message(QueueUrl=url, WaitTimeSeconds=0).get("Messages", []) == []

    def sns_allowed(source: str) -> str:
        return json.dumps({"Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Principal": {"Service": "sns.amazonaws.com"}, "Action": "sqs:SendMessage",
            "Resource": queue_arn, "Condition": {"ArnEquals": {"aws:SourceArn": source}}}]})

    other.sqs.set_queue_attributes(QueueUrl=url, Attributes={"Policy": sns_allowed(topic + "-not-this-one")})
    owner.sns.publish(TopicArn=topic, Message="still refused")
    sub_counts_eventually(server, sub, "failed", 2)

    other.sqs.set_queue_attributes(QueueUrl=url, Attributes={"Policy": sns_allowed(topic)})
    owner.sns.publish(TopicArn=topic, Message="delivered")
    counts = sub_counts_eventually(server, sub, "delivered", 1)
    assert counts["failed"] == 2
    got = other.sqs.receive_message(QueueUrl=url, WaitTimeSeconds=1)["Messages"]
    assert [m["Body"] for m in got] == ["delivered"]


def test_same_account_delivery_needs_no_policy_but_obeys_a_deny(server: Server, owner: Account) -> None:
    """postroom's deliberate difference: within one account a queue without a policy for SNS
    receives (AWS would refuse); an explicit Deny still refuses, as on AWS."""
    topic = new_topic(owner)
    url, queue_arn = new_queue(owner)
    sub = owner.sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn, ReturnSubscriptionArn=True,
                              Attributes={"RawMessageDelivery": "true"})["SubscriptionArn"]
    owner.sns.publish(TopicArn=topic, Message="one")
    sub_counts_eventually(server, sub, "delivered", 1)
    deny = {"Statement": [{"Effect": "Deny", "Principal": {"Service": "sns.amazonaws.com"},
                           "Action": "sqs:SendMessage", "Resource": queue_arn,
                           "Condition": {"StringEquals": {"aws:SourceAccount": OWNER}}}]}
    owner.sqs.set_queue_attributes(QueueUrl=url, Attributes={"Policy": json.dumps(deny)})
    owner.sns.publish(TopicArn=topic, Message="two")
    counts = sub_counts_eventually(server, sub, "failed", 1)
    assert counts["delivered"] == 1
    got = owner.sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0)["Messages"]
    assert [m["Body"] for m in got] == ["one"]


def test_a_subscription_is_its_owners_and_its_topic_owners(owner: Account, other: Account,
                                                           third: Account) -> None:
    topic = new_topic(owner)
    owner.sns.add_permission(TopicArn=topic, Label="sub", AWSAccountId=[OTHER], ActionName=["Subscribe"])
    sub = other.sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=new_queue(other)[1],
                              ReturnSubscriptionArn=True)["SubscriptionArn"]
    assert other.sns.get_subscription_attributes(SubscriptionArn=sub)["Attributes"]["Owner"] == OTHER
    assert owner.sns.get_subscription_attributes(SubscriptionArn=sub)["Attributes"]["TopicArn"] == topic
    for call, kwargs in ((third.sns.get_subscription_attributes, {}),
                         (third.sns.set_subscription_attributes,
                          {"AttributeName": "RawMessageDelivery", "AttributeValue": "true"})):
        with pytest.raises(ClientError) as exc:
            call(SubscriptionArn=sub, **kwargs)
        assert exc.value.response["Error"]["Code"] == "AuthorizationError"
    assert other.sns.get_subscription_attributes(SubscriptionArn=sub)["Attributes"]["RawMessageDelivery"] == "false"


def test_a_denied_delivery_goes_to_the_subscriptions_dead_letter_queue_if_that_allows_sns(
        server: Server, owner: Account, other: Account) -> None:
    """AWS: "Messages that can't be delivered due to client errors or server errors are held in
    the dead-letter queue" — a queue policy refusing SNS is a client error. The DLQ must let
    the topic deliver too (the SNS guide's DLQ setup gives it such a policy)."""
    topic = new_topic(owner)
    owner.sns.add_permission(TopicArn=topic, Label="sub", AWSAccountId=[OTHER], ActionName=["Subscribe"])
    url, queue_arn = new_queue(other)
    dlq_url, dlq_arn = new_queue(other)
    sub = other.sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn, ReturnSubscriptionArn=True,
                              Attributes={"RawMessageDelivery": "true",
                                          "RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn})}
                              )["SubscriptionArn"]
    owner.sns.publish(TopicArn=topic, Message="nowhere")  # the DLQ has no policy for SNS either
    sub_counts_eventually(server, sub, "failed", 1)
    allow = json.dumps({"Statement": [{"Effect": "Allow", "Principal": {"Service": "sns.amazonaws.com"},
                                       "Action": "sqs:SendMessage", "Resource": dlq_arn,
                                       "Condition": {"ArnLike": {"aws:SourceArn": topic}}}]})
    other.sqs.set_queue_attributes(QueueUrl=dlq_url, Attributes={"Policy": allow})
    owner.sns.publish(TopicArn=topic, Message="dead-lettered")
    counts = sub_counts_eventually(server, sub, "failed", 2)
    assert counts["delivered"] == 0
    assert other.sqs.receive_message(QueueUrl=url, WaitTimeSeconds=0).get("Messages", []) == []
    got = other.sqs.receive_message(QueueUrl=dlq_url, MaxNumberOfMessages=10, WaitTimeSeconds=1)["Messages"]
    assert [m["Body"] for m in got] == ["dead-lettered"]
