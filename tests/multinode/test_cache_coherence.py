"""Cache coherence across nodes: a change acknowledged by one node is in force, at once, on
every other node.

Each node caches queue records and each topic's subscription list and drops its copy when
another node announces a change (LISTEN/NOTIFY). The promise pinned here is the one a
client relies on: once node A answered 200 to a change, a request made afterwards on node
B behaves as if B had made the change itself — a publish reaches the subscription A just
made, skips the one A just removed, obeys the filter policy A just set; a receive uses the
visibility timeout A just set; a send reaches the queue A just re-created.

How the tests provoke the race: each round makes the change on A and, released at the
same instant on another thread, a request on B that reads the same record into B's cache
(a publish to the topic, a GetQueueUrl) — a notice that lands while B is filling its cache
must not be lost; then, as soon as A's response is in, the checked request goes to B.
Several workers run rounds in parallel, swapping the roles of nodes 0 and 1, so both nodes
are busy. A round that saw the old state is counted, and every test asserts there were
none, naming how many of how many rounds went wrong.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import psycopg
import pytest
from botocore.exceptions import ClientError

from tests.pg import drop_schema, new_schema, require_pg, with_schema

from .coherence_support import (
    at_once,
    client,
    collect_bodies,
    listener_backends,
    node_backends,
    queue_arn,
    run_workers,
    tag,
    terminate_listener,
)
from .conftest import Cluster, wait_until

RAW = {"RawMessageDelivery": "true"}
WORKERS = 4


class Nodes:
    """Three nodes and, per node, one SNS and one SQS client shared by the test's threads."""

    def __init__(self, cluster: Cluster) -> None:
        self.cluster = cluster
        self.sns = [client("sns", n.endpoint) for n in cluster.nodes]
        self.sqs = [client("sqs", n.endpoint) for n in cluster.nodes]


@pytest.fixture(scope="module")
def shared() -> Iterator[Nodes]:
    """One three-node cluster for the whole module (each test uses resources of its own,
    named uniquely): starting three nodes costs ~5 s, and the module must stay under a
    minute. The listener test, which cuts a node's connection, waits for the node to
    listen again before it ends."""
    dsn = require_pg()
    schema = new_schema()
    cluster = Cluster(with_schema(dsn, schema))
    try:
        for _ in range(3):
            cluster.start_node()
        yield Nodes(cluster)
    finally:
        cluster.stop()
        drop_schema(dsn, schema)


def _roles(w: int, r: int = 0) -> tuple[int, int]:
    """(node that changes, node that uses): nodes 0 and 1, swapped by worker and by round."""
    return (0, 1) if (w + r) % 2 == 0 else (1, 0)


def _code(exc: BaseException) -> str:
    if isinstance(exc, ClientError):
        meta = exc.response["ResponseMetadata"]
        return f"{exc.response['Error'].get('Code')} (HTTP {meta['HTTPStatusCode']})"
    return repr(exc)


# ---------------------------------------------------------------------------------------------
# 1. Subscribe on A, publish on B


