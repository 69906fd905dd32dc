"""Delivering to HTTP/HTTPS subscriptions from the durable outbox.

Publish commits HTTP deliveries into the outbox in the same transaction as everything
else; this worker leases due rows (a crashed node's lease runs out and another retries
them), POSTs them with SNS's headers, and on failure retries by the delivery policy —
AWS's default for HTTP/S is 3 retries 20 s apart (``defaultHealthyRetryPolicy``). When
retries are exhausted (the subscription's DeliveryPolicy over the topic's, see
``core.sns_delivery_policy``) the message goes to the subscription's dead-letter queue
(RedrivePolicy) if it has one, and is counted as failed either way.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Sequence
from typing import Protocol

import httpx

from postroom.clock import Clock
from postroom.core.arns import parse_queue_arn
from postroom.core.digest import md5_of_body
from postroom.core.model import NewMessage, ResourceKey
from postroom.core.sns.delivery_policy import http_delivery_policy
from postroom.core.sns.model import OutboxItem, OutboxOutcome, Subscription
from postroom.errors import PostroomError
from postroom.service.context import parse_topic_arn
from postroom.store.base import OutboxStore, QueueStore, SubscriptionStore, TopicStore

log = logging.getLogger(__name__)

LEASE_MS = 20_000  # longer than the 15 s HTTP timeout, so a live delivery is never leased twice
BATCH = 50
TICK_SECONDS = 0.2


class DelivererStore(OutboxStore, SubscriptionStore, TopicStore, QueueStore, Protocol):
    """What the HTTP deliverer needs of the store."""


class HttpDeliverer:
    def __init__(self, store: DelivererStore, clock: Clock, client: httpx.AsyncClient | None = None) -> None:
        self.store = store
        self.clock = clock
        self.client = client or httpx.AsyncClient(timeout=15.0)

    async def run_forever(self) -> None:
        while True:
            try:
                await self.run_once()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("HTTP delivery tick failed")
            await asyncio.sleep(TICK_SECONDS)

    async def run_once(self) -> int:
        items = await self.store.claim_outbox(self.clock.now_ms(), BATCH, LEASE_MS)
        if items:
            await asyncio.gather(*(self._deliver(item) for item in items))
        return len(items)

    async def _deliver(self, item: OutboxItem) -> None:
        topic_arn = item.sub_arn.rsplit(":", 1)[0]
        notification = item.headers.get("x-amz-sns-message-type", "Notification") == "Notification"
        try:
            response = await self.client.post(item.endpoint, content=item.body.encode(), headers=item.headers)
            ok = 200 <= response.status_code < 300
        except (httpx.HTTPError, httpx.InvalidURL, ValueError, UnicodeError) as exc:
            # InvalidURL is no HTTPError: an endpoint httpx cannot parse fails this delivery, not the tick.
            log.info("delivery to %s failed: %s", item.endpoint, exc)
            ok = False
        now = self.clock.now_ms()
        if ok:
            await self.store.finish_outbox(OutboxOutcome(item.item_id, topic_arn, item.sub_arn, notification, True),
                                           now)
            return
        sub = await self.store.get_subscription(item.sub_arn)
        delays: Sequence[float] = []
        if sub is not None:
            try:
                topic = await self.store.get_topic(parse_topic_arn(topic_arn))
            except PostroomError:
                topic = None
            delays = http_delivery_policy(topic.attributes if topic else {}, sub.attributes).delays()
        if item.attempts < len(delays):
            await self.store.outbox_retry(item.item_id, now + int(delays[item.attempts] * 1000))
            return
        dead_letter = await self._dead_letter(item, sub) if notification else None
        await self.store.finish_outbox(
            OutboxOutcome(item.item_id, topic_arn, item.sub_arn, notification, False, dead_letter), now)

    async def _dead_letter(self, item: OutboxItem, sub: Subscription | None) -> tuple[ResourceKey, NewMessage] | None:
        """AWS: a message that exhausts the delivery policy goes to the subscription's
        dead-letter queue (its RedrivePolicy), if it has one."""
        text = sub.attributes.get("RedrivePolicy") if sub else None
        if not text:
            return None
        try:
            key = parse_queue_arn(json.loads(text)["deadLetterTargetArn"]).key
        except (ValueError, KeyError, TypeError, PostroomError):
            return None
        queue = await self.store.get_queue(key)
        if queue is None:
            return None
        fifo = queue.fifo
        message = NewMessage(
            message_id=item.headers.get("x-amz-sns-message-id", str(item.item_id)), body=item.body,
            md5_of_body=md5_of_body(item.body), attributes={}, md5_of_attributes=None, system_attributes={},
            md5_of_system_attributes=None, sender_id=queue.account, group_id="sns-dlq" if fifo else None,
            dedup_id=f"{item.sub_arn}:{item.item_id}" if fifo else None)
        return key, message

    async def close(self) -> None:
        await self.client.aclose()
