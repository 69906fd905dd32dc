"""Concurrent updates of one SNS topic or subscription must not lose one another.

AWS: SetTopicAttributes "Allows a topic owner to set an attribute of the topic to a new value"
(one attribute per call), AddPermission "Adds a statement to a topic's access control policy",
TagResource adds tags to the topic, SetSubscriptionAttributes "Allows a subscription owner to set
an attribute of the subscription to a new value". Each call changes only what it names, so two
of them at the same time both take effect; a server that merges into a stale copy and writes it
back whole loses one. Each round releases two calls together (barrier, one client per thread, no
retries) on a new topic or subscription, then reads it back; all rounds run and the test reports
how many lost an update.
"""

from __future__ import annotations

import json
from functools import partial
from typing import Any

from tests.api.conftest import unique
from tests.concurrency.conftest import ROUNDS, Clients, assert_no_failures, race, race_errors

ACCOUNTS = ["111122223333"]


def _delivery_policy(retries: int) -> str:
    """A valid HTTP delivery policy (AWS: "Creating an HTTP/S delivery policy")."""
    return json.dumps({"http": {"defaultHealthyRetryPolicy": {
        "minDelayTarget": 1, "maxDelayTarget": 20, "numRetries": retries, "numNoDelayRetries": 0,
        "numMinDelayRetries": 0, "numMaxDelayRetries": 0, "backoffFunction": "linear"}}})


def _topic_attrs(sns: Any, arn: str) -> dict[str, str]:
    return dict(sns.get_topic_attributes(TopicArn=arn)["Attributes"])


def _retries(attrs: dict[str, str]) -> int | None:
    if not attrs.get("DeliveryPolicy"):
        return None
    return int(json.loads(attrs["DeliveryPolicy"])["http"]["defaultHealthyRetryPolicy"]["numRetries"])


def test_set_topic_attributes_vs_set_topic_attributes(clients: Clients) -> None:
    """SetTopicAttributes(DisplayName=n<r>) racing SetTopicAttributes(DeliveryPolicy with
    numRetries=r+1) on a new topic (no DisplayName, no DeliveryPolicy): afterwards
    GetTopicAttributes shows both."""
    admin, a, b = clients.sns(0), clients.sns(1), clients.sns(2)
    failures: list[str] = []
    for r in range(ROUNDS):
        arn = admin.create_topic(Name=unique("ct-attrs"))["TopicArn"]
        name, retries = f"n{r}", r + 1
        out = race(partial(a.set_topic_attributes, TopicArn=arn, AttributeName="DisplayName", AttributeValue=name),
                   partial(b.set_topic_attributes, TopicArn=arn, AttributeName="DeliveryPolicy",
                           AttributeValue=_delivery_policy(retries)))
        failures += [f"round {r}: {e}" for e in race_errors(out, ("SetTopicAttributes(DisplayName)",
                                                                    "SetTopicAttributes(DeliveryPolicy)"))]
        got = _topic_attrs(admin, arn)
        if got.get("DisplayName") != name or _retries(got) != retries:
            failures.append(f"round {r}: expected DisplayName={name} and numRetries={retries}, got "
                            f"DisplayName={got.get('DisplayName')!r} DeliveryPolicy={got.get('DeliveryPolicy')!r}")
        admin.delete_topic(TopicArn=arn)
    assert_no_failures(failures, ROUNDS, "lost a topic attribute")


