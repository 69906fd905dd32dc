"""The SQLite store's Amazon SNS half (mixed into ``SqliteStore``).

Topics and subscriptions are cached in memory like queues: this process is the file's
only writer, and a cache entry changes only after its change committed.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from typing import Any

from postroom.core.model import Queue
from postroom.core.sns_model import (
    OutboxItem,
    PublishPlan,
    PublishResult,
    Subscription,
    SubscriptionCounts,
    Topic,
    TopicCounts,
)
from postroom.store.codec import dump_map
from postroom.store.sqlite import sns
from postroom.store.sqlite.queries import Q
from postroom.store.sqlite.writer import Writer


class SqliteSnsStore:
    _writer: Writer
    _by_name: dict[tuple[str, str], Queue]

    def _load_sns(self, conn: sqlite3.Connection) -> None:
        self._topics: dict[tuple[str, str], Topic] = {}
        self._subs: dict[str, Subscription] = {}
        for row in conn.execute(Q["all_topics"]).fetchall():
            t = sns.topic_row(row)
            self._topics[(t.account, t.name)] = t
        for row in conn.execute(Q["all_subscriptions"]).fetchall():
            s = sns.subscription_row(row)
            self._subs[s.sub_id] = s

    # ---- topics -------------------------------------------------------------
    async def create_topic(self, account: str, region: str, name: str, attributes: dict[str, str],
                           tags: dict[str, str], now_ms: int) -> tuple[Topic, bool]:
        existing = self._topics.get((account, name))
        if existing is not None:
            return existing, False

        def op(conn: sqlite3.Connection) -> Topic:
            tid = conn.execute(Q["insert_topic"], (account, region, name, dump_map(attributes), dump_map(tags),
                                                   now_ms)).fetchone()[0]
            return Topic(tid, account, region, name, dict(attributes), dict(tags), now_ms)

        topic = await self._writer.call(op)
        self._topics[(account, name)] = topic
        return topic, True

    async def get_topic(self, account: str, name: str) -> Topic | None:
        return self._topics.get((account, name))

    async def list_topics(self, account: str) -> list[Topic]:
        return [t for (a, _n), t in sorted(self._topics.items()) if a == account]

    async def update_topic(self, topic: Topic, attributes: dict[str, str] | None,
                           tags: dict[str, str] | None) -> Topic:
        updated = Topic(topic.topic_id, topic.account, topic.region, topic.name,
                        dict(attributes) if attributes is not None else topic.attributes,
                        dict(tags) if tags is not None else topic.tags, topic.created_ms)
        await self._writer.call(lambda conn: conn.execute(
            Q["update_topic"], (dump_map(updated.attributes), dump_map(updated.tags), topic.topic_id)))
        self._topics[(topic.account, topic.name)] = updated
        return updated

    async def delete_topic(self, topic: Topic) -> None:
        def op(conn: sqlite3.Connection) -> None:
            conn.execute(Q["delete_topic"], (topic.topic_id,))
            conn.execute(Q["delete_topic_subscriptions"], (topic.topic_id,))
            conn.execute(Q["delete_topic_dedup"], (topic.topic_id,))

        await self._writer.call(op)
        self._topics.pop((topic.account, topic.name), None)
        for sub_id in [s.sub_id for s in self._subs.values() if s.topic_arn == topic.arn]:
            del self._subs[sub_id]

    # ---- subscriptions --------------------------------------------------------
    async def subscribe(self, topic: Topic, sub: Subscription, now_ms: int) -> Subscription:
        saved = await self._writer.call(lambda conn: sns.save_subscription(conn, topic, sub, now_ms))
        self._subs[saved.sub_id] = saved
        return saved

    async def get_subscription(self, sub_arn: str) -> Subscription | None:
        found = self._subs.get(sub_arn.rsplit(":", 1)[-1])
        return found if found is not None and found.arn == sub_arn else None

    async def subscriptions_of(self, topic_arn: str) -> list[Subscription]:
        return [s for s in self._subs.values() if s.topic_arn == topic_arn]

    async def list_subscriptions(self, account: str) -> list[Subscription]:
        return sorted((s for s in self._subs.values() if s.topic_arn.split(":")[4] == account),
                      key=lambda s: s.arn)

    async def update_subscription(self, sub: Subscription) -> Subscription:
        await self._writer.call(lambda conn: conn.execute(
            Q["update_subscription"], (dump_map(sub.attributes), int(sub.confirmed), sub.token, sub.sub_id)))
        self._subs[sub.sub_id] = sub
        return sub

    async def unsubscribe(self, sub: Subscription) -> None:
        await self._writer.call(lambda conn: conn.execute(Q["delete_subscription"], (sub.sub_id,)))
        self._subs.pop(sub.sub_id, None)

    # ---- publish ----------------------------------------------------------------
    async def publish(self, topic: Topic, plan_for: Callable[[str | None], PublishPlan], message_id: str,
                      dedup_id: str | None, now_ms: int, window_ms: int) -> PublishResult:
        subscribed = any(s.topic_arn == topic.arn for s in self._subs.values())

        def lookup(account: str, name: str) -> Queue | None:
            return self._by_name.get((account, name))

        return await self._writer.call(lambda conn: sns.publish(
            conn, topic, plan_for, message_id, dedup_id, now_ms, window_ms, window_ms, lookup, subscribed))

    async def sns_counts(self) -> tuple[dict[str, TopicCounts], dict[str, SubscriptionCounts]]:
        def op(conn: sqlite3.Connection) -> tuple[dict[str, TopicCounts], dict[str, SubscriptionCounts]]:
            topics = {r[0]: TopicCounts(r[1], r[2]) for r in conn.execute(Q["topic_counts"]).fetchall()}
            subs = {r[0]: SubscriptionCounts(r[1], r[2], r[3])
                    for r in conn.execute(Q["subscription_counts"]).fetchall()}
            return topics, subs

        return await self._writer.call(op)

    # ---- HTTP outbox ----------------------------------------------------------------
    async def claim_outbox(self, now_ms: int, limit: int, lease_ms: int) -> list[OutboxItem]:
        """Due deliveries, leased for ``lease_ms`` so a crash mid-delivery retries them."""
        def op(conn: sqlite3.Connection) -> list[OutboxItem]:
            rows: list[tuple[Any, ...]] = conn.execute(Q["due_outbox"], (now_ms, limit)).fetchall()
            conn.executemany(Q["claim_outbox"], [(now_ms + lease_ms, r[0]) for r in rows])
            return [OutboxItem(r[0], r[1], r[2], r[3], json.loads(r[4]), r[5]) for r in rows]

        return await self._writer.call(op)

    async def outbox_done(self, item_id: int) -> None:
        await self._writer.call(lambda conn: conn.execute(Q["delete_outbox"], (item_id,)))

    async def outbox_retry(self, item_id: int, next_attempt_ms: int) -> None:
        await self._writer.call(lambda conn: conn.execute(Q["reschedule_outbox"], (next_attempt_ms, item_id)))

    async def record_delivery(self, topic_arn: str, sub_arn: str, delivered: int, failed: int) -> None:
        await self._writer.call(lambda conn: conn.execute(
            Q["insert_counts"], (topic_arn, sub_arn, 0, 0, delivered, 0, failed)))

    async def enqueue_http(self, sub_arn: str, endpoint: str, body: str, headers: dict[str, str],
                           now_ms: int) -> None:
        await self._writer.call(lambda conn: conn.execute(
            Q["insert_outbox"], (sub_arn, endpoint, body, json.dumps(headers), now_ms, now_ms)))
