"""Sending, receiving, deleting and re-timing messages: AWS's rules for each, decided
here, executed atomically by the store."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from postroom.clock import Clock
from postroom.core.arns import parse_queue_arn
from postroom.core.digest import md5_of_body, md5_of_message_attributes
from postroom.core.message_attributes import message_size, parse_message_attributes, parse_system_attributes
from postroom.core.model import MessageAttributes, NewMessage, Queue, SendResult, StoredMessage
from postroom.core.sqs import queue_attributes as qa
from postroom.core.sqs.delivery_rules import retention_ms
from postroom.core.sqs.validate import (
    validate_batch_entries,
    validate_body,
    validate_dedup_id,
    validate_fifo_batch,
    validate_group_id,
    validate_int_range,
)
from postroom.errors import (
    BatchRequestTooLong,
    InvalidParameterValue,
    MissingParameter,
    PostroomError,
    QueueDoesNotExist,
)
from postroom.service.base import Actions, ServiceBase
from postroom.service.context import RequestContext, ServiceSettings
from postroom.service.queue_stats import QueueStats
from postroom.service.waiters import Waiters
from postroom.store.base import ReceiveRequest, Store, VisibilityChange

ParsedAttributes = MessageAttributes | PostroomError
"""A message's attributes as parsed, or the error parsing them raised."""

DEDUP_WINDOW_MS = 300_000
MAX_BATCH_BYTES = 1_048_576
PURGE_INTERVAL_MS = 60_000
SEND: Actions = "sqs:SendMessage"
SEND_BATCH: Actions = ("sqs:SendMessage", "sqs:SendMessageBatch")
"""The IAM actions a send is authorised as (AddPermission grants either name)."""


@dataclass(frozen=True)
class OutgoingMessage:
    """One SendMessage, or one SendMessageBatch entry, as the client sent it."""

    body: str | None
    delay_seconds: int | None = None
    attributes: Mapping[str, Mapping[str, Any]] | None = None
    system_attributes: Mapping[str, Mapping[str, Any]] | None = None
    group_id: str | None = None
    dedup_id: str | None = None


@dataclass(frozen=True)
class Sent:
    message_id: str
    md5_of_body: str
    md5_of_attributes: str | None
    md5_of_system_attributes: str | None
    sequence_number: str | None


@dataclass(frozen=True)
class ReceiveOptions:
    max_messages: int = 1
    wait_seconds: int | None = None
    visibility_timeout: int | None = None
    attempt_id: str | None = None


