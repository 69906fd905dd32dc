"""The incident, end to end, on the bus itself (issue #12).

A FIFO topic with an archive and three subscribed FIFO queues. A migration leaves one
subscriber behind (its subscription is gone); 45,000 messages across 200 message groups are
published meanwhile and reach only the other two. Then:

* ``postroom audit`` flags it, naming the forgotten queue and counting exactly the messages
  it missed;
* the subscription is made again with a ReplayPolicy that starts before the gap, and the
  third queue then holds exactly those 45,000 messages, every group in publish order, none
  twice;
* a second replay of the same window adds nothing (the queue's deduplication);
* a replay after the deduplication window redelivers them, and a consumer with an Inbox
  applies each message exactly once across both.

The same holds for a standard topic with no ArchivePolicy (the server's default archive),
and for a topic that had no subscription at all (unrouted capture).
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest

from postroom.consumer import Consumer, Inbox, Message
from tests.api.conftest import Server
from tests.sns.conftest import StoreSpec, new_queue, new_topic, subscribe_queue

from .conftest import admin, cli, drain, replay_policy, wait_replay_done

N = int(os.environ.get("POSTROOM_INCIDENT_MESSAGES", "45000"))
N_PG = int(os.environ.get("POSTROOM_INCIDENT_MESSAGES_PG", "5000"))
"""The incident's 45,000 messages run on the embedded store; on PostgreSQL the same test runs
with 5,000 by default (its publishes cost more round trips, and the logic is the same) —
set POSTROOM_INCIDENT_MESSAGES_PG=45000 for the full size there too."""
GROUPS = 200
PUBLISHERS = 8


def publish_all(sns: Any, topic: str, n: int, groups: int, fifo: bool, first: int = 0) -> dict[str, str]:
    """Publish ``n`` bodies ``"<group>:<index>"`` (indexes from ``first``) with PublishBatch from
    several threads, each owning a set of groups (so each group's order is its publish order);
    returns MessageId by body."""
    ids: dict[str, str] = {}
    lock = threading.Lock()
    errors: list[BaseException] = []

    def publish(worker: int) -> None:
        try:
            mine = [i for i in range(first, first + n) if (i % groups) % PUBLISHERS == worker]
            for start in range(0, len(mine), 10):
                entries = []
                for i in mine[start:start + 10]:
                    entry: dict[str, Any] = {"Id": str(i), "Message": f"{i % groups}:{i}"}
                    if fifo:
                        entry["MessageGroupId"] = f"g{i % groups}"
                    entries.append(entry)
                answer = sns.publish_batch(TopicArn=topic, PublishBatchRequestEntries=entries)
                assert not answer.get("Failed"), answer["Failed"]
                with lock:
                    for ok in answer["Successful"]:
                        ids[f"{int(ok['Id']) % groups}:{ok['Id']}"] = ok["MessageId"]
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=publish, args=(w,)) for w in range(PUBLISHERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors[0]
    assert len(ids) == n
    return ids


def assert_exactly_in_order(messages: list[dict[str, Any]], n: int, groups: int) -> None:
    bodies = [m["Body"] for m in messages]
    assert len(bodies) == len(set(bodies)), f"{len(bodies) - len(set(bodies))} message(s) delivered twice"
    assert len(bodies) == n, f"{len(bodies)} of {n} messages delivered"
    per_group: dict[str, list[int]] = defaultdict(list)
    for body in bodies:
        group, index = body.split(":")
        per_group[group].append(int(index))
    assert len(per_group) == groups
    broken = [g for g, seq in per_group.items() if seq != sorted(seq)]
    assert not broken, f"{len(broken)} group(s) out of publish order, e.g. {broken[:3]}"


@pytest.mark.timeout(1200)
def test_the_incident_is_flagged_and_replayed_exactly(store: StoreSpec, server: Server, sns: Any, sqs: Any,
                                                     tmp_path: Path) -> None:
    n = N if store.kind == "sqlite" else N_PG
    topic = new_topic(sns, fifo=True, ContentBasedDeduplication="true",
                      ArchivePolicy=json.dumps({"MessageRetentionPeriod": "7"}))
    kept = [subscribe_queue(sns, sqs, topic, fifo=True, raw=True) for _ in range(2)]
    forgotten_url, forgotten_arn = new_queue(sqs, fifo=True)
    old = sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=forgotten_arn,
                        Attributes={"RawMessageDelivery": "true"}, ReturnSubscriptionArn=True)["SubscriptionArn"]
    before_gap = int(server.now() * 1000) - 1_000
    sns.unsubscribe(SubscriptionArn=old)  # the migration left this subscriber behind

    first = n // 10
    ids = publish_all(sns, topic, first, GROUPS, fifo=True)
    time.sleep(0.01)
    mid = int(server.now() * 1000)
    time.sleep(0.01)
    ids.update(publish_all(sns, topic, n - first, GROUPS, fifo=True, first=first))

    report = admin(server, "/_postroom/audit", topic=topic)
    removed = [f for f in report["findings"] if f["code"] == "SUBSCRIBER-REMOVED"]
    assert [(f["subject"], f["count"]) for f in removed] == [(old, n)], report["findings"]
    assert forgotten_arn in removed[0]["message"]
    assert report["topics"][topic]["published"] == n
    assert sorted(r["delivered"] for arn, r in report["routes"].items() if arn != old) == [n, n]
    flagged = cli(server, "audit", "--topic", topic)
    assert flagged.returncode == 1 and "SUBSCRIBER-REMOVED" in flagged.stdout, flagged.stdout + flagged.stderr

    again = sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=forgotten_arn, ReturnSubscriptionArn=True,
                          Attributes={"RawMessageDelivery": "true", "ReplayPolicy": replay_policy(before_gap)})[
        "SubscriptionArn"]
    assert wait_replay_done(sns, again, timeout=600) == "Completed"
    db = tmp_path / "app.db"
    applied, replayed = consume_with_inbox(server, forgotten_url, db)
    assert_exactly_in_order([{"Body": b} for b in replayed], n, GROUPS)
    assert applied == n
    for url, _sub in kept:  # the live subscribers got everything, once
        counts = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
        assert (counts["ApproximateNumberOfMessages"], counts["ApproximateNumberOfMessagesNotVisible"]) == (
            str(n), "0")

    # The same window again, within the queue's 5-minute deduplication window: nothing added.
    sns.set_subscription_attributes(SubscriptionArn=again, AttributeName="ReplayPolicy",
                                    AttributeValue=replay_policy(before_gap))
    assert wait_replay_done(sns, again, timeout=600) == "Completed"
    assert drain(sqs, forgotten_url) == []

    # Past the deduplication window the queue takes them again (here the first tenth of the
    # window, to keep the test short); the application's Inbox applies none a second time.
    server.advance(400)
    sns.set_subscription_attributes(SubscriptionArn=again, AttributeName="ReplayPolicy",
                                    AttributeValue=replay_policy(before_gap, mid))
    assert wait_replay_done(sns, again, timeout=600) == "Completed"
    applied_again, redelivered = consume_with_inbox(server, forgotten_url, db)
    assert sorted(redelivered) == sorted(b for b in ids if int(b.split(":")[1]) < first)
    assert applied_again == 0, f"the Inbox applied {applied_again} messages a second time"
    with sqlite3.connect(db) as conn:
        rows = dict(conn.execute("SELECT grp, n FROM app_state").fetchall())
    assert sum(rows.values()) == n and len(rows) == GROUPS
    assert set(ids.values()) == {m["message_id"] for m in json.loads(cli(
        server, "archive", "ls", "--topic", topic, "--limit", str(n + 10), "--format", "json").stdout)}


def consume_with_inbox(server: Server, url: str, db: Path) -> tuple[int, list[str]]:
    """Consume the queue with postroom.consumer and an Inbox in SQLite: each message's effect
    (a count per group) and its Inbox keys commit together. Returns the effects applied and
    the bodies handled, in the order handled (per group, the consumer's order)."""
    conn = sqlite3.connect(db, check_same_thread=False, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=OFF")  # the test kills nothing: the app's commits need not wait for the disk
    conn.execute("CREATE TABLE IF NOT EXISTS app_state (grp TEXT PRIMARY KEY, n INTEGER NOT NULL)")
    inbox = Inbox(conn, scope="incident")
    lock = threading.Lock()
    seen: list[str] = []

    def apply(message: Message, db_conn: Any) -> None:
        db_conn.execute("INSERT INTO app_state (grp, n) VALUES (?, 1) ON CONFLICT (grp) DO UPDATE SET n = n + 1",
                        (message.body.split(":")[0],))

    def handle(message: Message) -> None:
        with lock:
            if message.replayed:
                inbox.process(message, apply)
            seen.append(message.body)

    before = inbox.stats["applied"]
    consumer = Consumer(url, handle, endpoint_url=server.endpoint, region="us-east-1", concurrency=4, wait_time=1)
    consumer.run(idle_timeout=3, install_signal_handlers=False)
    conn.close()
    return int(inbox.stats["applied"] - before), seen


def test_a_standard_topic_without_archive_policy_is_replayable(server: Server, sns: Any, sqs: Any) -> None:
    """The server's default archive: a standard topic nobody configured still keeps what it
    received, invisibly to its AWS attributes, and a late subscription replays the gap."""
    topic = new_topic(sns)
    assert "ArchivePolicy" not in sns.get_topic_attributes(TopicArn=topic)["Attributes"]
    live_url, _ = subscribe_queue(sns, sqs, topic, raw=True)
    late_url, late_arn = new_queue(sqs)
    start = int(server.now() * 1000) - 1_000
    n = 2_000
    ids = publish_all(sns, topic, n, 20, fifo=False)
    sub = sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=late_arn, ReturnSubscriptionArn=True,
                        Attributes={"RawMessageDelivery": "true", "ReplayPolicy": replay_policy(start)})[
        "SubscriptionArn"]
    assert wait_replay_done(sns, sub) == "Completed"
    got = drain(sqs, late_url)
    assert sorted(m["Body"] for m in got) == sorted(ids), "every message of the gap, once"
    assert len(drain(sqs, live_url)) == n


def test_a_topic_with_no_subscription_at_all_keeps_what_reached_no_one(server: Server, sns: Any, sqs: Any) -> None:
    """Unrouted capture: published, accepted with a 200, delivered to nobody — counted, kept,
    listed, and replayed on its own once a subscriber exists."""
    topic = new_topic(sns, fifo=True, ContentBasedDeduplication="true")
    start = int(server.now() * 1000) - 1_000
    n = 1_000
    ids = publish_all(sns, topic, n, 10, fifo=True)
    counts = admin(server, "/_postroom/accounting")["topics"][topic]
    assert counts["unrouted"] == {"no-subscription": n, "filtered": 0, "failed": 0}
    report = admin(server, "/_postroom/audit", topic=topic)
    assert [(f["code"], f["count"]) for f in report["findings"]] == [("NO-SUBSCRIPTION", n)]
    listed = json.loads(cli(server, "archive", "ls", "--topic", topic, "--unrouted", "--limit", "5000",
                            "--format", "json").stdout)
    assert {m["message_id"] for m in listed} == set(ids.values())
    assert {m["unrouted"] for m in listed} == {"no-subscription"}
    url, sub = subscribe_queue(sns, sqs, topic, fifo=True, raw=True)
    time.sleep(0.1)
    done = cli(server, "replay", "--topic", topic, "--to", sub, "--since", str(start), "--unrouted")
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"{n} delivered" in done.stdout
    assert_exactly_in_order(drain(sqs, url), n, 10)