def test_publish_on_b_reaches_a_subscription_just_made_on_a(shared: Nodes) -> None:
    """Subscribe (sqs, RawMessageDelivery) returned 200 on node A ⇒ a Publish made afterwards
    on node B is delivered to that queue. 4 workers × 50 rounds; each worker has a topic and
    a queue; per round: Subscribe on A while B publishes a filler message to the topic (B
    is reading the subscription list into its cache when A's change lands), then Publish
    of a round-unique body on B, then the queue is read on node 2 and, once the body came,
    unsubscribed on A (which empties B's copy for the next round).

    How the test knows: delivery into an SQS queue is part of the publish, so the body is in
    the queue once Publish returned; a round whose body is not there right away is looked
    for again with long polls until 3 s after the last round. A round still without its
    body is a publish that silently reached no one although the subscription was confirmed."""
    sns, sqs = shared.sns, shared.sqs
    per_worker = 50
    pending: list[tuple[str, str]] = []  # (queue url, body) not received right away
    lock = threading.Lock()

    def work(w: int) -> None:
        a, b = _roles(w)
        topic = sns[2].create_topic(Name=tag(f"coh-sub-{w}"))["TopicArn"]
        url = sqs[2].create_queue(QueueName=tag(f"coh-sub-{w}"))["QueueUrl"]
        for r in range(per_worker):
            sub, filler = at_once(
                lambda url=url: sns[a].subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn(url),
                                                 Attributes=RAW, ReturnSubscriptionArn=True),
                lambda: sns[b].publish(TopicArn=topic, Message="filler"))
            for result in (sub, filler):
                if isinstance(result, Exception):
                    raise result
            body = tag(f"round-{w}-{r}")
            sns[b].publish(TopicArn=topic, Message=body)
            if body in collect_bodies(sqs[2], url, [body]):
                sns[a].unsubscribe(SubscriptionArn=sub["SubscriptionArn"])
            else:  # looked for again at the end; the next round gets a queue of its own
                with lock:
                    pending.append((url, body))
                url = sqs[2].create_queue(QueueName=tag(f"coh-sub-{w}-{r}"))["QueueUrl"]

    errors = run_workers(work, WORKERS)
    assert not errors, [_code(e) for e in errors[:3]]
    deadline = time.monotonic() + 3
    missed = [body for url, body in pending if body not in collect_bodies(sqs[2], url, [body], deadline)]
    assert not missed, (f"{len(missed)} of {WORKERS * per_worker} publishes made on one node right after "
                        f"Subscribe returned on another reached no one (and {len(pending) - len(missed)} "
                        f"arrived late); e.g. {missed[:3]}")


# ---------------------------------------------------------------------------------------------
# 2. Unsubscribe on A, publish on B


def test_publish_on_b_skips_a_subscription_just_removed_on_a(shared: Nodes) -> None:
    """Unsubscribe returned 200 on node A ⇒ a Publish made afterwards on node B does not
    deliver to that queue. 4 workers × 30 rounds; per round: Subscribe on A, then
    Unsubscribe on A while B publishes a filler to the topic, then Publish of a
    round-unique body on B.

    How the test knows: after the last round and one more second (so that a late delivery
    would have landed too), each worker's queue is drained; every round body found in it was
    delivered to a subscription that no longer existed. The first round's Subscribe is
    checked to deliver (so the queue is reachable and an empty queue means something)."""
    sns, sqs = shared.sns, shared.sqs
    per_worker = 30
    queues: list[tuple[str, set[str]]] = []
    lock = threading.Lock()

    def work(w: int) -> None:
        a, b = _roles(w)
        topic = sns[2].create_topic(Name=tag(f"coh-unsub-{w}"))["TopicArn"]
        url = sqs[2].create_queue(QueueName=tag(f"coh-unsub-{w}"))["QueueUrl"]
        sub = sns[a].subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn(url), Attributes=RAW,
                               ReturnSubscriptionArn=True)["SubscriptionArn"]
        sns[a].publish(TopicArn=topic, Message="reachable")
        assert collect_bodies(sqs[2], url, ["reachable"], time.monotonic() + 5) == ["reachable"]
        bodies: set[str] = set()
        for r in range(per_worker):
            if r:
                sub = sns[a].subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn(url), Attributes=RAW,
                                       ReturnSubscriptionArn=True)["SubscriptionArn"]
            gone, filler = at_once(lambda sub=sub: sns[a].unsubscribe(SubscriptionArn=sub),
                                   lambda: sns[b].publish(TopicArn=topic, Message="filler"))
            for result in (gone, filler):
                if isinstance(result, Exception):
                    raise result
            body = tag(f"after-unsubscribe-{w}-{r}")
            bodies.add(body)
            sns[b].publish(TopicArn=topic, Message=body)
        with lock:
            queues.append((url, bodies))

    errors = run_workers(work, WORKERS)
    assert not errors, [_code(e) for e in errors[:3]]
    time.sleep(1)
    wrong = [b for url, bodies in queues for b in collect_bodies(sqs[2], url) if b in bodies]
    assert len(queues) == WORKERS
    assert not wrong, (f"{len(wrong)} of {WORKERS * per_worker} publishes made on one node right after "
                       f"Unsubscribe returned on another were delivered to the removed subscription; "
                       f"e.g. {wrong[:3]}")


