"""The SQLite store's archive and replays (mixed into ``SqliteStore``).

Archived messages are written by the publish transaction (``sns.publish``); this module
reads them, expires them a batch at a time (each batch one short writer operation, so
publishes interleave), and runs replays: a replay's deliveries and its cursor move in
one transaction, so a crash resumes it exactly where its last batch committed.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from typing import Any

from postroom.core.model import Queue, ResourceKey
from postroom.core.sns import archive
from postroom.core.sns.model import Subscription, Topic
from postroom.core.sns.publish_effects import by_queue
from postroom.core.sns.replay import UNROUTED_ONLY, Replay, ReplayStep
from postroom.store.rows import (
    archived_message,
    queue_record,
    replay_params,
    replay_record,
    subscription_record,
    topic_record,
)
from postroom.store.sqlite import messages
from postroom.store.sqlite.platform_store import write_notifications
from postroom.store.sqlite.queries import Q
from postroom.store.sqlite.reader import Reader
from postroom.store.sqlite.sns import live_queues
from postroom.store.sqlite.writer import Writer


def insert_replay(conn: sqlite3.Connection, topic_id: int, replay: Replay) -> None:
    """Record a replay, superseding the subscription's active one, in the caller's transaction."""
    if replay.sub_arn is not None:
        conn.execute(Q["supersede_replays"], (replay.created_ms, replay.sub_arn))
    conn.execute(Q["insert_replay"], replay_params(topic_id, replay))


class SqliteArchiveStore:
    _writer: Writer
    _reader: Reader
    _queues: dict[ResourceKey, Queue]
    _topics: dict[ResourceKey, Topic]

    def _topic_id(self, topic_arn: str) -> int | None:
        parts = topic_arn.split(":")
        topic = self._topics.get(ResourceKey(parts[4], parts[3], parts[5]))
        return topic.topic_id if topic is not None else None

    # ---- the archive ------------------------------------------------------------
    async def archive_stats(self) -> list[archive.TopicArchiveStats]:
        def op(conn: sqlite3.Connection) -> list[archive.TopicArchiveStats]:
            return [archive.TopicArchiveStats(r[0], r[1], r[2], r[3], r[4])
                    for r in conn.execute(Q["archive_stats"]).fetchall()]

        return await self._reader.call(op)

    async def archive_start(self, topic: Topic) -> int | None:
        def op(conn: sqlite3.Connection) -> int | None:
            found: int | None = conn.execute(Q["archive_start"], (topic.topic_id,)).fetchone()[0]
            return found

        return await self._reader.call(op)

    async def archive_list(self, topic_arn: str | None, unrouted_only: bool, since_ms: int, until_ms: int,
                           limit: int) -> list[archive.ArchivedMessage]:
        def op(conn: sqlite3.Connection) -> list[archive.ArchivedMessage]:
            rows = conn.execute(Q["archive_list"], (topic_arn or "", topic_arn or "", since_ms, until_ms,
                                                    int(unrouted_only), limit)).fetchall()
            return [archived_message(r) for r in rows]

        return await self._reader.call(op)

    async def archive_window(self, topic: Topic, start_ms: int, end_ms: int,
                             unrouted_only: bool) -> archive.ArchiveWindow:
        def op(conn: sqlite3.Connection) -> archive.ArchiveWindow:
            last = conn.execute(Q["max_archive_id"]).fetchone()[0]
            n, groups, first, final, last_id = conn.execute(Q["archive_window"], (
                topic.topic_id, last, start_ms, end_ms, int(unrouted_only))).fetchone()
            return archive.ArchiveWindow(n, groups, first, final, last_id)

        return await self._reader.call(op)

    async def archived_between(self, topic_arn: str, after_ms: int, before_ms: int) -> int:
        parts = topic_arn.split(":")
        params = (parts[4], parts[3], parts[5], after_ms, before_ms)
        return await self._reader.call(lambda conn: int(conn.execute(Q["archived_since"], params).fetchone()[0]))

    async def expire_archive(self, now_ms: int, limit: int) -> int:
        def op(conn: sqlite3.Connection) -> int:
            return int(conn.execute(Q["expire_archive"], (now_ms, limit)).rowcount)

        return await self._writer.call(op)

    # ---- replays ------------------------------------------------------------------
    async def start_replay(self, topic: Topic, replay: Replay) -> Replay:
        def op(conn: sqlite3.Connection) -> Replay:
            insert_replay(conn, topic.topic_id, replay)
            return replay

        return await self._writer.call(op)

    async def claim_replay(self, now_ms: int, settle_ms: int, lease_ms: int) -> Replay | None:
        def op(conn: sqlite3.Connection) -> Replay | None:
            row = conn.execute(Q["claimable_replay"], (now_ms, now_ms - settle_ms)).fetchone()
            if row is None:
                return None
            replay = replay_record(row)
            last_id, total = replay.last_id, replay.total
            if last_id == 0:  # first claim: fix the archive rows this replay covers
                last_id = conn.execute(Q["max_archive_id"]).fetchone()[0]
                total = conn.execute(Q["archive_window"], (
                    row["topic_id"], last_id, replay.start_ms, replay.end_ms,
                    int(replay.selection == UNROUTED_ONLY))).fetchone()[0]
            conn.execute(Q["lease_replay"], (now_ms + lease_ms, last_id, total, now_ms, replay.replay_id, now_ms))
            return replay_record(conn.execute(Q["replay_by_id"], (replay.replay_id,)).fetchone())

        return await self._writer.call(op)

    async def archive_page(self, replay: Replay, limit: int) -> list[archive.ArchivedMessage]:
        topic_id = self._topic_id(replay.topic_arn)
        if topic_id is None:
            return []

        def op(conn: sqlite3.Connection) -> list[archive.ArchivedMessage]:
            rows = conn.execute(Q["archive_page"], (topic_id, replay.cursor_id, replay.last_id, replay.start_ms,
                                                    replay.end_ms, int(replay.selection == UNROUTED_ONLY),
                                                    limit)).fetchall()
            return [archived_message(r) for r in rows]

        return await self._reader.call(op)

    async def replay_step(self, replay: Replay, step: ReplayStep, now_ms: int, lease_ms: int) -> bool:
        def op(conn: sqlite3.Connection) -> bool:
            moved = conn.execute(Q["advance_replay"], (step.cursor_id, step.delivered, step.skipped,
                                                       now_ms + lease_ms, now_ms, replay.replay_id, now_ms)).rowcount
            if not moved:
                return False
            queue = live_queues(conn, self._queues.get)
            for key, batch in by_queue(step.inserts).items():
                target = queue(key)
                if target is not None:
                    messages.insert(conn, target, batch, now_ms, 300_000)
            for h in step.outbox:
                conn.execute(Q["insert_outbox"], (h.sub_arn, h.endpoint, h.body, json.dumps(h.headers), now_ms,
                                                  now_ms))
            write_notifications(conn, step.notifications, now_ms)  # replays are not counted, as queue ones
            return True

        return await self._writer.call(op)

    async def end_replay(self, replay_id: str, status: str, failure: str | None, now_ms: int) -> None:
        await self._writer.call(lambda conn: conn.execute(Q["end_replay"], (status, failure, now_ms, replay_id)))

    async def release_replay(self, replay_id: str) -> None:
        await self._writer.call(lambda conn: conn.execute(Q["release_replay"], (replay_id,)))

    async def get_replay(self, replay_id: str) -> Replay | None:
        def op(conn: sqlite3.Connection) -> Replay | None:
            row = conn.execute(Q["replay_by_id"], (replay_id,)).fetchone()
            return replay_record(row) if row is not None else None

        return await self._reader.call(op)

    async def replays(self, arn: str | None, limit: int) -> list[Replay]:
        def op(conn: sqlite3.Connection) -> list[Replay]:
            rows: list[Any] = conn.execute(Q["replays_of"], (arn or "", arn or "", arn or "", limit)).fetchall()
            return [replay_record(r) for r in rows]

        return await self._reader.call(op)



class SqliteAuditStore:
    """Reads across every account and region (audit, metrics), on the read-only connection."""

    _writer: Writer
    _reader: Reader

    async def every_topic(self) -> list[Topic]:
        return await self._reader.call(lambda conn: [topic_record(r) for r in conn.execute(Q["every_topic"])])

    async def every_queue(self) -> list[Queue]:
        return await self._reader.call(lambda conn: [queue_record(r) for r in conn.execute(Q["every_queue"])])

    async def every_subscription(self) -> list[Subscription]:
        return await self._reader.call(
            lambda conn: [subscription_record(r) for r in conn.execute(Q["every_subscription"])])

    async def audit_counts(self, since_ms: int, until_ms: int) -> list[archive.RouteCounts]:
        def op(conn: sqlite3.Connection) -> list[archive.RouteCounts]:
            return [archive.RouteCounts(*r) for r in conn.execute(Q["audit_counts"], (since_ms, until_ms))]

        return await self._reader.call(op)

    async def subscription_events(self, since_ms: int, until_ms: int) -> list[archive.SubscriptionEvent]:
        def op(conn: sqlite3.Connection) -> list[archive.SubscriptionEvent]:
            return [archive.SubscriptionEvent(*r) for r in conn.execute(Q["subscription_events"],
                                                                         (since_ms, until_ms))]

        return await self._reader.call(op)

    async def record_queue_stats(self, rows: Sequence[tuple[str, int, int, int, int]]) -> None:
        await self._writer.call(lambda conn: conn.executemany(Q["insert_queue_stats"], rows))

    async def queue_stats(self) -> dict[str, tuple[int, int, int]]:
        def op(conn: sqlite3.Connection) -> dict[str, tuple[int, int, int]]:
            return {r[0]: (int(r[1]), int(r[2]), int(r[3])) for r in conn.execute(Q["queue_stats"])}

        return await self._reader.call(op)
