"""Amazon SNS operations of the SQLite store, run on the writer thread.

A publish (one Publish, or every entry of a PublishBatch) is one transaction: the check
that the topic's subscription set is the one the write set was planned from, the topic's
deduplication check and sequence number (FIFO), every delivery into a postroom queue,
every HTTP delivery into the outbox, and the accounting rows. Publish answers only after
that commit, so an acknowledged publish loses no delivery on kill -9, and a client that
retries a failed batch finds none of its entries already applied.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable

from postroom.core.arns import format_sequence_number
from postroom.core.model import Queue, ResourceKey
from postroom.core.sns.model import (
    OutboxOutcome,
    PublishResult,
    PublishWriteSet,
    StaleSubscriptions,
    Subscription,
    SubscriptionSet,
    topic_sequence,
)
from postroom.core.sns.publish_effects import Effects, add_entry, archive_params, by_queue, delivery_count
from postroom.errors import NotFound
from postroom.store.codec import dump_map
from postroom.store.rows import subscription_record
from postroom.store.sqlite import messages
from postroom.store.sqlite.platform_store import write_notifications
from postroom.store.sqlite.queries import Q

QueueLookup = Callable[[ResourceKey], Queue | None]


def subscription_set(conn: sqlite3.Connection, topic_id: int) -> SubscriptionSet:
    """The topic's subscriptions as this transaction sees them, with their version."""
    version = conn.execute(Q["topic_versions"], (topic_id,)).fetchone()["subs_version"]
    subs = tuple(subscription_record(r) for r in conn.execute(Q["subscriptions_of_topic"], (topic_id,)))
    return SubscriptionSet(version, subs)


def live_queues(conn: sqlite3.Connection, lookup: QueueLookup) -> QueueLookup:
    """Queues by key, as they exist inside this transaction (cached per publish)."""
    seen: dict[ResourceKey, Queue | None] = {}

    def find(key: ResourceKey) -> Queue | None:
        if key not in seen:
            queue = lookup(key)
            seen[key] = queue if queue is not None and messages.alive(conn, queue.queue_id) else None
        return seen[key]

    return find


def publish(conn: sqlite3.Connection, write_set: PublishWriteSet, now_ms: int, window_ms: int,
            lookup: QueueLookup) -> list[PublishResult]:
    topic = write_set.topic
    state = conn.execute(Q["topic_versions"], (topic.topic_id,)).fetchone()
    if state is None:
        raise NotFound("Topic does not exist")
    if state["subs_version"] != write_set.subscriptions_version:
        raise StaleSubscriptions(topic.arn)
    queue = live_queues(conn, lookup)
    results: list[PublishResult] = []
    effects = Effects()
    for plan in write_set.entries:
        seq: int | None = None
        seq_text: str | None = None
        if topic.fifo:
            seen = conn.execute(Q["find_topic_dedup"], (topic.topic_id, plan.dedup_id or "")).fetchone()
            if seen is not None and seen["expires_ms"] > now_ms:
                results.append(PublishResult(seen["message_id"], format_sequence_number(seen["seq"]), duplicate=True))
                continue
            seq = topic_sequence(conn.execute(Q["take_topic_sequence"], (topic.topic_id,)).fetchone()[0])
            conn.execute(Q["upsert_topic_dedup"], (topic.topic_id, plan.dedup_id or "", plan.message_id, seq,
                                                   now_ms + window_ms))
            seq_text = format_sequence_number(seq)
        add_entry(effects, topic.arn, plan, seq if topic.fifo else None, seq_text, now_ms,
                  lambda key: queue(key) is not None)
        results.append(PublishResult(plan.message_id, seq_text))
    for key, batch in by_queue(effects.inserts).items():
        target = queue(key)
        assert target is not None
        messages.insert(conn, target, batch, now_ms, window_ms)
    for h in effects.outbox:
        conn.execute(Q["insert_outbox"], (h.sub_arn, h.endpoint, h.body, json.dumps(h.headers), now_ms, now_ms))
    effects.counts += write_notifications(conn, effects.notifications, now_ms)
    conn.executemany(Q["insert_counts"], effects.counts)
    if effects.archive:
        conn.executemany(Q["insert_archive"], [archive_params(topic.topic_id, topic.arn, a) for a in effects.archive])
    return results


def finish_outbox(conn: sqlite3.Connection, outcome: OutboxOutcome, now_ms: int, lookup: QueueLookup) -> None:
    conn.execute(Q["delete_outbox"], (outcome.item_id,))
    if outcome.dead_letter is not None:
        key, message = outcome.dead_letter
        dlq = live_queues(conn, lookup)(key)
        if dlq is not None:
            messages.insert(conn, dlq, [message], now_ms, 300_000)
    if outcome.counted:
        conn.execute(Q["insert_counts"], delivery_count(outcome.topic_arn, outcome.sub_arn, now_ms, outcome.delivered))


def save_subscription(conn: sqlite3.Connection, topic_id: int, sub: Subscription, now_ms: int) -> Subscription:
    """Subscribe: the existing subscription of the same (protocol, endpoint), or ``sub`` added."""
    if conn.execute(Q["topic_versions"], (topic_id,)).fetchone() is None:
        raise NotFound("Topic does not exist")
    row = conn.execute(Q["subscription_by_endpoint"], (topic_id, sub.protocol, sub.endpoint)).fetchone()
    if row is not None:
        return subscription_record(row)
    conn.execute(Q["insert_subscription"], (sub.sub_id, topic_id, sub.topic_arn, sub.owner, sub.protocol,
                                            sub.endpoint, dump_map(sub.attributes), int(sub.confirmed), sub.token,
                                            now_ms))
    conn.execute(Q["bump_subscriptions"], (topic_id,))
    return sub