# ---------------------------------------------------------------------------------------------
# 3. SetSubscriptionAttributes(FilterPolicy) on A, publish on B


def test_publish_on_b_obeys_a_filter_policy_just_set_on_a(shared: Nodes) -> None:
    """SetSubscriptionAttributes(FilterPolicy) returned 200 on node A ⇒ a Publish made
    afterwards on node B is filtered by the new policy. 4 workers × 25 rounds; each worker
    has one raw subscription; round r sets the policy {"round": ["r"]} on one node (while
    the other publishes a filler that no policy accepts), then the other node publishes two
    messages: attribute round=r-1 (the old policy's, which the new one rejects) and round=r
    (the new policy's). Roles swap every round.

    How the test knows: after the last round each queue is read until every accepted body
    came (or 5 s passed); an r-1 body in the queue was let through by a policy already
    replaced, an r body missing was dropped by it."""
    sns, sqs = shared.sns, shared.sqs
    per_worker = 25
    results: list[tuple[list[str], set[str], set[str]]] = []  # (received, must arrive, must not)
    lock = threading.Lock()

    def policy(r: int) -> str:
        return json.dumps({"round": [str(r)]})

    def attrs(r: int | str) -> dict[str, Any]:
        return {"round": {"DataType": "String", "StringValue": str(r)}}

    def work(w: int) -> None:
        topic = sns[2].create_topic(Name=tag(f"coh-filter-{w}"))["TopicArn"]
        url = sqs[2].create_queue(QueueName=tag(f"coh-filter-{w}"))["QueueUrl"]
        sub = sns[2].subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn(url),
                               Attributes={**RAW, "FilterPolicy": policy(-1)},
                               ReturnSubscriptionArn=True)["SubscriptionArn"]
        accepted: set[str] = set()
        rejected: set[str] = set()
        for r in range(per_worker):
            a, b = _roles(w, r)
            done, filler = at_once(
                lambda a=a, r=r: sns[a].set_subscription_attributes(
                    SubscriptionArn=sub, AttributeName="FilterPolicy", AttributeValue=policy(r)),
                lambda b=b: sns[b].publish(TopicArn=topic, Message="filler", MessageAttributes=attrs("filler")))
            for result in (done, filler):
                if isinstance(result, Exception):
                    raise result
            old, new = tag(f"old-policy-{w}-{r}"), tag(f"new-policy-{w}-{r}")
            sns[b].publish(TopicArn=topic, Message=old, MessageAttributes=attrs(r - 1))
            sns[b].publish(TopicArn=topic, Message=new, MessageAttributes=attrs(r))
            rejected.add(old)
            accepted.add(new)
        got = collect_bodies(sqs[2], url, accepted, time.monotonic() + 5)
        with lock:
            results.append((got, accepted, rejected))

    errors = run_workers(work, WORKERS)
    assert not errors, [_code(e) for e in errors[:3]]
    assert len(results) == WORKERS
    let_through = [b for got, _, rejected in results for b in got if b in rejected]
    dropped = [b for got, accepted, _ in results for b in accepted - set(got)]
    rounds = WORKERS * per_worker
    assert not let_through and not dropped, (
        f"of {rounds} rounds: {len(let_through)} publishes the new filter policy rejects were delivered "
        f"(e.g. {let_through[:2]}), {len(dropped)} it accepts were not (e.g. {dropped[:2]})")