def test_add_permission_vs_add_permission(clients: Clients) -> None:
    """SNS AddPermission(Label=a<r>) racing AddPermission(Label=b<r>) on one new topic: the
    topic's Policy must hold both statements (Sid = Label) beside the default statement."""
    admin, a, b = clients.sns(0), clients.sns(1), clients.sns(2)
    failures: list[str] = []
    for r in range(ROUNDS):
        arn = admin.create_topic(Name=unique("ct-perm"))["TopicArn"]
        la, lb = f"a{r}", f"b{r}"
        out = race(partial(a.add_permission, TopicArn=arn, Label=la, AWSAccountId=ACCOUNTS, ActionName=["Publish"]),
                   partial(b.add_permission, TopicArn=arn, Label=lb, AWSAccountId=ACCOUNTS,
                           ActionName=["Subscribe"]))
        failures += [f"round {r}: {e}" for e in race_errors(out, (f"AddPermission({la})", f"AddPermission({lb})"))]
        policy = _topic_attrs(admin, arn).get("Policy")
        sids = {s.get("Sid") for s in json.loads(policy)["Statement"]} if policy else set()
        if not {la, lb} <= sids:
            failures.append(f"round {r}: expected statements {la} and {lb}, Policy has {sorted(sids)}")
        admin.delete_topic(TopicArn=arn)
    assert_no_failures(failures, ROUNDS, "lost a permission statement")


def test_tag_resource_vs_tag_resource(clients: Clients) -> None:
    """TagResource({k1: v}) racing TagResource({k2: v}) on a new topic: ListTagsForResource shows
    both."""
    admin, a, b = clients.sns(0), clients.sns(1), clients.sns(2)
    failures: list[str] = []
    for r in range(ROUNDS):
        arn = admin.create_topic(Name=unique("ct-tag"))["TopicArn"]
        value = f"v{r}"
        out = race(partial(a.tag_resource, ResourceArn=arn, Tags=[{"Key": "k1", "Value": value}]),
                   partial(b.tag_resource, ResourceArn=arn, Tags=[{"Key": "k2", "Value": value}]))
        failures += [f"round {r}: {e}" for e in race_errors(out, ("TagResource(k1)", "TagResource(k2)"))]
        tags = {t["Key"]: t["Value"] for t in admin.list_tags_for_resource(ResourceArn=arn)["Tags"]}
        if tags != {"k1": value, "k2": value}:
            failures.append(f"round {r}: expected tags k1 and k2 = {value}, got {tags}")
        admin.delete_topic(TopicArn=arn)
    assert_no_failures(failures, ROUNDS, "lost a tag")


def test_set_subscription_attributes_vs_set_subscription_attributes(clients: Clients) -> None:
    """SetSubscriptionAttributes(RawMessageDelivery=true) racing SetSubscriptionAttributes(
    FilterPolicy={"round": ["<r>"]}) on a new SQS subscription (raw delivery off, no filter
    policy): GetSubscriptionAttributes shows both."""
    sns, sqs, a, b = clients.sns(0), clients.sqs(0), clients.sns(1), clients.sns(2)
    topic = sns.create_topic(Name=unique("ct-sub"))["TopicArn"]
    failures: list[str] = []
    for r in range(ROUNDS):
        url = sqs.create_queue(QueueName=unique("cq-sub"))["QueueUrl"]
        qarn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        sub = sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=qarn, ReturnSubscriptionArn=True)[
            "SubscriptionArn"]
        policy = {"round": [str(r)]}
        out = race(partial(a.set_subscription_attributes, SubscriptionArn=sub, AttributeName="RawMessageDelivery",
                           AttributeValue="true"),
                   partial(b.set_subscription_attributes, SubscriptionArn=sub, AttributeName="FilterPolicy",
                           AttributeValue=json.dumps(policy)))
        failures += [f"round {r}: {e}" for e in race_errors(out, ("SetSubscriptionAttributes(RawMessageDelivery)",
                                                                    "SetSubscriptionAttributes(FilterPolicy)"))]
        got = sns.get_subscription_attributes(SubscriptionArn=sub)["Attributes"]
        fp = json.loads(got["FilterPolicy"]) if got.get("FilterPolicy") else None
        if got.get("RawMessageDelivery") != "true" or fp != policy:
            failures.append(f"round {r}: expected RawMessageDelivery=true and FilterPolicy={policy}, got "
                            f"RawMessageDelivery={got.get('RawMessageDelivery')!r} FilterPolicy={fp}")
        sns.unsubscribe(SubscriptionArn=sub)
        sqs.delete_queue(QueueUrl=url)
    sns.delete_topic(TopicArn=topic)
    assert_no_failures(failures, ROUNDS, "lost a subscription attribute")
