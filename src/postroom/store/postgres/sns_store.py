"""The PostgreSQL store's Amazon SNS half (mixed into ``PostgresStore``).

Topics and each topic's subscription set are cached per node (``cache.py``), dropped on
every node when any node changes them (``t:<topic arn>`` / ``s:<topic arn>``). Every
change to a topic's subscriptions moves ``topics.subs_version`` in its transaction; a
publish is one transaction that first checks that version against the one its write set
was planned from — so a publish on node B can never miss a subscription that node A had
confirmed before the publish began, however late A's notice reaches B.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import asyncpg

from postroom.core.arns import format_sequence_number
from postroom.core.model import NewMessage, Queue, ResourceKey
from postroom.core.sns import topic_changes
from postroom.core.sns.model import (
    OutboxItem,
    OutboxOutcome,
    PublishResult,
    PublishWriteSet,
    StaleSubscriptions,
    Subscription,
    SubscriptionCounts,
    SubscriptionMutation,
    SubscriptionSet,
    Topic,
    TopicCounts,
    TopicMutation,
    topic_sequence,
)
from postroom.core.sns.publish_effects import Effects, add_entry, archive_params, delivery_count
from postroom.core.sns.replay import Replay
from postroom.errors import NotFound, QueueDoesNotExist
from postroom.store.codec import dump_map
from postroom.store.postgres import messages
from postroom.store.postgres.archive_store import insert_replay
from postroom.store.postgres.cache import CoherentCache, Epoch
from postroom.store.postgres.platform_store import write_notifications
from postroom.store.postgres.queries import Q
from postroom.store.rows import subscription_record, topic_record

T = TypeVar("T")


def topic_arn_key(arn: str) -> ResourceKey:
    parts = arn.split(":")
    return ResourceKey(parts[4], parts[3], parts[5])


class PostgresSnsStore:
    _tx: Callable[..., Awaitable[Any]]
    _announce: Callable[[asyncpg.Connection, str], Awaitable[None]]
    get_queue: Callable[..., Awaitable[Queue | None]]

    def _init_sns(self, epoch: Epoch) -> None:
        self._topics: CoherentCache[ResourceKey, Topic] = CoherentCache(epoch)
        self._subsets: CoherentCache[str, SubscriptionSet] = CoherentCache(epoch)

    def _on_sns_notice(self, kind: str, arn: str) -> None:
        if kind == "t":
            self._topics.drop(topic_arn_key(arn))
            self._subsets.drop(arn)
        elif kind == "s":
            self._subsets.drop(arn)

    def _forget_sns(self) -> None:
        self._topics.clear()
        self._subsets.clear()

    # ---- topics -------------------------------------------------------------
    async def create_topic(self, key: ResourceKey, attributes: dict[str, str], tags: dict[str, str],
                           now_ms: int) -> tuple[Topic, bool]:
        async def op(conn: asyncpg.Connection) -> tuple[Topic, bool]:
            tid = await conn.fetchval(Q["insert_topic"], key.account, key.region, key.name, dump_map(attributes),
                                      dump_map(tags), now_ms)
            if tid is None:
                return topic_record(await conn.fetchrow(Q["topic_by_key"], key.account, key.region, key.name)), False
            topic = Topic(tid, key.account, key.region, key.name, dict(attributes), dict(tags), now_ms)
            await self._announce(conn, f"t:{topic.arn}")
            return topic, True

        result: tuple[Topic, bool] = await self._tx(op)
        if result[1]:
            self._topics.drop(key)
        return result

    async def get_topic(self, key: ResourceKey) -> Topic | None:
        cached = self._topics.get(key)
        if cached is not None:
            return cached

        async def read() -> Topic | None:
            row = await self._tx(lambda c: c.fetchrow(Q["topic_by_key"], key.account, key.region, key.name),
                                 transaction=False)
            return topic_record(row) if row else None

        return await self._topics.fill(key, read)

    async def list_topics(self, account: str, region: str) -> list[Topic]:
        rows = await self._tx(lambda c: c.fetch(Q["topics_of"], account, region), transaction=False)
        return [topic_record(r) for r in rows]

    async def update_topic(self, key: ResourceKey, change: TopicMutation) -> Topic:
        async def op(conn: asyncpg.Connection) -> Topic:
            row = await conn.fetchrow(Q["lock_topic_by_key"], key.account, key.region, key.name)
            if row is None:
                raise NotFound("Topic does not exist")
            current = topic_record(row)
            updated = topic_changes.apply(current, change(current))
            await conn.execute(Q["update_topic"], updated.topic_id, dump_map(updated.attributes),
                               dump_map(updated.tags))
            await self._announce(conn, f"t:{updated.arn}")
            return updated

        updated: Topic = await self._tx(op)
        self._topics.drop(key)
        return updated

    async def delete_topic(self, key: ResourceKey) -> None:
        arn = key.arn("sns")

        async def op(conn: asyncpg.Connection) -> None:
            row = await conn.fetchrow(Q["topic_by_key"], key.account, key.region, key.name)
            if row is None:
                return
            await conn.execute(Q["delete_topic"], row["topic_id"])
            await self._announce(conn, f"t:{arn}")

        await self._tx(op)
        self._topics.drop(key)
        self._subsets.drop(arn)

    # ---- subscriptions --------------------------------------------------------
    async def _subscriptions_changed(self, conn: asyncpg.Connection, topic_id: int, topic_arn: str) -> None:
        await conn.execute(Q["bump_subscriptions"], topic_id)
        await self._announce(conn, f"s:{topic_arn}")

    async def subscribe(self, topic: Topic, sub: Subscription, now_ms: int,
                        replay: Replay | None = None) -> Subscription:
        async def op(conn: asyncpg.Connection) -> Subscription:
            if await conn.fetchval(Q["topic_version"], topic.topic_id) is None:
                raise NotFound("Topic does not exist")
            status = await conn.execute(Q["insert_subscription"], sub.sub_id, topic.topic_id, sub.topic_arn,
                                        sub.owner, sub.protocol, sub.endpoint, dump_map(sub.attributes),
                                        sub.confirmed, sub.token, now_ms)
            if status.endswith(" 1"):
                await self._subscriptions_changed(conn, topic.topic_id, topic.arn)
                await conn.execute(Q["log_subscription"], topic.arn, sub.arn, sub.protocol, sub.endpoint,
                                   "subscribed", now_ms)
                if replay is not None:
                    await insert_replay(conn, topic.topic_id, replay)
                return sub
            return subscription_record(await conn.fetchrow(Q["subscription_by_endpoint"], topic.topic_id,
                                                           sub.protocol, sub.endpoint))

        saved: Subscription = await self._tx(op)
        self._subsets.drop(topic.arn)
        return saved

    async def get_subscription(self, sub_arn: str) -> Subscription | None:
        row = await self._tx(lambda c: c.fetchrow(Q["subscription_by_id"], sub_arn.rsplit(":", 1)[-1]),
                             transaction=False)
        found = subscription_record(row) if row else None
        return found if found is not None and found.arn == sub_arn else None

    async def subscriptions_of(self, topic: Topic, *, fresh: bool = False) -> SubscriptionSet:
        if not fresh:
            cached = self._subsets.get(topic.arn)
            if cached is not None:
                return cached

        async def read() -> SubscriptionSet | None:
            rows = await self._tx(lambda c: c.fetch(Q["subscription_set"], topic.topic_id), transaction=False)
            if not rows:
                return None
            subs = tuple(subscription_record(r) for r in rows if r["sub_id"] is not None)
            return SubscriptionSet(rows[0]["subs_version"], subs)

        found = await self._subsets.fill(topic.arn, read)
        if found is None:
            raise NotFound("Topic does not exist")
        return found

    async def list_subscriptions(self, account: str, region: str) -> list[Subscription]:
        rows = await self._tx(lambda c: c.fetch(Q["subscriptions_in"], account, region), transaction=False)
        return sorted((subscription_record(r) for r in rows), key=lambda s: s.arn)

    async def update_subscription(self, sub_arn: str, change: SubscriptionMutation,
                                  replay: Replay | None = None) -> Subscription:
        async def op(conn: asyncpg.Connection) -> Subscription:
            row = await conn.fetchrow(Q["lock_subscription"], sub_arn.rsplit(":", 1)[-1])
            if row is None or subscription_record(row).arn != sub_arn:
                raise NotFound("Subscription does not exist")
            updated = change(subscription_record(row))
            await conn.execute(Q["update_subscription"], updated.sub_id, dump_map(updated.attributes),
                               updated.confirmed, updated.token)
            await self._subscriptions_changed(conn, row["topic_id"], updated.topic_arn)
            if replay is not None:
                await insert_replay(conn, row["topic_id"], replay)
            return updated

        updated: Subscription = await self._tx(op)
        self._subsets.drop(updated.topic_arn)
        return updated

    async def confirm_subscription(self, topic: Topic, token: str) -> Subscription | None:
        async def op(conn: asyncpg.Connection) -> Subscription | None:
            row = await conn.fetchrow(Q["subscription_by_token"], topic.topic_id, token)
            if row is None:
                return None
            sub = subscription_record(row)
            if sub.confirmed:
                return sub
            confirmed = topic_changes.confirm(sub)
            await conn.execute(Q["update_subscription"], confirmed.sub_id, dump_map(confirmed.attributes), True,
                               confirmed.token)
            await self._subscriptions_changed(conn, topic.topic_id, topic.arn)
            return confirmed

        result: Subscription | None = await self._tx(op)
        self._subsets.drop(topic.arn)
        return result

    async def unsubscribe(self, sub_arn: str, now_ms: int) -> bool:
        async def op(conn: asyncpg.Connection) -> str | None:
            row = await conn.fetchrow(Q["lock_subscription"], sub_arn.rsplit(":", 1)[-1])
            if row is None or subscription_record(row).arn != sub_arn:
                return None
            await conn.execute(Q["delete_subscription"], row["sub_id"])
            await self._subscriptions_changed(conn, row["topic_id"], row["topic_arn"])
            await conn.execute(Q["log_subscription"], row["topic_arn"], sub_arn, row["protocol"], row["endpoint"],
                               "unsubscribed", now_ms)
            return str(row["topic_arn"])

        topic_arn: str | None = await self._tx(op)
        if topic_arn is not None:
            self._subsets.drop(topic_arn)
        return topic_arn is not None

    # ---- publish --------------------------------------------------------------------
    async def publish(self, write_set: PublishWriteSet, now_ms: int, window_ms: int) -> list[PublishResult]:
        try:
            return await self._publish(write_set, now_ms, window_ms, fresh=False)
        except QueueDoesNotExist:
            # A cached queue was deleted (maybe re-created) on another node: the foreign key
            # refused the insert and nothing was written. Decide again from the database.
            return await self._publish(write_set, now_ms, window_ms, fresh=True)

    async def _publish(self, write_set: PublishWriteSet, now_ms: int, window_ms: int,
                       fresh: bool) -> list[PublishResult]:
        topic = write_set.topic
        targets: dict[ResourceKey, Queue | None] = {}
        for plan in write_set.entries:
            for d in plan.queue_deliveries:
                for key in (d.queue, d.dlq):
                    if key is not None and key not in targets:
                        targets[key] = await self.get_queue(key, fresh=fresh)

        async def op(conn: asyncpg.Connection) -> list[PublishResult]:
            if topic.fifo:
                state = await conn.fetchrow(Q["lock_topic"], topic.topic_id)
                version = state["subs_version"] if state is not None else None
            else:
                version = await conn.fetchval(Q["topic_version"], topic.topic_id)
            if version is None:
                raise NotFound("Topic does not exist")
            if version != write_set.subscriptions_version:
                raise StaleSubscriptions(topic.arn)
            results: list[PublishResult] = []
            effects = Effects()
            for plan in write_set.entries:
                seq: int | None = None
                seq_text: str | None = None
                if topic.fifo:
                    seen = await conn.fetchrow(Q["find_topic_dedup"], topic.topic_id, plan.dedup_id or "")
                    if seen is not None and seen["expires_ms"] > now_ms:
                        results.append(PublishResult(seen["message_id"], format_sequence_number(seen["seq"]),
                                                     duplicate=True))
                        continue
                    seq = topic_sequence(await conn.fetchval(Q["take_topic_sequence"], topic.topic_id))
                    await conn.execute(Q["upsert_topic_dedup"], topic.topic_id, plan.dedup_id or "", plan.message_id,
                                       seq, now_ms + window_ms)
                    seq_text = format_sequence_number(seq)
                add_entry(effects, topic.arn, plan, seq, seq_text, now_ms, lambda key: targets[key] is not None)
                results.append(PublishResult(plan.message_id, seq_text))
            standard: list[tuple[int, NewMessage, int]] = []
            for key, message in effects.inserts:
                target = targets[key]
                assert target is not None
                if target.fifo:
                    await messages.send(conn, target, [message], now_ms, window_ms)
                else:
                    standard.append((target.queue_id, message, now_ms))
            await messages.insert_standard(conn, standard)
            for h in effects.outbox:
                await conn.execute(Q["insert_outbox"], h.sub_arn, h.endpoint, h.body, json.dumps(h.headers), now_ms)
            effects.counts += await write_notifications(conn, effects.notifications, now_ms)
            await conn.executemany(Q["insert_counts"], effects.counts)
            if effects.archive:
                rows = [archive_params(topic.topic_id, topic.arn, a) for a in effects.archive]
                await conn.execute(Q["insert_archive"], *(list(col) for col in zip(*rows, strict=True)))
            return results

        result: list[PublishResult] = await self._tx(op)
        return result

    async def sns_counts(self) -> tuple[dict[str, TopicCounts], dict[str, SubscriptionCounts]]:
        async def op(conn: asyncpg.Connection) -> tuple[dict[str, TopicCounts], dict[str, SubscriptionCounts]]:
            topics = {r[0]: TopicCounts(int(r[1]), int(r[2]), int(r[3]), int(r[4]))
                      for r in await conn.fetch(Q["topic_counts"])}
            subs = {r[0]: SubscriptionCounts(int(r[1]), int(r[2]), int(r[3]))
                    for r in await conn.fetch(Q["subscription_counts"])}
            return topics, subs

        counts: tuple[dict[str, TopicCounts], dict[str, SubscriptionCounts]] = await self._tx(op, transaction=False)
        return counts

    # ---- HTTP outbox ----------------------------------------------------------------
    async def claim_outbox(self, now_ms: int, limit: int, lease_ms: int) -> list[OutboxItem]:
        rows = await self._tx(lambda c: c.fetch(Q["claim_outbox"], now_ms, now_ms + lease_ms, limit))
        return [OutboxItem(r["id"], r["sub_arn"], r["endpoint"], r["body"], json.loads(r["headers"]), r["attempts"])
                for r in rows]

    async def outbox_retry(self, item_id: int, next_attempt_ms: int) -> None:
        await self._tx(lambda c: c.execute(Q["reschedule_outbox"], item_id, next_attempt_ms), transaction=False)

    async def finish_outbox(self, outcome: OutboxOutcome, now_ms: int) -> None:
        dlq: Queue | None = None
        if outcome.dead_letter is not None:
            dlq = await self.get_queue(outcome.dead_letter[0])

        async def op(conn: asyncpg.Connection) -> None:
            await conn.execute(Q["delete_outbox"], outcome.item_id)
            if dlq is not None and outcome.dead_letter is not None:
                await messages.send(conn, dlq, [outcome.dead_letter[1]], now_ms, 300_000)
            if outcome.counted:
                await conn.execute(Q["insert_counts"], *delivery_count(outcome.topic_arn, outcome.sub_arn, now_ms,
                                                                       outcome.delivered))

        try:
            await self._tx(op)
        except QueueDoesNotExist:
            dlq = None  # the DLQ was deleted meanwhile: the delivery still ends, and is counted
            await self._tx(op)

    async def enqueue_http(self, sub_arn: str, endpoint: str, body: str, headers: dict[str, str],
                           now_ms: int) -> None:
        await self._tx(lambda c: c.execute(Q["insert_outbox"], sub_arn, endpoint, body, json.dumps(headers), now_ms),
                       transaction=False)
