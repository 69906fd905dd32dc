"""The PostgreSQL store's archive and replays (mixed into ``PostgresStore``).

Any node may pick up a replay: it is leased (``lease_until_ms``), and each batch writes
its deliveries and moves the cursor in one transaction that first checks the lease is
still this replay's and the replay still active — so a replay superseded on another node,
or taken over after a node died, never delivers a batch twice.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import asyncpg

from postroom.core.model import NewMessage, Queue, ResourceKey
from postroom.core.sns import archive
from postroom.core.sns.model import Subscription, Topic
from postroom.core.sns.replay import UNROUTED_ONLY, Replay, ReplayStep
from postroom.errors import QueueDoesNotExist
from postroom.store.postgres import messages
from postroom.store.postgres.platform_store import write_notifications
from postroom.store.postgres.queries import Q
from postroom.store.rows import (
    archived_message,
    queue_record,
    replay_params,
    replay_record,
    subscription_record,
    topic_record,
)


async def insert_replay(conn: asyncpg.Connection, topic_id: int, replay: Replay) -> None:
    """Record a replay, superseding the subscription's active one, in the caller's transaction."""
    if replay.sub_arn is not None:
        await conn.execute(Q["supersede_replays"], replay.sub_arn, replay.created_ms)
    await conn.execute(Q["insert_replay"], *replay_params(topic_id, replay))


class PostgresArchiveStore:
    _tx: Callable[..., Awaitable[Any]]
    get_queue: Callable[..., Awaitable[Queue | None]]
    get_topic: Callable[[ResourceKey], Awaitable[Topic | None]]

    async def archive_stats(self) -> list[archive.TopicArchiveStats]:
        rows = await self._tx(lambda c: c.fetch(Q["archive_stats"]), transaction=False)
        return [archive.TopicArchiveStats(r[0], int(r[1]), int(r[2]), r[3], int(r[4])) for r in rows]

    async def archive_start(self, topic: Topic) -> int | None:
        found: int | None = await self._tx(lambda c: c.fetchval(Q["archive_start"], topic.topic_id),
                                           transaction=False)
        return found

    async def archive_list(self, topic_arn: str | None, unrouted_only: bool, since_ms: int, until_ms: int,
                           limit: int) -> list[archive.ArchivedMessage]:
        rows = await self._tx(lambda c: c.fetch(Q["archive_list"], topic_arn or "", topic_arn or "", since_ms,
                                                until_ms, int(unrouted_only), limit), transaction=False)
        return [archived_message(r) for r in rows]

    async def archive_window(self, topic: Topic, start_ms: int, end_ms: int,
                             unrouted_only: bool) -> archive.ArchiveWindow:
        async def op(conn: asyncpg.Connection) -> archive.ArchiveWindow:
            last = await conn.fetchval(Q["max_archive_id"])
            r = await conn.fetchrow(Q["archive_window"], topic.topic_id, last, start_ms, end_ms, int(unrouted_only))
            return archive.ArchiveWindow(int(r[0]), int(r[1]), r[2], r[3], int(r[4]))

        window: archive.ArchiveWindow = await self._tx(op, transaction=False)
        return window

    async def archived_between(self, topic_arn: str, after_ms: int, before_ms: int) -> int:
        parts = topic_arn.split(":")
        found = await self._tx(lambda c: c.fetchval(Q["archived_since"], parts[4], parts[3], parts[5], after_ms,
                                                    before_ms), transaction=False)
        return int(found)

    async def expire_archive(self, now_ms: int, limit: int) -> int:
        status = await self._tx(lambda c: c.execute(Q["expire_archive"], now_ms, limit), transaction=False,
                                single_statement=True)
        return int(status.split()[-1])

    async def start_replay(self, topic: Topic, replay: Replay) -> Replay:
        await self._tx(lambda c: insert_replay(c, topic.topic_id, replay))
        return replay

    async def claim_replay(self, now_ms: int, settle_ms: int, lease_ms: int) -> Replay | None:
        async def op(conn: asyncpg.Connection) -> Replay | None:
            row = await conn.fetchrow(Q["claimable_replay"] + " FOR UPDATE SKIP LOCKED", now_ms, now_ms - settle_ms)
            if row is None:
                return None
            replay = replay_record(row)
            last_id, total = replay.last_id, replay.total
            if last_id == 0:  # first claim: fix the archive rows this replay covers
                last_id = await conn.fetchval(Q["max_archive_id"])
                total = await conn.fetchval(Q["archive_window"], row["topic_id"], last_id, replay.start_ms,
                                            replay.end_ms, int(replay.selection == UNROUTED_ONLY))
            await conn.execute(Q["lease_replay"], now_ms + lease_ms, last_id, total, now_ms, replay.replay_id)
            return replay_record(await conn.fetchrow(Q["replay_by_id"], replay.replay_id))

        claimed: Replay | None = await self._tx(op)
        return claimed

    async def archive_page(self, replay: Replay, limit: int) -> list[archive.ArchivedMessage]:
        parts = replay.topic_arn.split(":")
        topic = await self.get_topic(ResourceKey(parts[4], parts[3], parts[5]))
        if topic is None:
            return []
        rows = await self._tx(lambda c: c.fetch(Q["archive_page"], topic.topic_id, replay.cursor_id, replay.last_id,
                                                replay.start_ms, replay.end_ms,
                                                int(replay.selection == UNROUTED_ONLY), limit), transaction=False)
        return [archived_message(r) for r in rows]

    async def replay_step(self, replay: Replay, step: ReplayStep, now_ms: int, lease_ms: int) -> bool:
        targets: dict[ResourceKey, Queue | None] = {}
        for key, _ in step.inserts:
            if key not in targets:
                targets[key] = await self.get_queue(key)

        async def op(conn: asyncpg.Connection) -> bool:
            status = await conn.execute(Q["advance_replay"], step.cursor_id, step.delivered, step.skipped,
                                        now_ms + lease_ms, now_ms, replay.replay_id)
            if not status.endswith(" 1"):
                return False
            standard: list[tuple[int, NewMessage, int]] = []
            for key, message in step.inserts:
                target = targets[key]
                if target is None:
                    continue
                if target.fifo:
                    await messages.send(conn, target, [message], now_ms, 300_000)
                else:
                    standard.append((target.queue_id, message, now_ms))
            await messages.insert_standard(conn, standard)
            for h in step.outbox:
                await conn.execute(Q["insert_outbox"], h.sub_arn, h.endpoint, h.body, json.dumps(h.headers), now_ms)
            await write_notifications(conn, step.notifications, now_ms)  # replays are not counted, as queue ones
            return True

        try:
            moved: bool = await self._tx(op)
        except QueueDoesNotExist:
            for key in targets:  # a target queue was deleted meanwhile: decide again from the database
                targets[key] = await self.get_queue(key, fresh=True)
            moved = await self._tx(op)
        return moved

    async def end_replay(self, replay_id: str, status: str, failure: str | None, now_ms: int) -> None:
        await self._tx(lambda c: c.execute(Q["end_replay"], status, failure, now_ms, replay_id))

    async def release_replay(self, replay_id: str) -> None:
        await self._tx(lambda c: c.execute(Q["release_replay"], replay_id), transaction=False)

    async def get_replay(self, replay_id: str) -> Replay | None:
        row = await self._tx(lambda c: c.fetchrow(Q["replay_by_id"], replay_id), transaction=False)
        return replay_record(row) if row is not None else None

    async def replays(self, arn: str | None, limit: int) -> list[Replay]:
        rows = await self._tx(lambda c: c.fetch(Q["replays_of"], arn or "", arn or "", arn or "", limit),
                              transaction=False)
        return [replay_record(r) for r in rows]


class PostgresAuditStore:
    """Reads across every account and region (audit, metrics); on PostgreSQL every node
    reads the same rows, so every node reports the same bus-wide figures."""

    _tx: Callable[..., Awaitable[Any]]

    async def every_topic(self) -> list[Topic]:
        rows = await self._tx(lambda c: c.fetch(Q["every_topic"]), transaction=False)
        return [topic_record(r) for r in rows]

    async def every_queue(self) -> list[Queue]:
        rows = await self._tx(lambda c: c.fetch(Q["every_queue"]), transaction=False)
        return [queue_record(r) for r in rows]

    async def every_subscription(self) -> list[Subscription]:
        rows = await self._tx(lambda c: c.fetch(Q["every_subscription"]), transaction=False)
        return [subscription_record(r) for r in rows]

    async def audit_counts(self, since_ms: int, until_ms: int) -> list[archive.RouteCounts]:
        rows = await self._tx(lambda c: c.fetch(Q["audit_counts"], since_ms, until_ms), transaction=False)
        return [archive.RouteCounts(r[0], r[1], *(int(v) for v in r[2:])) for r in rows]

    async def subscription_events(self, since_ms: int, until_ms: int) -> list[archive.SubscriptionEvent]:
        rows = await self._tx(lambda c: c.fetch(Q["subscription_events"], since_ms, until_ms), transaction=False)
        return [archive.SubscriptionEvent(*r) for r in rows]

    async def record_queue_stats(self, rows: Sequence[tuple[str, int, int, int, int]]) -> None:
        await self._tx(lambda c: c.executemany(Q["insert_queue_stats"], rows))

    async def queue_stats(self) -> dict[str, tuple[int, int, int]]:
        rows = await self._tx(lambda c: c.fetch(Q["queue_stats"]), transaction=False)
        return {r[0]: (int(r[1]), int(r[2]), int(r[3])) for r in rows}