# ---------------------------------------------------------------------------------------------
# 4. SetQueueAttributes(VisibilityTimeout) on A, receive on B


def test_receive_on_b_uses_a_visibility_timeout_just_set_on_a(shared: Nodes) -> None:
    """SetQueueAttributes(VisibilityTimeout) returned 200 on node A ⇒ node B's copy of the
    queue takes the new value within moments, never stays stale, and B's receives then use
    it. 4 workers × 30 rounds alternating 600 and 0; per round: a message is sent (node 2);
    node 2 tags the queue (so B drops its copy of the record); the timeout is set on A
    while B calls GetQueueUrl for the queue (B re-reads the record as A's change lands —
    the fill race that used to leave B's copy stale for good).

    How the test knows: B's GetQueueAttributes must report the new timeout within 2 s
    (AWS allows "up to 60 seconds for most of the attributes to propagate"; postroom's
    change notices take milliseconds — what must never happen is a copy that stays old).
    Then B receives the message without a VisibilityTimeout parameter, and node 2 receives
    again: with 600 the message must stay invisible (node 2 gets nothing); with 0 it must be
    visible at once (node 2 gets it within a 1 s long poll)."""
    sqs = shared.sqs
    per_worker = 30
    stale: list[str] = []
    lock = threading.Lock()

    def work(w: int) -> None:
        name = tag(f"coh-vis-{w}")
        url = sqs[2].create_queue(QueueName=name, Attributes={"VisibilityTimeout": "0"})["QueueUrl"]
        for r in range(per_worker):
            a, b = _roles(w, r)
            timeout = 600 if r % 2 == 0 else 0
            body = tag(f"vis-{w}-{r}")
            sqs[2].send_message(QueueUrl=url, MessageBody=body)
            sqs[2].tag_queue(QueueUrl=url, Tags={"round": str(r)})
            done, filler = at_once(
                lambda a=a, timeout=timeout: sqs[a].set_queue_attributes(
                    QueueUrl=url, Attributes={"VisibilityTimeout": str(timeout)}),
                lambda b=b: sqs[b].get_queue_url(QueueName=name))
            for result in (done, filler):
                if isinstance(result, Exception):
                    raise result
            deadline = time.monotonic() + 2
            while sqs[b].get_queue_attributes(QueueUrl=url, AttributeNames=["VisibilityTimeout"])[
                    "Attributes"]["VisibilityTimeout"] != str(timeout):
                if time.monotonic() > deadline:
                    with lock:
                        stale.append(f"set {timeout} s on node {a}; node {b} still reports the old value after 2 s")
                    break
                time.sleep(0.01)
            first = sqs[b].receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1)
            assert [m["Body"] for m in first.get("Messages", [])] == [body], (w, r, first.get("Messages"))
            again = sqs[2].receive_message(QueueUrl=url, MaxNumberOfMessages=10,
                                           WaitTimeSeconds=1 if timeout == 0 else 0).get("Messages", [])
            visible = body in [m["Body"] for m in again]
            if visible != (timeout == 0):
                with lock:
                    stale.append(f"set {timeout} s, message {'visible' if visible else 'hidden'}")
            for m in again:
                sqs[2].delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])

    errors = run_workers(work, WORKERS)
    assert not errors, [_code(e) for e in errors[:3]]
    assert not stale, (f"{len(stale)} of {WORKERS * per_worker} rounds: a node kept or used the old "
                       f"VisibilityTimeout after SetQueueAttributes returned on another: {stale[:4]}")


# ---------------------------------------------------------------------------------------------
# 5. DeleteQueue + CreateQueue on A, send on B


