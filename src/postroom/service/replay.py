"""Replaying a topic's archive: the requests (ReplayPolicy, ``postroom replay``) and the
background worker that delivers them.

A replay is a row in the store with a cursor. Whichever node runs the worker leases it,
reads the next archived messages after the cursor, plans each one's delivery to the
target exactly as a publish would (the subscription's filter policy, raw or envelope,
FIFO group and deduplication id), marks it ``Replayed``, and writes the deliveries and
the new cursor in one transaction — so a restart resumes where the last batch committed
and delivers nothing twice. Messages go out in archive order, which is publish order: a
FIFO group's replayed messages keep their order.

Interleaving with live traffic: replayed messages carry their original MessageGroupId,
so in a FIFO queue they share the group with live messages published meanwhile. Each
stream keeps its order (live messages in publish order; replayed messages in archive
order, all marked ``Replayed``), and a replayed copy of a message that the queue got live
within the last five minutes is dropped by the queue's deduplication (same
MessageDeduplicationId). A consumer that must not see replayed and live messages of one
group mixed replays into a queue of its own.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace

from postroom.clock import Clock
from postroom.core.arns import parse_queue_arn
from postroom.core.sns import replay as rp
from postroom.core.sns.archive import ArchivedMessage, ArchiveWindow
from postroom.core.sns.model import Subscription, Topic
from postroom.core.sns.replay import QueueTarget, Replay, ReplayStep
from postroom.core.sns.subscription_attributes import check_fifo_compatibility
from postroom.errors import InvalidParameter, NotFound, QueueDoesNotExist
from postroom.service.context import ServiceSettings, parse_topic_arn
from postroom.service.sns_delivery import Endpoints, Outgoing, Sign, passes_filter, plan_publish
from postroom.service.waiters import Waiters
from postroom.store.base import Store

log = logging.getLogger(__name__)

BATCH = 500
LEASE_MS = 30_000
SETTLE_MS = 1_000
"""A replay is picked up a second after it was asked for, so every publish that began
before it (on any node) has committed and is either in its window or delivered live."""
IDLE_SECONDS = 0.2


@dataclass(frozen=True)
class DryRun:
    """What a replay would deliver: ``window`` of the archive, to ``target``."""

    topic_arn: str
    target: str
    window: ArchiveWindow


class ReplayService:
    def __init__(self, store: Store, clock: Clock, settings: ServiceSettings, waiters: Waiters, sign: Sign,
                 endpoints: Endpoints) -> None:
        self.store = store
        self.clock = clock
        self.settings = settings
        self.waiters = waiters
        self.sign = sign
        self.endpoints = endpoints
        self._wake = asyncio.Event()

    # ---- requests -----------------------------------------------------------------
    def new_replay(self, topic: Topic, start_ms: int, end_ms: int | None, *, sub_arn: str | None = None,
                   queue: QueueTarget | None = None, selection: str = rp.ALL_MESSAGES, rate: int | None = None,
                   requested_by: str, origin: str) -> Replay:
        now = self.clock.now_ms()
        end = end_ms if end_ms is not None else now
        return Replay(self.settings.new_id(), topic.arn, sub_arn, queue, start_ms, end, selection, rate, rp.PENDING,
                      requested_by, origin, now, now)

    def for_policy(self, topic: Topic, sub_arn: str, policy_text: str, requested_by: str) -> Replay:
        """The replay a subscription's ReplayPolicy starts (Subscribe or SetSubscriptionAttributes)."""
        window = rp.replay_window(policy_text)
        return self.new_replay(topic, window.start_ms, window.end_ms, sub_arn=sub_arn, requested_by=requested_by,
                               origin="ReplayPolicy")

    async def request(self, topic: Topic, target: str, start_ms: int, end_ms: int | None, *, selection: str,
                      rate: int | None, raw: bool, requested_by: str, dry_run: bool) -> Replay | DryRun:
        """``postroom replay``: ``target`` is a subscription ARN of the topic, or a queue (ARN or URL)."""
        sub_arn, queue = await self._target(topic, target, raw)
        if rate is not None and rate < 1:
            raise InvalidParameter("Invalid parameter: rate must be at least 1 message per second")
        if dry_run:
            window = await self.store.archive_window(topic, start_ms, end_ms if end_ms is not None
                                                     else self.clock.now_ms(), selection == rp.UNROUTED_ONLY)
            return DryRun(topic.arn, target, window)
        replay = self.new_replay(topic, start_ms, end_ms, sub_arn=sub_arn, queue=queue, selection=selection,
                                 rate=rate, requested_by=requested_by, origin="postroom replay")
        await self.store.start_replay(topic, replay)
        self.wake()
        return replay

    async def _target(self, topic: Topic, target: str, raw: bool) -> tuple[str | None, QueueTarget | None]:
        if target.startswith("arn:aws:sns:"):
            sub = await self.store.get_subscription(target)
            if sub is None or sub.topic_arn != topic.arn:
                raise NotFound(f"Subscription {target} does not exist on {topic.arn}")
            return sub.arn, None
        if target.startswith("arn:aws:sqs:"):
            key = parse_queue_arn(target, "target").key
        else:
            parts = [p for p in target.split("/") if p]
            if len(parts) < 2:
                raise InvalidParameter(f"Invalid parameter: target {target} is neither a subscription nor a queue")
            key = parse_queue_arn(f"arn:aws:sqs:{topic.region}:{parts[-2]}:{parts[-1]}", "target").key
        queue = await self.store.get_queue(key)
        if queue is None:
            raise QueueDoesNotExist(f"The queue {target} does not exist.")
        # The rule of Subscribe: "FIFO SQS Queues can not be subscribed to standard SNS topics".
        check_fifo_compatibility(topic.fifo, "sqs", queue.fifo)
        return None, QueueTarget(queue.arn, raw)

    def wake(self) -> None:
        self._wake.set()

    # ---- the worker ---------------------------------------------------------------
    async def run_forever(self) -> None:
        while True:
            try:
                busy = await self.run_once()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("replay tick failed")
                busy = False
            if not busy:
                self._wake.clear()
                try:
                    await asyncio.wait_for(self._wake.wait(), IDLE_SECONDS)
                except TimeoutError:
                    pass

    async def run_once(self) -> bool:
        """Lease one replay and deliver it to the end (or until superseded); ``False`` if
        there was nothing to do. Stopped (shutdown), it gives its lease back, so the next
        server to start resumes it at once instead of after the lease ran out."""
        replay = await self.store.claim_replay(self.clock.now_ms(), SETTLE_MS, LEASE_MS)
        if replay is None:
            return False
        try:
            await self._deliver(replay)
        except asyncio.CancelledError:
            await self.store.release_replay(replay.replay_id)
            raise
        return True

    async def _deliver(self, replay: Replay) -> None:
        topic = await self.store.get_topic(parse_topic_arn(replay.topic_arn))
        if topic is None:
            await self.store.end_replay(replay.replay_id, rp.FAILED, "The topic was deleted.", self.clock.now_ms())
            return
        started = time.monotonic()
        sent = 0
        while True:
            sub = await self._subscription(replay)
            if replay.sub_arn is not None and sub is None:
                await self.store.end_replay(replay.replay_id, rp.FAILED, "The subscription was deleted.",
                                            self.clock.now_ms())
                return
            assert sub is not None
            limit = BATCH if replay.rate is None else max(1, min(BATCH, replay.rate))
            page = await self.store.archive_page(replay, limit)
            if not page:
                await self.store.end_replay(replay.replay_id, rp.COMPLETED, None, self.clock.now_ms())
                return
            step = self._step(topic, sub, page)
            if not await self.store.replay_step(replay, step, self.clock.now_ms(), LEASE_MS):
                return  # superseded, cancelled, or leased to another node
            for key, _ in step.inserts:
                queue = await self.store.get_queue(key)
                if queue is not None:
                    self.waiters.notify(queue.queue_id)
            replay = replace(replay, cursor_id=step.cursor_id, delivered=replay.delivered + step.delivered,
                             skipped=replay.skipped + step.skipped)
            sent += len(page)
            if replay.rate is not None:
                ahead = sent / replay.rate - (time.monotonic() - started)
                if ahead > 0:
                    await asyncio.sleep(ahead)

    async def _subscription(self, replay: Replay) -> Subscription | None:
        if replay.sub_arn is not None:
            return await self.store.get_subscription(replay.sub_arn)
        assert replay.queue is not None
        attrs = {"RawMessageDelivery": "true"} if replay.queue.raw else {}
        return Subscription("replay", replay.topic_arn, replay.requested_by, "sqs", replay.queue.queue_arn, attrs,
                            True)

    def _step(self, topic: Topic, sub: Subscription, page: Sequence[ArchivedMessage]) -> ReplayStep:
        step = ReplayStep(page[-1].archive_id, [], [], 0, 0)
        delivered = skipped = 0
        for m in page:
            out = Outgoing(m.message_id, m.message, m.subject, m.structure, m.attributes, m.group_id, m.dedup_id,
                           m.published_ms)
            if not passes_filter(sub, out):
                skipped += 1
                continue
            plan = plan_publish(topic, [sub], out, self.endpoints, self.sign, self.settings.new_id, topic.account,
                                replay_of=m.sequence_number or "")
            step.inserts.extend((d.queue, d.message) for d in plan.queue_deliveries)
            step.outbox.extend(plan.http_deliveries)
            step.notifications.extend(plan.notifications)
            delivered += 1
        return ReplayStep(step.cursor_id, step.inserts, step.outbox, delivered, skipped, step.notifications)

    # ---- reading ------------------------------------------------------------------
    async def status_of(self, sub_arn: str) -> str | None:
        """AWS's ReplayStatus of a subscription: its latest replay's state (the one that
        superseded the others)."""
        for r in await self.store.replays(sub_arn, 5):
            if r.sub_arn == sub_arn and r.status != rp.SUPERSEDED:
                return rp.FAILED if r.status == rp.CANCELLED else r.status
        return None
