"""Concurrent updates of one SQS queue must not lose one another.

On AWS each SetQueueAttributes ("Sets the value of one or more queue attributes"),
AddPermission ("Adds a permission to a queue for a specific principal"), TagQueue ("Add cost
allocation tags to the specified Amazon SQS queue") and UntagQueue ("Remove cost allocation tags
from the specified Amazon SQS queue") changes only what it names, so two such calls at the same
time both take effect; a server that merges into a stale copy of the queue and writes it back
whole loses one of them. Each round releases two calls together (barrier, one client per thread,
no retries), then reads the queue back; a round fails when either call's effect is missing or
either call fails. All rounds run; the test then reports how many lost an update.
"""

from __future__ import annotations

import json
from functools import partial
from typing import Any

from tests.api.conftest import unique
from tests.concurrency.conftest import ROUNDS, Clients, assert_no_failures, race, race_errors

ACCOUNTS = ["111122223333"]


def _attrs(sqs: Any, url: str, *names: str) -> dict[str, str]:
    return dict(sqs.get_queue_attributes(QueueUrl=url, AttributeNames=list(names)).get("Attributes", {}))


def _sids(sqs: Any, url: str) -> set[str]:
    policy = _attrs(sqs, url, "Policy").get("Policy")
    return {s.get("Sid") for s in json.loads(policy)["Statement"]} if policy else set()


def _tags(sqs: Any, url: str) -> dict[str, str]:
    return dict(sqs.list_queue_tags(QueueUrl=url).get("Tags", {}))


def test_set_attributes_vs_set_attributes(clients: Clients) -> None:
    """SetQueueAttributes(VisibilityTimeout=v) racing SetQueueAttributes(DelaySeconds=d) on a new
    queue (defaults 30 and 0; v and d differ per round and from the defaults): afterwards
    GetQueueAttributes must show both v and d."""
    admin, a, b = clients.sqs(0), clients.sqs(1), clients.sqs(2)
    failures: list[str] = []
    for r in range(ROUNDS):
        url = admin.create_queue(QueueName=unique("cq-attrs"))["QueueUrl"]
        v, d = str(100 + r), str(1 + r)
        out = race(partial(a.set_queue_attributes, QueueUrl=url, Attributes={"VisibilityTimeout": v}),
                   partial(b.set_queue_attributes, QueueUrl=url, Attributes={"DelaySeconds": d}))
        failures += [f"round {r}: {e}" for e in race_errors(out, ("SetQueueAttributes(VisibilityTimeout)",
                                                                    "SetQueueAttributes(DelaySeconds)"))]
        got = _attrs(admin, url, "VisibilityTimeout", "DelaySeconds")
        if (got.get("VisibilityTimeout"), got.get("DelaySeconds")) != (v, d):
            failures.append(f"round {r}: expected VisibilityTimeout={v} DelaySeconds={d}, got {got}")
        admin.delete_queue(QueueUrl=url)
    assert_no_failures(failures, ROUNDS, "lost an attribute update")


def test_add_permission_vs_add_permission(clients: Clients) -> None:
    """AddPermission(Label=a<r>) racing AddPermission(Label=b<r>) on a new queue: afterwards the
    queue's Policy attribute must hold a statement with Sid a<r> and one with Sid b<r> (AWS keeps
    the permissions as statements of the Policy, Sid = Label)."""
    admin, a, b = clients.sqs(0), clients.sqs(1), clients.sqs(2)
    failures: list[str] = []
    for r in range(ROUNDS):
        url = admin.create_queue(QueueName=unique("cq-perm"))["QueueUrl"]
        la, lb = f"a{r}", f"b{r}"
        out = race(partial(a.add_permission, QueueUrl=url, Label=la, AWSAccountIds=ACCOUNTS,
                                            Actions=["SendMessage"]),
                   partial(b.add_permission, QueueUrl=url, Label=lb, AWSAccountIds=ACCOUNTS,
                                            Actions=["ReceiveMessage"]))
        failures += [f"round {r}: {e}" for e in race_errors(out, (f"AddPermission({la})", f"AddPermission({lb})"))]
        sids = _sids(admin, url)
        if not {la, lb} <= sids:
            failures.append(f"round {r}: expected statements {la} and {lb}, Policy has {sorted(sids)}")
        admin.delete_queue(QueueUrl=url)
    assert_no_failures(failures, ROUNDS, "lost a permission statement")


