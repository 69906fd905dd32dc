"""The SQLite store's Amazon SNS half (mixed into ``SqliteStore``).

Topics and each topic's subscription set are cached in memory like queues: this process
is the file's only writer, every change runs on the writer thread, and a cache entry is
replaced by a commit hook with what the committed transaction read back — so the caches
are exact. A publish still checks the subscription version inside its transaction, the
same way the PostgreSQL store must.
"""

from __future__ import annotations

import json
import sqlite3
from typing import Any

from postroom.core.model import Queue, ResourceKey
from postroom.core.sns import topic_changes
from postroom.core.sns.model import (
    OutboxItem,
    OutboxOutcome,
    PublishResult,
    PublishWriteSet,
    Subscription,
    SubscriptionCounts,
    SubscriptionMutation,
    SubscriptionSet,
    Topic,
    TopicCounts,
    TopicMutation,
)
from postroom.core.sns.replay import Replay
from postroom.errors import NotFound
from postroom.store.codec import dump_map
from postroom.store.rows import subscription_record, topic_record
from postroom.store.sqlite import sns
from postroom.store.sqlite.archive_store import insert_replay
from postroom.store.sqlite.queries import Q
from postroom.store.sqlite.reader import Reader
from postroom.store.sqlite.writer import Writer, after_commit

EMPTY = SubscriptionSet(0, ())


