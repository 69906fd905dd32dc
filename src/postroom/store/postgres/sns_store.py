"""The PostgreSQL store's Amazon SNS half (mixed into ``PostgresStore``).

Topics and subscriptions are read from PostgreSQL (several nodes change them); a publish
is one transaction: the topic row lock (FIFO: dedup and sequence number), every queue
delivery, the HTTP outbox rows and the accounting rows.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar

import asyncpg

from postroom.core.arns import format_sequence_number
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
from postroom.errors import QueueDoesNotExist
from postroom.store.codec import dump_map, load_map
from postroom.store.postgres import messages
from postroom.store.postgres.queries import Q
from postroom.store.rows import queue_record

T = TypeVar("T")


def _topic(row: Sequence[Any]) -> Topic:
    return Topic(row[0], row[1], row[2], row[3], load_map(row[4]), load_map(row[5]), row[6])


def _sub(row: Sequence[Any]) -> Subscription:
    return Subscription(row[0], row[1], row[2], row[3], row[4], load_map(row[5]), bool(row[6]), row[7])


class PostgresSnsStore:
    """Subscriptions per topic are cached (a publish reads them every time) and dropped on
    every node when any node changes them (``s:<topic arn>`` on the notification channel)."""

    _tx: Callable[..., Awaitable[Any]]
    get_queue: Callable[[str, str], Awaitable[Queue | None]]
    _subs_by_topic: dict[str, list[Subscription]]
    _by_name: dict[tuple[str, str], Queue]

    async def _announce_subscriptions(self, conn: asyncpg.Connection, topic_arn: str) -> None:
        await conn.execute(Q["notify"], "postroom", f"s:{topic_arn}")
        self._subs_by_topic.pop(topic_arn, None)

    async def create_topic(self, account: str, region: str, name: str, attributes: dict[str, str],
                           tags: dict[str, str], now_ms: int) -> tuple[Topic, bool]:
        async def op(conn: asyncpg.Connection) -> tuple[Topic, bool]:
            tid = await conn.fetchval(Q["insert_topic"], account, region, name, dump_map(attributes),
                                      dump_map(tags), now_ms)
            if tid is None:
                return _topic(await conn.fetchrow(Q["topic_by_name"], account, name)), False
            return Topic(tid, account, region, name, dict(attributes), dict(tags), now_ms), True

        result: tuple[Topic, bool] = await self._tx(op)
        return result

    async def get_topic(self, account: str, name: str) -> Topic | None:
        row = await self._tx(lambda c: c.fetchrow(Q["topic_by_name"], account, name), transaction=False)
        return _topic(row) if row else None

    async def list_topics(self, account: str) -> list[Topic]:
        rows = await self._tx(lambda c: c.fetch(Q["topics_of"], account), transaction=False)
        return [_topic(r) for r in rows]

    async def update_topic(self, topic: Topic, attributes: dict[str, str] | None,
                           tags: dict[str, str] | None) -> Topic:
        updated = Topic(topic.topic_id, topic.account, topic.region, topic.name,
                        dict(attributes) if attributes is not None else topic.attributes,
                        dict(tags) if tags is not None else topic.tags, topic.created_ms)
        await self._tx(lambda c: c.execute(Q["update_topic"], topic.topic_id, dump_map(updated.attributes),
                                           dump_map(updated.tags)))
        return updated

    async def delete_topic(self, topic: Topic) -> None:
        async def op(conn: asyncpg.Connection) -> None:
            await conn.execute(Q["delete_topic"], topic.topic_id)
            await self._announce_subscriptions(conn, topic.arn)

        await self._tx(op)

    async def subscribe(self, topic: Topic, sub: Subscription, now_ms: int) -> Subscription:
        async def op(conn: asyncpg.Connection) -> Subscription:
            await conn.execute(Q["insert_subscription"], sub.sub_id, topic.topic_id, sub.topic_arn, sub.owner,
                               sub.protocol, sub.endpoint, dump_map(sub.attributes), sub.confirmed, sub.token,
                               now_ms)
            await self._announce_subscriptions(conn, topic.arn)
            return _sub(await conn.fetchrow(Q["subscription_by_endpoint"], topic.topic_id, sub.protocol,
                                            sub.endpoint))

        saved: Subscription = await self._tx(op)
        return saved

    async def get_subscription(self, sub_arn: str) -> Subscription | None:
        row = await self._tx(lambda c: c.fetchrow(Q["subscription_by_id"], sub_arn.rsplit(":", 1)[-1]),
                             transaction=False)
        found = _sub(row) if row else None
        return found if found is not None and found.arn == sub_arn else None

    async def subscriptions_of(self, topic_arn: str) -> list[Subscription]:
        cached = self._subs_by_topic.get(topic_arn)
        if cached is None:
            rows = await self._tx(lambda c: c.fetch(Q["subscriptions_of_topic"], topic_arn), transaction=False)
            cached = self._subs_by_topic[topic_arn] = [_sub(r) for r in rows]
        return list(cached)

    async def list_subscriptions(self, account: str) -> list[Subscription]:
        rows = await self._tx(lambda c: c.fetch(Q["subscriptions_of_owner"], account), transaction=False)
        return sorted((_sub(r) for r in rows), key=lambda s: s.arn)

    async def update_subscription(self, sub: Subscription) -> Subscription:
        async def op(conn: asyncpg.Connection) -> None:
            await conn.execute(Q["update_subscription"], sub.sub_id, dump_map(sub.attributes), sub.confirmed,
                               sub.token)
            await self._announce_subscriptions(conn, sub.topic_arn)

        await self._tx(op)
        return sub

    async def unsubscribe(self, sub: Subscription) -> None:
        async def op(conn: asyncpg.Connection) -> None:
            await conn.execute(Q["delete_subscription"], sub.sub_id)
            await self._announce_subscriptions(conn, sub.topic_arn)

        await self._tx(op)

    async def publish(self, topic: Topic, plan_for: Callable[[str | None], PublishPlan], message_id: str,
                      dedup_id: str | None, now_ms: int, window_ms: int) -> PublishResult:
        subscribed = bool(await self.subscriptions_of(topic.arn))
        plan_queues: dict[tuple[str, str], Queue | None] = {}

        async def queue_in(conn: asyncpg.Connection, account: str, name: str) -> Queue | None:
            key = (account, name)
            if key not in plan_queues and key in self._by_name:
                plan_queues[key] = self._by_name[key]
            if key not in plan_queues:
                row = await conn.fetchrow(Q["queue_by_name"], account, name)
                plan_queues[key] = queue_record(row) if row else None
            return plan_queues[key]

        async def op(conn: asyncpg.Connection) -> PublishResult:
            seq: int | None = None
            if topic.fifo:
                next_seq = await conn.fetchval(Q["lock_topic"], topic.topic_id)
                seen = await conn.fetchrow(Q["find_topic_dedup"], topic.topic_id, dedup_id or "")
                if seen is not None and seen[2] > now_ms:
                    return PublishResult(seen[0], format_sequence_number(seen[1]), duplicate=True)
                seq = next_seq
                await conn.execute(Q["set_topic_sequence"], topic.topic_id, next_seq + 1)
                await conn.execute(Q["upsert_topic_dedup"], topic.topic_id, dedup_id or "", message_id, seq,
                                   now_ms + window_ms)
            seq_text = format_sequence_number(seq) if seq is not None else None
            plan = plan_for(seq_text)
            counts: list[tuple[Any, ...]] = [(topic.arn, None, 1, 0 if subscribed else 1, 0, 0, 0)]
            for d in plan.queue_deliveries:
                target = await queue_in(conn, d.account, d.queue_name)
                if target is not None:
                    await messages.send(conn, target, [d.message], now_ms, window_ms)
                    counts.append((topic.arn, d.sub_arn, 0, 0, 1, 0, 0))
                    continue
                # The subscribed queue is gone: the delivery failed; to the subscription's DLQ if any.
                counts.append((topic.arn, d.sub_arn, 0, 0, 0, 0, 1))
                dlq = await queue_in(conn, *d.dlq) if d.dlq is not None else None
                if dlq is not None:
                    await messages.send(conn, dlq, [d.message], now_ms, window_ms)
            for h in plan.http_deliveries:
                await conn.execute(Q["insert_outbox"], h.sub_arn, h.endpoint, h.body, json.dumps(h.headers), now_ms)
            counts += [(topic.arn, arn, 0, 0, 0, 1, 0) for arn in plan.filtered_out]
            counts += [(topic.arn, arn, 0, 0, 0, 0, 1) for arn in plan.failed]
            await conn.executemany(Q["insert_counts"], counts)
            return PublishResult(plan.message_id, seq_text)

        try:
            result: PublishResult = await self._tx(op)
        except QueueDoesNotExist:
            # A cached queue was deleted on another node: decide again from the database.
            self._by_name.clear()
            plan_queues.clear()
            result = await self._tx(op)
        return result

    async def sns_counts(self) -> tuple[dict[str, TopicCounts], dict[str, SubscriptionCounts]]:
        async def op(conn: asyncpg.Connection) -> tuple[dict[str, TopicCounts], dict[str, SubscriptionCounts]]:
            topics = {r[0]: TopicCounts(int(r[1]), int(r[2])) for r in await conn.fetch(Q["topic_counts"])}
            subs = {r[0]: SubscriptionCounts(int(r[1]), int(r[2]), int(r[3]))
                    for r in await conn.fetch(Q["subscription_counts"])}
            return topics, subs

        counts: tuple[dict[str, TopicCounts], dict[str, SubscriptionCounts]] = await self._tx(op)
        return counts

    async def claim_outbox(self, now_ms: int, limit: int, lease_ms: int) -> list[OutboxItem]:
        rows = await self._tx(lambda c: c.fetch(Q["claim_outbox"], now_ms, now_ms + lease_ms, limit))
        return [OutboxItem(r[0], r[1], r[2], r[3], json.loads(r[4]), r[5]) for r in rows]

    async def outbox_done(self, item_id: int) -> None:
        await self._tx(lambda c: c.execute(Q["delete_outbox"], item_id), transaction=False)

    async def outbox_retry(self, item_id: int, next_attempt_ms: int) -> None:
        await self._tx(lambda c: c.execute(Q["reschedule_outbox"], item_id, next_attempt_ms), transaction=False)

    async def record_delivery(self, topic_arn: str, sub_arn: str, delivered: int, failed: int) -> None:
        await self._tx(lambda c: c.execute(Q["insert_counts"], topic_arn, sub_arn, 0, 0, delivered, 0, failed),
                       transaction=False)

    async def enqueue_http(self, sub_arn: str, endpoint: str, body: str, headers: dict[str, str],
                           now_ms: int) -> None:
        await self._tx(lambda c: c.execute(Q["insert_outbox"], sub_arn, endpoint, body, json.dumps(headers), now_ms),
                       transaction=False)