def test_add_permission_vs_set_attributes(clients: Clients) -> None:
    """AddPermission racing SetQueueAttributes(VisibilityTimeout=v): both live in the queue's
    attributes (Policy and VisibilityTimeout), and both must survive."""
    admin, a, b = clients.sqs(0), clients.sqs(1), clients.sqs(2)
    failures: list[str] = []
    for r in range(ROUNDS):
        url = admin.create_queue(QueueName=unique("cq-permattr"))["QueueUrl"]
        label, v = f"p{r}", str(200 + r)
        out = race(partial(a.add_permission, QueueUrl=url, Label=label, AWSAccountIds=ACCOUNTS,
                                            Actions=["SendMessage"]),
                   partial(b.set_queue_attributes, QueueUrl=url, Attributes={"VisibilityTimeout": v}))
        failures += [f"round {r}: {e}" for e in race_errors(out, (f"AddPermission({label})",
                                                                    "SetQueueAttributes(VisibilityTimeout)"))]
        got = _attrs(admin, url, "Policy", "VisibilityTimeout")
        sids = {s.get("Sid") for s in json.loads(got["Policy"])["Statement"]} if got.get("Policy") else set()
        if label not in sids or got.get("VisibilityTimeout") != v:
            failures.append(f"round {r}: expected statement {label} and VisibilityTimeout={v}, got statements "
                            f"{sorted(sids)} and VisibilityTimeout={got.get('VisibilityTimeout')}")
        admin.delete_queue(QueueUrl=url)
    assert_no_failures(failures, ROUNDS, "lost an update")


def test_tag_vs_tag(clients: Clients) -> None:
    """TagQueue({k1: v}) racing TagQueue({k2: v}) on a new queue: ListQueueTags must show both."""
    admin, a, b = clients.sqs(0), clients.sqs(1), clients.sqs(2)
    failures: list[str] = []
    for r in range(ROUNDS):
        url = admin.create_queue(QueueName=unique("cq-tag"))["QueueUrl"]
        value = f"v{r}"
        out = race(partial(a.tag_queue, QueueUrl=url, Tags={"k1": value}),
                   partial(b.tag_queue, QueueUrl=url, Tags={"k2": value}))
        failures += [f"round {r}: {e}" for e in race_errors(out, ("TagQueue(k1)", "TagQueue(k2)"))]
        tags = _tags(admin, url)
        if tags != {"k1": value, "k2": value}:
            failures.append(f"round {r}: expected tags k1 and k2 = {value}, got {tags}")
        admin.delete_queue(QueueUrl=url)
    assert_no_failures(failures, ROUNDS, "lost a tag")


def test_untag_vs_tag(clients: Clients) -> None:
    """UntagQueue([k1]) racing TagQueue({k3: v}) on a queue created with tags {k1, k2}: afterwards
    k1 is gone (not resurrected by a stale write), k3 is present and k2 untouched."""
    admin, a, b = clients.sqs(0), clients.sqs(1), clients.sqs(2)
    failures: list[str] = []
    for r in range(ROUNDS):
        value = f"v{r}"
        url = admin.create_queue(QueueName=unique("cq-untag"), tags={"k1": "old", "k2": value})["QueueUrl"]
        out = race(partial(a.untag_queue, QueueUrl=url, TagKeys=["k1"]),
                   partial(b.tag_queue, QueueUrl=url, Tags={"k3": value}))
        failures += [f"round {r}: {e}" for e in race_errors(out, ("UntagQueue(k1)", "TagQueue(k3)"))]
        tags = _tags(admin, url)
        if tags != {"k2": value, "k3": value}:
            failures.append(f"round {r}: expected tags {{k2, k3}} = {value}, got {tags}")
        admin.delete_queue(QueueUrl=url)
    assert_no_failures(failures, ROUNDS, "lost a tag change")


def test_create_vs_create_same_name(clients: Clients) -> None:
    """Two concurrent CreateQueue of the same new name with the same attributes. AWS: "If you
    provide the name of an existing queue along with the exact names and values of all the
    queue's attributes, CreateQueue returns the queue URL for the existing queue" — so both calls
    succeed, both return the same QueueUrl, and exactly one queue of that name exists
    (ListQueues with the name as prefix; names are unique per round)."""
    admin, a, b = clients.sqs(0), clients.sqs(1), clients.sqs(2)
    failures: list[str] = []
    for r in range(ROUNDS):
        name = unique("cq-create")
        attrs = {"VisibilityTimeout": str(40 + r), "DelaySeconds": str(r % 10)}
        out = race(partial(a.create_queue, QueueName=name, Attributes=attrs),
                   partial(b.create_queue, QueueName=name, Attributes=attrs))
        errors = race_errors(out, ("CreateQueue#1", "CreateQueue#2"))
        failures += [f"round {r}: {e}" for e in errors]
        if not errors and out[0].value["QueueUrl"] != out[1].value["QueueUrl"]:
            failures.append(f"round {r}: the two CreateQueue returned different URLs "
                            f"{out[0].value['QueueUrl']} / {out[1].value['QueueUrl']}")
        listed = admin.list_queues(QueueNamePrefix=name).get("QueueUrls", [])
        if len(listed) != 1:
            failures.append(f"round {r}: ListQueues({name}) lists {listed}, expected exactly one queue")
        got = _attrs(admin, listed[0], "VisibilityTimeout", "DelaySeconds") if listed else {}
        if listed and got != attrs:
            failures.append(f"round {r}: expected attributes {attrs}, got {got}")
        for url in listed:
            admin.delete_queue(QueueUrl=url)
    assert_no_failures(failures, ROUNDS, "of concurrent CreateQueue went wrong")