class SqliteSnsStore:
    _writer: Writer
    _reader: Reader
    _queues: dict[ResourceKey, Queue]

    def _load_sns(self, conn: sqlite3.Connection) -> None:
        self._topics: dict[ResourceKey, Topic] = {}
        self._subsets: dict[str, SubscriptionSet] = {}
        versions: dict[int, tuple[str, int]] = {}
        for row in conn.execute(Q["all_topics"]).fetchall():
            t = topic_record(row)
            self._topics[t.key] = t
            versions[t.topic_id] = (t.arn, row["subs_version"])
        grouped: dict[int, list[Subscription]] = {}
        for row in conn.execute(Q["all_subscriptions"]).fetchall():
            grouped.setdefault(row["topic_id"], []).append(subscription_record(row))
        for topic_id, (arn, version) in versions.items():
            self._subsets[arn] = SubscriptionSet(version, tuple(grouped.get(topic_id, ())))

    # ---- commit hooks -----------------------------------------------------------
    def _cache_topic(self, topic: Topic, gone: bool = False) -> None:
        topics = dict(self._topics)
        subsets = dict(self._subsets)
        if gone:
            topics.pop(topic.key, None)
            subsets.pop(topic.arn, None)
        else:
            topics[topic.key] = topic
            subsets.setdefault(topic.arn, EMPTY)
        self._topics, self._subsets = topics, subsets

    def _cache_subscriptions(self, topic_arn: str, subset: SubscriptionSet) -> None:
        self._subsets = {**self._subsets, topic_arn: subset}

    def _refresh_subscriptions(self, conn: sqlite3.Connection, topic_id: int, topic_arn: str) -> None:
        """Inside a writer op that changed the topic's subscriptions: read the set back and
        put it in the cache at commit."""
        subset = sns.subscription_set(conn, topic_id)
        after_commit(lambda: self._cache_subscriptions(topic_arn, subset))

    def _topic_row(self, conn: sqlite3.Connection, key: ResourceKey) -> Topic:
        row = conn.execute(Q["topic_by_key"], (key.account, key.region, key.name)).fetchone()
        if row is None:
            raise NotFound("Topic does not exist")
        return topic_record(row)

    # ---- topics -------------------------------------------------------------
    async def create_topic(self, key: ResourceKey, attributes: dict[str, str], tags: dict[str, str],
                           now_ms: int) -> tuple[Topic, bool]:
        def op(conn: sqlite3.Connection) -> tuple[Topic, bool]:
            row = conn.execute(Q["topic_by_key"], (key.account, key.region, key.name)).fetchone()
            if row is not None:
                return topic_record(row), False
            tid = conn.execute(Q["insert_topic"], (key.account, key.region, key.name, dump_map(attributes),
                                                   dump_map(tags), now_ms)).fetchone()[0]
            topic = Topic(tid, key.account, key.region, key.name, dict(attributes), dict(tags), now_ms)
            after_commit(lambda: self._cache_topic(topic))
            return topic, True

        return await self._writer.call(op)

    async def get_topic(self, key: ResourceKey) -> Topic | None:
        return self._topics.get(key)

    async def list_topics(self, account: str, region: str) -> list[Topic]:
        return [t for k, t in sorted(self._topics.items()) if k.account == account and k.region == region]

    async def update_topic(self, key: ResourceKey, change: TopicMutation) -> Topic:
        def op(conn: sqlite3.Connection) -> Topic:
            current = self._topic_row(conn, key)
            updated = topic_changes.apply(current, change(current))
            conn.execute(Q["update_topic"], (dump_map(updated.attributes), dump_map(updated.tags), updated.topic_id))
            after_commit(lambda: self._cache_topic(updated))
            return updated

        return await self._writer.call(op)

    async def delete_topic(self, key: ResourceKey) -> None:
        def op(conn: sqlite3.Connection) -> None:
            row = conn.execute(Q["topic_by_key"], (key.account, key.region, key.name)).fetchone()
            if row is None:
                return
            topic = topic_record(row)
            conn.execute(Q["delete_topic"], (topic.topic_id,))
            conn.execute(Q["delete_topic_subscriptions"], (topic.topic_id,))
            conn.execute(Q["delete_topic_dedup"], (topic.topic_id,))
            after_commit(lambda: self._cache_topic(topic, gone=True))

        await self._writer.call(op)

    # ---- subscriptions --------------------------------------------------------
    async def subscribe(self, topic: Topic, sub: Subscription, now_ms: int,
                        replay: Replay | None = None) -> Subscription:
        def op(conn: sqlite3.Connection) -> Subscription:
            saved = sns.save_subscription(conn, topic.topic_id, sub, now_ms)
            if saved is sub:
                conn.execute(Q["log_subscription"], (topic.arn, sub.arn, sub.protocol, sub.endpoint, "subscribed",
                                                     now_ms))
                if replay is not None:
                    insert_replay(conn, topic.topic_id, replay)
                self._refresh_subscriptions(conn, topic.topic_id, topic.arn)
            return saved

        return await self._writer.call(op)

    async def get_subscription(self, sub_arn: str) -> Subscription | None:
        subset = self._subsets.get(sub_arn.rsplit(":", 1)[0])
        if subset is None:
            return None
        return next((s for s in subset.subscriptions if s.arn == sub_arn), None)

    async def subscriptions_of(self, topic: Topic, *, fresh: bool = False) -> SubscriptionSet:
        return self._subsets.get(topic.arn, EMPTY)

    async def list_subscriptions(self, account: str, region: str) -> list[Subscription]:
        subs = [s for arn, subset in self._subsets.items() if arn.split(":")[3:5] == [region, account]
                for s in subset.subscriptions]
        return sorted(subs, key=lambda s: s.arn)

    def _sub_row(self, conn: sqlite3.Connection, sub_arn: str) -> tuple[Subscription, int]:
        row = conn.execute(Q["subscription_by_id"], (sub_arn.rsplit(":", 1)[-1],)).fetchone()
        if row is None or subscription_record(row).arn != sub_arn:
            raise NotFound("Subscription does not exist")
        return subscription_record(row), row["topic_id"]

    async def update_subscription(self, sub_arn: str, change: SubscriptionMutation,
                                  replay: Replay | None = None) -> Subscription:
        def op(conn: sqlite3.Connection) -> Subscription:
            current, topic_id = self._sub_row(conn, sub_arn)
            updated = change(current)
            conn.execute(Q["update_subscription"], (dump_map(updated.attributes), int(updated.confirmed),
                                                    updated.token, updated.sub_id))
            conn.execute(Q["bump_subscriptions"], (topic_id,))
            if replay is not None:
                insert_replay(conn, topic_id, replay)
            self._refresh_subscriptions(conn, topic_id, current.topic_arn)
            return updated

        return await self._writer.call(op)

    async def confirm_subscription(self, topic: Topic, token: str) -> Subscription | None:
        def op(conn: sqlite3.Connection) -> Subscription | None:
            row = conn.execute(Q["subscription_by_token"], (topic.topic_id, token)).fetchone()
            if row is None:
                return None
            sub = subscription_record(row)
            if sub.confirmed:
                return sub
            confirmed = topic_changes.confirm(sub)
            conn.execute(Q["update_subscription"], (dump_map(confirmed.attributes), 1, confirmed.token,
                                                    confirmed.sub_id))
            conn.execute(Q["bump_subscriptions"], (topic.topic_id,))
            self._refresh_subscriptions(conn, topic.topic_id, topic.arn)
            return confirmed

        return await self._writer.call(op)

    async def unsubscribe(self, sub_arn: str, now_ms: int) -> bool:
        def op(conn: sqlite3.Connection) -> bool:
            try:
                current, topic_id = self._sub_row(conn, sub_arn)
            except NotFound:
                return False
            conn.execute(Q["delete_subscription"], (current.sub_id,))
            conn.execute(Q["bump_subscriptions"], (topic_id,))
            conn.execute(Q["log_subscription"], (current.topic_arn, current.arn, current.protocol, current.endpoint,
                                                 "unsubscribed", now_ms))
            self._refresh_subscriptions(conn, topic_id, current.topic_arn)
            return True

        return await self._writer.call(op)

    # ---- publish ----------------------------------------------------------------
    async def publish(self, write_set: PublishWriteSet, now_ms: int, window_ms: int) -> list[PublishResult]:
        return await self._writer.call(lambda conn: sns.publish(conn, write_set, now_ms, window_ms,
                                                                self._queues.get))

    async def sns_counts(self) -> tuple[dict[str, TopicCounts], dict[str, SubscriptionCounts]]:
        def op(conn: sqlite3.Connection) -> tuple[dict[str, TopicCounts], dict[str, SubscriptionCounts]]:
            topics = {r[0]: TopicCounts(r[1], r[2], r[3], r[4]) for r in conn.execute(Q["topic_counts"]).fetchall()}
            subs = {r[0]: SubscriptionCounts(r[1], r[2], r[3])
                    for r in conn.execute(Q["subscription_counts"]).fetchall()}
            return topics, subs

        return await self._reader.call(op)

    # ---- HTTP outbox ----------------------------------------------------------------
    async def claim_outbox(self, now_ms: int, limit: int, lease_ms: int) -> list[OutboxItem]:
        def op(conn: sqlite3.Connection) -> list[OutboxItem]:
            rows: list[Any] = conn.execute(Q["due_outbox"], (now_ms, limit)).fetchall()
            conn.executemany(Q["claim_outbox"], [(now_ms + lease_ms, r["id"]) for r in rows])
            return [OutboxItem(r["id"], r["sub_arn"], r["endpoint"], r["body"], json.loads(r["headers"]),
                               r["attempts"]) for r in rows]

        return await self._writer.call(op)

    async def outbox_retry(self, item_id: int, next_attempt_ms: int) -> None:
        await self._writer.call(lambda conn: conn.execute(Q["reschedule_outbox"], (next_attempt_ms, item_id)))

    async def finish_outbox(self, outcome: OutboxOutcome, now_ms: int) -> None:
        await self._writer.call(lambda conn: sns.finish_outbox(conn, outcome, now_ms, self._queues.get))

    async def enqueue_http(self, sub_arn: str, endpoint: str, body: str, headers: dict[str, str],
                           now_ms: int) -> None:
        await self._writer.call(lambda conn: conn.execute(
            Q["insert_outbox"], (sub_arn, endpoint, body, json.dumps(headers), now_ms, now_ms)))
