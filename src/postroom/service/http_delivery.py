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
from typing import Any, Protocol

import httpx

from postroom.clock import Clock
from postroom.core.digest import md5_of_body
from postroom.core.model import NewMessage
from postroom.core.sns_delivery_policy import http_delivery_policy
from postroom.core.sns_model import OutboxItem, Subscription, Topic

log = logging.getLogger(__name__)

LEASE_MS = 20_000  # longer than the 15 s HTTP timeout, so a live delivery is never leased twice
BATCH = 50
TICK_SECONDS = 0.2


class OutboxStore(Protocol):
    async def claim_outbox(self, now_ms: int, limit: int, lease_ms: int) -> list[OutboxItem]: ...
    async def outbox_done(self, item_id: int) -> None: ...
    async def outbox_retry(self, item_id: int, next_attempt_ms: int) -> None: ...
    async def record_delivery(self, topic_arn: str, sub_arn: str, delivered: int, failed: int) -> None: ...
    async def get_subscription(self, sub_arn: str) -> Subscription | None: ...
    async def get_topic(self, account: str, name: str) -> Topic | None: ...
    async def get_queue(self, account: str, name: str) -> Any: ...
    async def send(self, queue: Any, messages: Any, now_ms: int, dedup_window_ms: int) -> Any: ...


def _topic_key(topic_arn: str) -> tuple[str, str]:
    parts = topic_arn.split(":")
    return parts[4], parts[5]


class HttpDeliverer:
    def __init__(self, store: OutboxStore, clock: Clock, client: httpx.AsyncClient | None = None) -> None:
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
        kind = item.headers.get("x-amz-sns-message-type", "Notification")
        try:
            response = await self.client.post(item.endpoint, content=item.body.encode(), headers=item.headers)
            ok = 200 <= response.status_code < 300
        except httpx.HTTPError as exc:
            log.info("delivery to %s failed: %s", item.endpoint, exc)
            ok = False
        if ok:
            await self.store.outbox_done(item.item_id)
            if kind == "Notification":
                await self.store.record_delivery(topic_arn, item.sub_arn, 1, 0)
            return
        sub = await self.store.get_subscription(item.sub_arn)
        topic = await self.store.get_topic(*_topic_key(topic_arn)) if sub else None
        delays = http_delivery_policy(topic.attributes if topic else {}, sub.attributes).delays() if sub else []
        if item.attempts < len(delays) and sub is not None:
            await self.store.outbox_retry(item.item_id, self.clock.now_ms() + int(delays[item.attempts] * 1000))
            return
        await self.store.outbox_done(item.item_id)
        if kind == "Notification":
            await self._dead_letter(item, sub)
            await self.store.record_delivery(topic_arn, item.sub_arn, 0, 1)

    async def _dead_letter(self, item: OutboxItem, sub: Subscription | None) -> None:
        text = sub.attributes.get("RedrivePolicy") if sub else None
        if not text:
            return
        try:
            parts = json.loads(text)["deadLetterTargetArn"].split(":")
            queue = await self.store.get_queue(parts[4], parts[5])
        except (ValueError, KeyError, IndexError, TypeError):
            return
        if queue is None:
            return
        fifo = queue.fifo
        message = NewMessage(
            message_id=item.headers.get("x-amz-sns-message-id", str(item.item_id)), body=item.body,
            md5_of_body=md5_of_body(item.body), attributes={}, md5_of_attributes=None, system_attributes={},
            md5_of_system_attributes=None, sender_id=queue.account, group_id="sns-dlq" if fifo else None,
            dedup_id=f"{item.sub_arn}:{item.item_id}" if fifo else None)
        await self.store.send(queue, [message], self.clock.now_ms(), 300_000)

    async def close(self) -> None:
        await self.client.aclose()
