"""Amazon SNS operations of the SQLite store, run on the writer thread.

A publish is one transaction: the topic's deduplication check and sequence number (FIFO),
every delivery into a postroom queue, every HTTP delivery into the outbox, and the
accounting rows. Publish answers only after that commit, so an acknowledged publish
loses no delivery on kill -9.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from typing import Any

from postroom.core.arns import format_sequence_number
from postroom.core.model import Queue
from postroom.core.sns_model import PublishPlan, PublishResult, Subscription, Topic
from postroom.store.codec import dump_map, load_map
from postroom.store.sqlite import messages
from postroom.store.sqlite.queries import Q

QueueLookup = Callable[[str, str], Queue | None]


def topic_row(row: tuple[Any, ...]) -> Topic:
    return Topic(row[0], row[1], row[2], row[3], load_map(row[4]), load_map(row[5]), row[6])


def subscription_row(row: tuple[Any, ...]) -> Subscription:
    return Subscription(row[0], row[1], row[2], row[3], row[4], load_map(row[5]), bool(row[6]), row[7])


def publish(conn: sqlite3.Connection, topic: Topic, plan_for: Callable[[str | None], PublishPlan],
            message_id: str, dedup_id: str | None, now_ms: int, window_ms: int, dedup_window_ms: int,
            queue: QueueLookup, subscribed: bool) -> PublishResult:
    seq: int | None = None
    if topic.fifo:
        seen = conn.execute(Q["find_topic_dedup"], (topic.topic_id, dedup_id or "")).fetchone()
        if seen is not None and seen[2] > now_ms:
            return PublishResult(seen[0], format_sequence_number(seen[1]), duplicate=True)
        seq = conn.execute(Q["take_topic_sequence"], (topic.topic_id,)).fetchone()[0]
        conn.execute(Q["upsert_topic_dedup"], (topic.topic_id, dedup_id or "", message_id, seq, now_ms + window_ms))
    seq_text = format_sequence_number(seq) if seq is not None else None
    plan = plan_for(seq_text)
    counts: list[tuple[str, str | None, int, int, int, int, int]] = [
        (topic.arn, None, 1, 0 if subscribed else 1, 0, 0, 0)]
    for d in plan.queue_deliveries:
        target = queue(d.account, d.queue_name)
        if target is not None:
            messages.send(conn, target, [d.message], now_ms, dedup_window_ms)
            counts.append((topic.arn, d.sub_arn, 0, 0, 1, 0, 0))
            continue
        # The subscribed queue is gone: the delivery failed; it goes to the subscription's DLQ if any.
        counts.append((topic.arn, d.sub_arn, 0, 0, 0, 0, 1))
        dlq = queue(*d.dlq) if d.dlq is not None else None
        if dlq is not None:
            messages.send(conn, dlq, [d.message], now_ms, dedup_window_ms)
    for h in plan.http_deliveries:
        conn.execute(Q["insert_outbox"], (h.sub_arn, h.endpoint, h.body, json.dumps(h.headers), now_ms, now_ms))
    counts += [(topic.arn, arn, 0, 0, 0, 1, 0) for arn in plan.filtered_out]
    counts += [(topic.arn, arn, 0, 0, 0, 0, 1) for arn in plan.failed]
    conn.executemany(Q["insert_counts"], counts)
    return PublishResult(plan.message_id, seq_text)


def save_subscription(conn: sqlite3.Connection, topic: Topic, sub: Subscription, now_ms: int) -> Subscription:
    row = conn.execute(Q["subscription_by_endpoint"], (topic.topic_id, sub.protocol, sub.endpoint)).fetchone()
    if row is not None:
        return subscription_row(row)
    conn.execute(Q["insert_subscription"], (sub.sub_id, topic.topic_id, sub.topic_arn, sub.owner, sub.protocol,
                                            sub.endpoint, dump_map(sub.attributes), int(sub.confirmed), sub.token,
                                            now_ms))
    return sub
