"""Regions are isolated: queues and topics are scoped by (account, region, name), as on AWS.

On AWS, SQS and SNS are regional services: a queue or topic lives in one Region (its ARN is
``arn:aws:sqs|sns:<region>:<account>:<name>``), the same name can be used in every Region, and a
resource created in one Region is not seen from another. Here two clients differ only in the
Region of their SigV4 signature (same endpoint URL, same credentials), and each uses the queue
URL or topic ARN it was given.
"""

from __future__ import annotations

import json
from typing import Any

from tests.api.conftest import REGION, unique
from tests.concurrency.conftest import OTHER_REGION, Clients
from tests.sns.conftest import receive

REGIONS = (REGION, OTHER_REGION)


def _queue_arn(sqs: Any, url: str) -> str:
    return str(sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"])


def _listed(sqs: Any, name: str) -> list[str]:
    """The queue URLs ListQueues gives for exactly this name."""
    return [u for u in sqs.list_queues(QueueNamePrefix=name).get("QueueUrls", []) if u.rsplit("/", 1)[1] == name]


def _region_of(arn: str) -> str:
    return arn.split(":")[3]


def test_same_queue_name_in_two_regions_are_two_queues(clients: Clients) -> None:
    """CreateQueue of one name in us-east-1 and in eu-west-1 creates two queues: each one's
    QueueArn names its own region (arn:aws:sqs:<region>:<account>:<name>), and ListQueues in
    each region lists exactly one queue of that name."""
    us, eu = clients.sqs(0, REGION), clients.sqs(0, OTHER_REGION)
    name = unique("creg")
    url_us = us.create_queue(QueueName=name)["QueueUrl"]
    url_eu = eu.create_queue(QueueName=name)["QueueUrl"]
    arns = {REGION: _queue_arn(us, url_us), OTHER_REGION: _queue_arn(eu, url_eu)}
    assert {r: _region_of(a) for r, a in arns.items()} == {r: r for r in REGIONS}, arns
    assert all(a.endswith(":" + name) for a in arns.values()), arns
    assert len(_listed(us, name)) == 1, _listed(us, name)
    assert len(_listed(eu, name)) == 1, _listed(eu, name)


def test_messages_stay_in_their_region(clients: Clients) -> None:
    """A message sent by the us-east-1 client to its queue is not received by the eu-west-1
    client from its same-named queue (with the URL it was given), and is received by the
    us-east-1 client."""
    us, eu = clients.sqs(0, REGION), clients.sqs(0, OTHER_REGION)
    name = unique("creg-msg")
    url_us = us.create_queue(QueueName=name)["QueueUrl"]
    url_eu = eu.create_queue(QueueName=name)["QueueUrl"]
    us.send_message(QueueUrl=url_us, MessageBody="from us-east-1")
    got_eu = eu.receive_message(QueueUrl=url_eu, MaxNumberOfMessages=10, WaitTimeSeconds=0).get("Messages", [])
    assert got_eu == [], f"the eu-west-1 queue received {[m['Body'] for m in got_eu]}"
    got_us = us.receive_message(QueueUrl=url_us, MaxNumberOfMessages=10, WaitTimeSeconds=1).get("Messages", [])
    assert [m["Body"] for m in got_us] == ["from us-east-1"]


def test_delete_in_one_region_leaves_the_other(clients: Clients) -> None:
    """DeleteQueue in eu-west-1 deletes only the eu-west-1 queue: it is gone from eu-west-1's
    ListQueues, while the us-east-1 queue of the same name is still listed, answers
    GetQueueAttributes and keeps its message."""
    us, eu = clients.sqs(0, REGION), clients.sqs(0, OTHER_REGION)
    name = unique("creg-del")
    url_us = us.create_queue(QueueName=name)["QueueUrl"]
    url_eu = eu.create_queue(QueueName=name)["QueueUrl"]
    us.send_message(QueueUrl=url_us, MessageBody="keep me")
    eu.delete_queue(QueueUrl=url_eu)
    assert _listed(eu, name) == []
    assert len(_listed(us, name)) == 1, "deleting the eu-west-1 queue removed the us-east-1 one"
    assert _region_of(_queue_arn(us, url_us)) == REGION
    got = us.receive_message(QueueUrl=url_us, MaxNumberOfMessages=10, WaitTimeSeconds=1).get("Messages", [])
    assert [m["Body"] for m in got] == ["keep me"]


def test_same_topic_name_in_two_regions_are_two_topics(clients: Clients) -> None:
    """CreateTopic of one name in us-east-1 and eu-west-1 returns two different ARNs, each with
    its own region; ListTopics in each region lists only that region's topic of that name."""
    us, eu = clients.sns(0, REGION), clients.sns(0, OTHER_REGION)
    name = unique("ctreg")
    arn_us = us.create_topic(Name=name)["TopicArn"]
    arn_eu = eu.create_topic(Name=name)["TopicArn"]
    assert arn_us != arn_eu, f"both regions got the topic {arn_us}"
    assert (_region_of(arn_us), _region_of(arn_eu)) == REGIONS, (arn_us, arn_eu)

    def listed(sns: Any) -> list[str]:
        out: list[str] = []
        for page in sns.get_paginator("list_topics").paginate():
            out += [t["TopicArn"] for t in page.get("Topics", []) if t["TopicArn"].endswith(":" + name)]
        return out

    assert listed(us) == [arn_us]
    assert listed(eu) == [arn_eu]


def test_publish_reaches_only_its_regions_queue(clients: Clients) -> None:
    """A topic and a queue of the same names in each region, each topic subscribing its own
    region's queue (raw delivery): a publish to the us-east-1 topic reaches only the us-east-1
    queue and a publish to the eu-west-1 topic only the eu-west-1 queue."""
    found: dict[str, list[str]] = {}
    topic, queue = unique("ctreg-pub"), unique("cqreg-pub")
    setup = {}
    for region in REGIONS:
        sns, sqs = clients.sns(0, region), clients.sqs(0, region)
        arn = sns.create_topic(Name=topic)["TopicArn"]
        url = sqs.create_queue(QueueName=queue)["QueueUrl"]
        sns.subscribe(TopicArn=arn, Protocol="sqs", Endpoint=_queue_arn(sqs, url),
                      Attributes={"RawMessageDelivery": "true"})
        setup[region] = (arn, url)
    for region in REGIONS:
        clients.sns(0, region).publish(TopicArn=setup[region][0], Message=json.dumps({"to": region}))
    for region in REGIONS:  # each queue's first message (deleted as received) ...
        msgs = receive(clients.sqs(0, region), setup[region][1], n=1, timeout=5, settle=False)
        found[region] = [json.loads(m["Body"])["to"] for m in msgs]
    for region in REGIONS:  # ... then whatever else arrives within a second
        msgs = clients.sqs(0, region).receive_message(QueueUrl=setup[region][1], MaxNumberOfMessages=10,
                                                      WaitTimeSeconds=1).get("Messages", [])
        found[region] = sorted(found[region] + [json.loads(m["Body"])["to"] for m in msgs])
    assert found == {r: [r] for r in REGIONS}, f"messages per region's queue: {found}"