def test_send_on_b_lands_in_a_queue_just_recreated_on_a(shared: Nodes) -> None:
    """DeleteQueue(X) and CreateQueue(X) returned 200 on node A (no --aws-timing, so the
    name is free at once) ⇒ a SendMessage to X on node B succeeds and lands in the new
    queue. 4 workers × 40 rounds; per round: B sends a filler to X (so B has X's record in
    its cache), A deletes X while B calls GetQueueUrl for it, A creates X again, then B
    sends a round-unique body.

    How the test knows: the send must answer 200 (an error is counted with its code), and
    the body must be received from X through node A (right away, or by long polls until
    3 s after the last round); a body never received was acknowledged and lost."""
    sqs = shared.sqs
    per_worker = 40
    failed: list[str] = []
    pending: list[tuple[str, str]] = []
    lock = threading.Lock()

    def work(w: int) -> None:
        name = tag(f"coh-recreate-{w}")
        url = sqs[2].create_queue(QueueName=name)["QueueUrl"]
        for r in range(per_worker):
            a, b = _roles(w, r)
            try:
                sqs[b].send_message(QueueUrl=url, MessageBody="filler")
            except ClientError as exc:  # X exists since the last round: this must not fail either
                with lock:
                    failed.append("filler: " + _code(exc))
            gone, _ = at_once(lambda a=a, url=url: sqs[a].delete_queue(QueueUrl=url),
                              lambda b=b, name=name: sqs[b].get_queue_url(QueueName=name))
            if isinstance(gone, Exception):
                raise gone
            url = sqs[a].create_queue(QueueName=name)["QueueUrl"]
            body = tag(f"recreated-{w}-{r}")
            try:
                sqs[b].send_message(QueueUrl=url, MessageBody=body)
            except ClientError as exc:
                with lock:
                    failed.append(_code(exc))
                continue
            if body not in collect_bodies(sqs[a], url, [body]):
                with lock:
                    pending.append((url, body))
                name = tag(f"coh-recreate-{w}-{r}")  # that queue is kept for the final look
                url = sqs[2].create_queue(QueueName=name)["QueueUrl"]

    errors = run_workers(work, WORKERS)
    assert not errors, [_code(e) for e in errors[:3]]
    deadline = time.monotonic() + 3
    lost = [body for url, body in pending if body not in collect_bodies(shared.sqs[0], url, [body], deadline)]
    rounds = WORKERS * per_worker
    assert not failed and not lost, (
        f"of {rounds} sends on one node right after DeleteQueue+CreateQueue returned on another: "
        f"{len(failed)} failed ({sorted(set(failed))}), {len(lost)} were acknowledged and never received")


# ---------------------------------------------------------------------------------------------
# 6. A node whose listening connection is cut


