"""QUEUE-POLICY reports the verdict the server enforces: verify's health check and postroom's
SNS→SQS delivery judge the queue's Policy with one evaluator (``postroom.core.policy``). Against
postroom the deliveries are published for real and must fail (counted failed) exactly when
verify warns that postroom drops them; against moto (which enforces no policy) only the
verdict is checked."""

from __future__ import annotations

import json
import time
from typing import Any

import requests

from postroom.topology.live import read_live
from postroom.topology.model import Declared, Queue, Subscription, Topic, Topology
from postroom.topology.verify import verify
from tests.endpoints import Endpoint
from tests.topology.conftest import queue_arn, target, topic_arn


def _policy(effect: str, queue: str, source: str) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": effect, "Principal": {"Service": "sns.amazonaws.com"}, "Action": "sqs:SendMessage",
        "Resource": queue, "Condition": {"ArnEquals": {"aws:SourceArn": source}}}]})


def _failed(ep: Endpoint, sub: str) -> tuple[int, int]:
    r = requests.get(ep.url + "/_postroom/accounting", timeout=10)
    counts: dict[str, Any] = r.json().get("subscriptions", {}).get(sub, {})
    return int(counts.get("delivered", 0)), int(counts.get("failed", 0))


def _wait_counts(ep: Endpoint, sub: str, want: tuple[int, int]) -> None:
    deadline = time.monotonic() + 10
    while _failed(ep, sub) != want:
        assert time.monotonic() < deadline, f"counts {_failed(ep, sub)} != {want}"
        time.sleep(0.05)


def test_verify_reports_the_queue_policy_verdict_the_server_enforces(endpoint: Endpoint, prefix: str) -> None:
    ep, p = endpoint, prefix
    sqs, sns = ep.client("sqs"), ep.client("sns")
    sns.create_topic(Name=p + "events")
    url = sqs.create_queue(QueueName=p + "inbox")["QueueUrl"]
    t_arn, q_arn = topic_arn(sns, p + "events"), queue_arn(sqs, p + "inbox")
    sub = sns.subscribe(TopicArn=t_arn, Protocol="sqs", Endpoint=q_arn, ReturnSubscriptionArn=True,
                        Attributes={"RawMessageDelivery": "true"})["SubscriptionArn"]
    declared = Declared(topology=Topology.of(Topic(p + "events"), Queue(p + "inbox"),
                                             Subscription(p + "events", "sqs", p + "inbox", raw=True)),
                        scope=(f"{p}*",))

    def policy_findings() -> list[Any]:
        report = verify(declared, read_live(target(ep)), target(ep))
        return [f for f in report.health if f.check == "QUEUE-POLICY"]

    # a Deny of this topic: verify warns that AWS *and postroom* drop the deliveries …
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"Policy": _policy("Deny", q_arn, t_arn)})
    found = policy_findings()
    assert [f.severity for f in found] == ["warning"], found
    assert "AWS and postroom drop" in found[0].message
    if ep.name == "postroom":  # … and postroom does: the delivery is counted failed, the queue stays empty
        sns.publish(TopicArn=t_arn, Message="denied")
        _wait_counts(ep, sub, (0, 1))
        assert sqs.receive_message(QueueUrl=url, WaitTimeSeconds=0).get("Messages", []) == []

    # an Allow of another topic: AWS drops them, postroom (one account, no Deny) delivers; verify says both
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"Policy": _policy("Allow", q_arn, t_arn + "-other")})
    found = policy_findings()
    assert [f.severity for f in found] == ["warning"], found
    assert "AWS drops (postroom, within one account, delivers)" in found[0].message
    if ep.name == "postroom":
        sns.publish(TopicArn=t_arn, Message="same account")
        _wait_counts(ep, sub, (1, 1))

    # an Allow of this topic: no finding, and the delivery arrives
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"Policy": _policy("Allow", q_arn, t_arn)})
    assert policy_findings() == []
    if ep.name == "postroom":
        sns.publish(TopicArn=t_arn, Message="allowed")
        _wait_counts(ep, sub, (2, 1))
        got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0)["Messages"]
        assert sorted(m["Body"] for m in got) == ["allowed", "same account"]


def test_a_topic_of_another_account_without_a_queue_policy_is_a_warning() -> None:
    """Across accounts postroom refuses a delivery no queue policy allows, as AWS does: a
    warning, not the same-account info."""
    from tests.topology.test_checks import Q, S, T, decl, only, topo

    theirs = "arn:aws:sns:us-east-1:222222222222:t"
    mine = "arn:aws:sns:us-east-1:000000000000:t"
    q_arn = "arn:aws:sqs:us-east-1:000000000000:q"
    cross = only(decl(), topo(T("t", arn=theirs), Q("q", arn=q_arn), S("t", "q")), "QUEUE-POLICY")
    assert [(f.severity, "AWS and postroom drop" in f.message) for f in cross] == [("warning", True)]
    same = only(decl(), topo(T("t", arn=mine), Q("q", arn=q_arn), S("t", "q")), "QUEUE-POLICY")
    assert [f.severity for f in same] == ["info"]
    by_account = json.dumps({"Statement": [{"Effect": "Allow", "Principal": {"Service": "sns.amazonaws.com"},
                                            "Action": "sqs:SendMessage", "Resource": q_arn,
                                            "Condition": {"StringEquals": {"aws:SourceAccount": "222222222222"}}}]})
    allowed = only(decl(), topo(T("t", arn=theirs), Q("q", arn=q_arn, attributes={"Policy": by_account}),
                                S("t", "q")), "QUEUE-POLICY")
    assert allowed == []