class MessageService(ServiceBase):
    def __init__(self, store: Store, clock: Clock, settings: ServiceSettings, waiters: Waiters) -> None:
        super().__init__(store, clock, settings, waiters)
        self.stats = QueueStats()
        """NumberOfMessagesSent/Received/Deleted gathered here; the server flushes them to the store."""

    # ---- send ---------------------------------------------------------------
    def _prepare(self, ctx: RequestContext, queue: Queue, m: OutgoingMessage,
                 parsed: ParsedAttributes | None = None) -> NewMessage:
        """Validate one message against AWS's rules for this queue and resolve its delay
        and deduplication id. ``parsed``: its message attributes, already parsed by the caller
        (or the error parsing them raised), checked at the same point as if parsed here."""
        if m.body is None:
            raise MissingParameter("The request must contain the parameter MessageBody.")
        validate_body(m.body)
        if parsed is None:
            attrs = parse_message_attributes(m.attributes)
        elif isinstance(parsed, PostroomError):
            raise parsed
        else:
            attrs = parsed
        system = parse_system_attributes(m.system_attributes)
        limit = int(queue.attributes.get("MaximumMessageSize", "1048576"))
        size = message_size(m.body, attrs)
        if size > limit:
            raise InvalidParameterValue(
                f"One or more parameters are invalid. Reason: Message must be shorter than {limit} bytes.")
        delay = int(queue.attributes.get("DelaySeconds", "0"))
        group_id, dedup_id = m.group_id, m.dedup_id
        if queue.fifo:
            if m.delay_seconds is not None and m.delay_seconds != 0:
                raise InvalidParameterValue(
                    f"Value {m.delay_seconds} for parameter DelaySeconds is invalid. Reason: The request include "
                    "parameter that is not valid for this queue type.")
            if group_id is None:
                raise MissingParameter("The request must contain the parameter MessageGroupId.")
            validate_group_id(group_id)
            if dedup_id is None:
                if queue.attributes.get("ContentBasedDeduplication") != "true":
                    raise InvalidParameterValue(
                        "The queue should either have ContentBasedDeduplication enabled or "
                        "MessageDeduplicationId provided explicitly")
                dedup_id = hashlib.sha256(m.body.encode()).hexdigest()
            else:
                validate_dedup_id(dedup_id)
        else:
            if m.delay_seconds is not None:
                validate_int_range("DelaySeconds", m.delay_seconds, 0, 900)
                delay = m.delay_seconds
            if dedup_id is not None:
                raise InvalidParameterValue(
                    "Value " + dedup_id + " for parameter MessageDeduplicationId is invalid. Reason: The request "
                    "includes a parameter that is not valid for this queue type.")
            if group_id is not None:
                validate_group_id(group_id)
        return NewMessage(
            message_id=self.settings.new_id(), body=m.body, md5_of_body=md5_of_body(m.body), attributes=attrs,
            md5_of_attributes=md5_of_message_attributes(attrs), system_attributes=system,
            md5_of_system_attributes=md5_of_message_attributes(system), sender_id=ctx.sender_id or ctx.account,
            delay_ms=delay * 1000, group_id=group_id, dedup_id=dedup_id,
        )

    async def _store_send(self, queue: Queue, prepared: Sequence[NewMessage]) -> list[SendResult]:
        results = await self.store.send(queue, prepared, self.clock.now_ms(), DEDUP_WINDOW_MS)
        self.waiters.notify(queue.queue_id)
        self.stats.add(queue.arn, sent=sum(1 for r in results if not r.duplicate))
        return results

    async def _resolve_again(self, ctx: RequestContext, queue_url: str, stale: Queue, action: Actions) -> Queue:
        """The store found ``stale`` gone: a node's cached queue was deleted elsewhere. If a
        queue of that name exists now, the request is for it; else QueueDoesNotExist."""
        queue = await self.resolve(ctx, queue_url, fresh=True, action=action)
        if queue.queue_id == stale.queue_id:
            raise QueueDoesNotExist("The specified queue does not exist.")
        return queue

    async def send(self, ctx: RequestContext, queue_url: str, m: OutgoingMessage) -> Sent:
        queue = await self.resolve(ctx, queue_url, action=SEND)
        new = self._prepare(ctx, queue, m)
        try:
            (result,) = await self._store_send(queue, [new])
        except QueueDoesNotExist:
            queue = await self._resolve_again(ctx, queue_url, queue, SEND)
            new = self._prepare(ctx, queue, m)
            (result,) = await self._store_send(queue, [new])
        return Sent(result.message_id, new.md5_of_body, new.md5_of_attributes, new.md5_of_system_attributes,
                    result.sequence_number)

    async def send_batch(self, ctx: RequestContext, queue_url: str,
                         entries: Sequence[tuple[str, OutgoingMessage]]) -> list[tuple[str, Sent | Exception]]:
        """AWS checks the batch as a whole first (entry count, distinct well-formed ids,
        the summed size of all messages ≤ 1 MiB); each entry is then accepted or failed
        on its own."""
        queue = await self.resolve(ctx, queue_url, action=SEND_BATCH)
        validate_batch_entries([entry_id for entry_id, _ in entries], "SendMessageBatch")
        if queue.fifo:  # AWS fails the whole FIFO batch when an entry lacks its group or dedup id
            validate_fifo_batch([(m.group_id, m.dedup_id) for _, m in entries],
                                queue.attributes.get("ContentBasedDeduplication") == "true")
        parsed = [_parse_attributes(m) for _, m in entries]
        total = sum(_approximate_size(m, pa) for (_, m), pa in zip(entries, parsed, strict=True))
        if total > MAX_BATCH_BYTES:
            raise BatchRequestTooLong(
                f"Batch requests cannot be longer than {MAX_BATCH_BYTES} bytes. You have sent {total} bytes.")
        try:
            return await self._send_batch_to(ctx, queue, entries, parsed)
        except QueueDoesNotExist:
            queue = await self._resolve_again(ctx, queue_url, queue, SEND_BATCH)
            return await self._send_batch_to(ctx, queue, entries, parsed)

    async def _send_batch_to(self, ctx: RequestContext, queue: Queue, entries: Sequence[tuple[str, OutgoingMessage]],
                             parsed: Sequence[ParsedAttributes]) -> list[tuple[str, Sent | Exception]]:
        prepared: list[NewMessage | PostroomError] = []
        for (_entry_id, m), pa in zip(entries, parsed, strict=True):
            try:
                prepared.append(self._prepare(ctx, queue, m, pa))
            except PostroomError as exc:
                prepared.append(exc)
        accepted = [p for p in prepared if isinstance(p, NewMessage)]
        stored = iter(await self._store_send(queue, accepted) if accepted else [])
        out: list[tuple[str, Sent | Exception]] = []
        for (entry_id, _m), p in zip(entries, prepared, strict=True):
            if isinstance(p, NewMessage):
                r = next(stored)
                out.append((entry_id, Sent(r.message_id, p.md5_of_body, p.md5_of_attributes,
                                           p.md5_of_system_attributes, r.sequence_number)))
            else:
                out.append((entry_id, p))
        return out

    # ---- receive ------------------------------------------------------------
    async def receive(self, ctx: RequestContext, queue_url: str, opts: ReceiveOptions) -> list[StoredMessage]:
        """Long polling: AWS waits up to WaitTimeSeconds (queue default
        ReceiveMessageWaitTimeSeconds) and answers as soon as at least one message is
        available; an empty answer only when the wait runs out."""
        queue = await self.resolve(ctx, queue_url, action="sqs:ReceiveMessage")
        validate_int_range("MaxNumberOfMessages", opts.max_messages, 1, 10)
        wait = opts.wait_seconds
        if wait is None:
            wait = int(queue.attributes.get("ReceiveMessageWaitTimeSeconds", "0"))
        validate_int_range("WaitTimeSeconds", wait, 0, 20)
        if opts.visibility_timeout is not None:
            validate_int_range("VisibilityTimeout", opts.visibility_timeout, 0, 43200)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + wait
        while True:
            queue = await self.resolve(ctx, queue_url, action="sqs:ReceiveMessage")
            with self.waiters.watch(queue.queue_id) as watch:
                outcome = await self.store.receive(queue, self._request(queue, opts))
                if outcome.messages:
                    self.stats.add(queue.arn, received=len(outcome.messages))
                    return outcome.messages
                remaining = deadline - loop.time()
                if remaining <= 0 or self.waiters.closed:
                    return []
                if outcome.next_visible_ms is not None:
                    until_visible = (outcome.next_visible_ms - self.clock.now_ms()) / 1000
                    remaining = min(remaining, max(until_visible, 0.001))
                await watch.wait(remaining)

    def _request(self, queue: Queue, opts: ReceiveOptions) -> ReceiveRequest:
        visibility = opts.visibility_timeout
        if visibility is None:
            visibility = int(queue.attributes.get("VisibilityTimeout", "30"))
        policy = qa.redrive_policy(queue.attributes)
        dlq = parse_queue_arn(policy.dead_letter_target_arn).key if policy is not None else None
        return ReceiveRequest(
            max_messages=opts.max_messages, visibility_ms=visibility * 1000, now_ms=self.clock.now_ms(),
            retention_ms=retention_ms(queue.attributes),
            max_receive_count=policy.max_receive_count if policy else None, dlq=dlq,
            attempt_id=opts.attempt_id if queue.fifo else None,
        )

    # ---- delete / visibility ---------------------------------------------------
    async def delete(self, ctx: RequestContext, queue_url: str, handle: str) -> None:
        """DeleteMessage. Observed on AWS: on a standard queue any receipt handle the
        message was given deletes it; on a FIFO queue only the handle of the receive still
        in flight — after its visibility timeout, InvalidParameterValue "… Reason: The
        receipt handle has expired." (SQS Developer Guide, *Troubleshoot Amazon SQS API
        errors*). A message already deleted is no error. The store decides
        (``postroom.store.receipts``)."""
        queue = await self.resolve(ctx, queue_url, action="sqs:DeleteMessage")
        (error,) = await self.store.delete(queue, [("", handle)], self.clock.now_ms())
        if error is not None:
            raise error
        self.stats.add(queue.arn, deleted=1)
        if queue.fifo:
            self.waiters.notify(queue.queue_id)

    async def delete_batch(self, ctx: RequestContext, queue_url: str,
                           entries: Sequence[tuple[str, str]]) -> list[tuple[str, Exception | None]]:
        queue = await self.resolve(ctx, queue_url, action=("sqs:DeleteMessage", "sqs:DeleteMessageBatch"))
        validate_batch_entries([entry_id for entry_id, _ in entries], "DeleteMessageBatch")
        errors = await self.store.delete(queue, entries, self.clock.now_ms())
        self.stats.add(queue.arn, deleted=sum(1 for e in errors if e is None))
        if queue.fifo:
            self.waiters.notify(queue.queue_id)
        return [(entry_id, err) for (entry_id, _), err in zip(entries, errors, strict=True)]

    async def change_visibility(self, ctx: RequestContext, queue_url: str, handle: str, timeout: int) -> None:
        """ChangeMessageVisibility. The timeout counts from now (AWS: "the new timeout
        period takes effect from the time you call ChangeMessageVisibility"). Observed on
        AWS: a handle whose receive is over answers OK and changes nothing; a handle of a
        deleted message is InvalidParameterValue "… Message does not exist or is not
        available for visibility timeout change.". On a FIFO queue, ending one message's
        timeout makes its group available from that message on, even while a later message
        of the same receive is still in flight."""
        queue = await self.resolve(ctx, queue_url, action="sqs:ChangeMessageVisibility")
        validate_int_range("VisibilityTimeout", timeout, 0, 43200)
        (error,) = await self.store.change_visibility(queue, [VisibilityChange("", handle, timeout * 1000)],
                                                      self.clock.now_ms())
        if error is not None:
            raise error
        self.waiters.notify(queue.queue_id)

    async def change_visibility_batch(self, ctx: RequestContext, queue_url: str,
                                      entries: Sequence[tuple[str, str, int]]) -> list[tuple[str, Exception | None]]:
        queue = await self.resolve(ctx, queue_url,
                                   action=("sqs:ChangeMessageVisibility", "sqs:ChangeMessageVisibilityBatch"))
        validate_batch_entries([entry_id for entry_id, _, _ in entries], "ChangeMessageVisibilityBatch")
        out: list[tuple[str, Exception | None]] = []
        changes: list[tuple[int, VisibilityChange]] = []
        for entry_id, handle, timeout in entries:
            try:
                validate_int_range("VisibilityTimeout", timeout, 0, 43200)
            except PostroomError as exc:
                out.append((entry_id, exc))
                continue
            changes.append((len(out), VisibilityChange(entry_id, handle, timeout * 1000)))
            out.append((entry_id, None))
        if changes:
            errors = await self.store.change_visibility(queue, [c for _, c in changes], self.clock.now_ms())
            for (index, change), err in zip(changes, errors, strict=True):
                out[index] = (change.entry_id, err)
        self.waiters.notify(queue.queue_id)
        return out

    async def purge(self, ctx: RequestContext, queue_url: str) -> None:
        """PurgeQueue deletes every message, in flight and delayed ones too, and — observed
        on AWS (LocalStack's AWS-validated test_purge_queue_clears_fifo_deduplication_cache)
        — forgets the FIFO deduplication ids, so a message sent again after a purge is
        accepted."""
        queue = await self.resolve(ctx, queue_url, action="sqs:PurgeQueue")
        interval = PURGE_INTERVAL_MS if self.settings.aws_timing else None
        await self.store.purge(queue, self.clock.now_ms(), interval)


def _parse_attributes(m: OutgoingMessage) -> ParsedAttributes:
    try:
        return parse_message_attributes(m.attributes)
    except PostroomError as exc:
        return exc


def _approximate_size(m: OutgoingMessage, parsed: ParsedAttributes) -> int:
    """A batch entry's size for the 1 MiB batch limit, even when its attributes are
    invalid (that entry then fails on its own, not the whole batch)."""
    if isinstance(parsed, PostroomError):
        return message_size(m.body or "", {})
    return message_size(m.body or "", parsed)