def test_node_that_lost_its_listener_neither_serves_a_stale_cache_nor_leaves_long_polls_asleep(
        shared: Nodes) -> None:
    """Node B's PostgreSQL listening connection is terminated from outside
    (pg_terminate_backend of the backend that is not one of B's pool connections; B's
    backends are found by the TCP ports of the sockets B's process holds, so no connection
    of any other process can be hit). Pinned:

    - while B is without its listener, a Subscribe made on A reaches B's publishes within
      1 s: B publishes every 0.1 s from the moment Subscribe returned; the first publish
      delivered to the new queue must have been made within 1 s, and none after it may be
      missing (the queue is read on node 2);
    - a long poll waiting on B (WaitTimeSeconds=5) is woken by a send made on A during the
      gap: it must answer with the message within 2 s of the send, not when its wait ends
      (the notice of the send went to no listener of B's, so B must wake its waiters once
      it listens again);
    - once B listens again, a long poll waiting on B is woken by a send on A within 1 s."""
    dsn = require_pg()
    pg_port = urlsplit(dsn).port or 5432
    sns, sqs = shared.sns, shared.sqs
    a, b = 0, 1
    node_b = shared.cluster.nodes[b]
    topic = sns[a].create_topic(Name=tag("coh-gap"))["TopicArn"]
    old_url = sqs[a].create_queue(QueueName=tag("coh-gap-old"))["QueueUrl"]
    new_url = sqs[a].create_queue(QueueName=tag("coh-gap-new"))["QueueUrl"]
    wake_url = sqs[a].create_queue(QueueName=tag("coh-gap-wake"))["QueueUrl"]
    sns[a].subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn(old_url), Attributes=RAW)
    sns[b].publish(TopicArn=topic, Message="warm")  # B caches the subscription list: [old]
    assert collect_bodies(sqs[2], old_url, ["warm"], time.monotonic() + 5) == ["warm"]
    sqs[b].receive_message(QueueUrl=wake_url, WaitTimeSeconds=0)  # B caches the queue record

    def long_poll_on_b() -> tuple[threading.Thread, dict[str, Any]]:
        result: dict[str, Any] = {}

        def wait() -> None:
            r = sqs[b].receive_message(QueueUrl=wake_url, WaitTimeSeconds=5)
            result["at"] = time.monotonic()
            result["bodies"] = [m["Body"] for m in r.get("Messages", [])]
            for m in r.get("Messages", []):
                sqs[b].delete_message(QueueUrl=wake_url, ReceiptHandle=m["ReceiptHandle"])

        t = threading.Thread(target=wait)
        t.start()
        time.sleep(0.5)  # the receive is waiting on B
        return t, result

    problems: list[str] = []
    with psycopg.connect(dsn, autocommit=True) as conn:
        waiter, woken = long_poll_on_b()
        victims = terminate_listener(conn, node_b, pg_port)
        assert victims, ("found no listening connection of node B among its PostgreSQL backends: "
                         f"{node_backends(conn, node_b, pg_port)}")
        # the gap: what happens now is announced to no listener of B's
        sent_at = time.monotonic()
        sqs[a].send_message(QueueUrl=wake_url, MessageBody="during-the-gap")
        sns[a].subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn(new_url), Attributes=RAW)
        subscribed_at = time.monotonic()
        published: list[tuple[float, str]] = []
        while time.monotonic() - subscribed_at < 1.5:
            body = tag("after-subscribe")
            published.append((time.monotonic() - subscribed_at, body))
            sns[b].publish(TopicArn=topic, Message=body)
            time.sleep(0.1)
        waiter.join(timeout=15)
        got = set(collect_bodies(sqs[2], new_url, [published[-1][1]], time.monotonic() + 3))
        delivered = [at for at, body in published if body in got]
        first = min(delivered) if delivered else None
        late = [round(at, 2) for at, body in published if first is not None and at > first and body not in got]
        if first is None or first > 1.0 or late:
            problems.append(
                f"node B without its listener kept publishing to the old subscription set: the first publish "
                f"reaching the new subscription was made {first if first is None else round(first, 2)} s after "
                f"Subscribe returned on A ({len(published)} publishes over 1.5 s); missing after it: {late}")
        if woken.get("bodies") != ["during-the-gap"] or woken["at"] - sent_at >= 2.0:
            problems.append(
                f"a long poll (WaitTimeSeconds=5) on node B answered {woken.get('bodies')} "
                f"{woken['at'] - sent_at:.1f} s after a send on node A made while B's listening connection "
                f"was down")
        wait_until(lambda: bool(set(listener_backends(conn, node_b, pg_port, samples=2)) - set(victims)),
                   10, "node B to open a new listening connection")

    waiter, woken = long_poll_on_b()
    sent_at = time.monotonic()
    sqs[a].send_message(QueueUrl=wake_url, MessageBody="after-the-gap")
    waiter.join(timeout=15)
    if woken.get("bodies") != ["after-the-gap"] or woken["at"] - sent_at >= 1.0:
        problems.append(f"after the gap, a send on node A woke B's long poll with {woken.get('bodies')} only "
                        f"after {woken['at'] - sent_at:.1f} s")
    assert not problems, problems
