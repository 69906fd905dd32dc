"""Queue administration: create, look up, list, delete, attributes, tags, permissions."""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping, Sequence

from postroom.core.arns import parse_queue_arn
from postroom.core.model import Queue, ResourceKey
from postroom.core.sqs import queue_attributes as qa
from postroom.core.sqs import queue_changes
from postroom.core.sqs.redrive import allows_source
from postroom.core.sqs.validate import validate_queue_name, validate_tags
from postroom.errors import InvalidParameterValue, QueueAlreadyExists, QueueDoesNotExist
from postroom.service.base import ServiceBase, authorize
from postroom.service.context import RequestContext

REUSE_AFTER_MS = 60_000


class QueueService(ServiceBase):
    async def _check_redrive(self, ctx: RequestContext, name: str, fifo: bool, attrs: Mapping[str, str]) -> None:
        """AWS: the dead-letter queue must exist in the same account and region, and "the
        dead-letter queue of a FIFO queue must also be a FIFO queue" (and vice versa)."""
        policy = qa.redrive_policy(attrs)
        if policy is None:
            return
        arn = parse_queue_arn(policy.dead_letter_target_arn, "RedrivePolicy")
        dlq = None
        if arn.account == ctx.account and arn.region == ctx.region:
            dlq = await self.store.get_queue(arn.key)
        if dlq is None:
            raise InvalidParameterValue(
                "Value " + attrs["RedrivePolicy"] + " for parameter RedrivePolicy is invalid. "
                "Reason: Dead letter target does not exist.")
        qa.check_dlq_compatible(fifo, dlq.fifo, attrs["RedrivePolicy"])
        source_arn = ctx.key(name).arn("sqs")
        if not allows_source(qa.redrive_allow_policy(dlq.attributes), source_arn):
            raise InvalidParameterValue(
                "Value " + attrs["RedrivePolicy"] + " for parameter RedrivePolicy is invalid. Reason: "
                "Dead-letter queue's RedriveAllowPolicy does not allow this source queue.")

    async def create_queue(self, ctx: RequestContext, name: str, attributes: Mapping[str, str] | None,
                           tags: Mapping[str, str] | None) -> Queue:
        """AWS: "If you provide the name of an existing queue along with the exact names
        and values of all the queue's attributes, CreateQueue returns the queue URL for
        the existing queue. If the queue name, attribute names, or attribute values don't
        match an existing queue, CreateQueue returns an error." """
        raw = dict(attributes or {})
        validate_queue_name(name, raw.get("FifoQueue", "").lower() == "true")
        attrs = qa.creation_attributes(name, raw)
        tag_map = dict(tags or {})
        validate_tags(tag_map)
        key = ctx.key(name)
        existing = await self.store.get_queue(key)
        if existing is None:
            await self._check_redrive(ctx, name, attrs.get("FifoQueue") == "true", attrs)
        reuse = REUSE_AFTER_MS if self.settings.aws_timing else None
        queue, created = await self.store.create_queue(key, attrs, tag_map, self.clock.now_ms(), reuse)
        if not created:
            for attr in raw:
                canonical = attrs.get(attr)
                if canonical is not None and queue.attributes.get(attr) != canonical:
                    raise QueueAlreadyExists(
                        "A queue already exists with the same name and a different value for attribute "
                        f"{attr}")
        return queue

    async def get_queue_url(self, ctx: RequestContext, name: str, owner: str | None) -> str:
        """Another account's queue (QueueOwnerAWSAccountId) needs its Policy to grant
        ``sqs:GetQueueUrl``."""
        account = owner or ctx.account
        queue = await self.store.get_queue(ResourceKey(account, ctx.region, name))
        if queue is None:
            raise QueueDoesNotExist("The specified queue does not exist.")
        authorize(ctx, queue, "sqs:GetQueueUrl")
        return ctx.queue_url(account, name)

    async def list_queues(self, ctx: RequestContext, prefix: str, max_results: int | None,
                          next_token: str | None) -> tuple[list[str], str | None]:
        """AWS returns at most 1,000 queues; with MaxResults (1–1,000) it pages with
        NextToken."""
        if max_results is not None and not 1 <= max_results <= 1000:
            raise InvalidParameterValue(
                f"Value {max_results} for parameter MaxResults is invalid. Reason: MaxResults must be an "
                "integer between 1 and 1000.")
        after = None
        if next_token:
            try:
                after = json.loads(base64.b64decode(next_token))["after"]
            except (ValueError, KeyError, TypeError) as exc:
                raise InvalidParameterValue("Invalid NextToken value.") from exc
        limit = max_results or 1000
        queues = await self.store.list_queues(ctx.account, ctx.region, prefix, after, limit + 1)
        token = None
        if max_results is not None and len(queues) > limit:
            queues = queues[:limit]
            token = base64.b64encode(json.dumps({"after": queues[-1].name}).encode()).decode()
        return [ctx.queue_url(q.account, q.name) for q in queues[:limit]], token

    async def delete_queue(self, ctx: RequestContext, queue_url: str) -> None:
        queue = await self.resolve(ctx, queue_url)
        await self.store.delete_queue(queue.key, self.clock.now_ms())
        self.waiters.notify(queue.queue_id)

    async def get_attributes(self, ctx: RequestContext, queue_url: str, names: Sequence[str]) -> dict[str, str]:
        """AWS answers a FIFO-only name (FifoQueue, ContentBasedDeduplication,
        DeduplicationScope, FifoThroughputLimit) asked of a standard queue with
        InvalidAttributeName "Unknown Attribute FifoQueue." (aws/aws-sdk-ruby#1350: "the
        service ... will throw this error if you provide that attribute name to a queue
        that does not have FIFO enabled"). Attributes the queue does not have (a removed
        Policy or RedrivePolicy) are left out, even when named."""
        queue = await self.resolve(ctx, queue_url, action="sqs:GetQueueAttributes")
        qa.check_readable(names, queue.fifo)
        wanted = set(names)
        every = "All" in wanted
        out: dict[str, str] = {}
        for key, value in queue.attributes.items():
            if every or key in wanted:
                out[key] = value
        computed = {"QueueArn": queue.arn, "CreatedTimestamp": str(queue.created_ms // 1000),
                    "LastModifiedTimestamp": str(queue.modified_ms // 1000)}
        for key, value in computed.items():
            if every or key in wanted:
                out[key] = value
        count_names = {"ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible",
                       "ApproximateNumberOfMessagesDelayed"}
        if every or wanted & count_names:
            counts = await self.store.counts(queue, self.clock.now_ms())
            values = {"ApproximateNumberOfMessages": counts.visible,
                      "ApproximateNumberOfMessagesNotVisible": counts.in_flight,
                      "ApproximateNumberOfMessagesDelayed": counts.delayed}
            for key, n in values.items():
                if every or key in wanted:
                    out[key] = str(n)
        return out

    async def set_attributes(self, ctx: RequestContext, queue_url: str, attributes: Mapping[str, str]) -> None:
        """The new attributes are checked and applied to the queue as stored, in the
        transaction that writes them; only the RedrivePolicy's target is looked up first."""
        queue = await self.resolve(ctx, queue_url)
        change = queue_changes.set_attributes(attributes)
        checked = change(queue).attributes or {}  # bad input fails here, before any write
        if attributes.get("RedrivePolicy"):
            await self._check_redrive(ctx, queue.name, queue.fifo, checked)
        await self.store.update_queue(queue.key, change, self.clock.now_ms())
        self.waiters.notify(queue.queue_id)

    async def tag(self, ctx: RequestContext, queue_url: str, tags: Mapping[str, str]) -> None:
        queue = await self.resolve(ctx, queue_url)
        await self.store.update_queue(queue.key, queue_changes.tag(tags), self.clock.now_ms())

    async def untag(self, ctx: RequestContext, queue_url: str, keys: Sequence[str]) -> None:
        queue = await self.resolve(ctx, queue_url)
        await self.store.update_queue(queue.key, queue_changes.untag(keys), self.clock.now_ms())

    async def list_tags(self, ctx: RequestContext, queue_url: str) -> dict[str, str]:
        return dict((await self.resolve(ctx, queue_url)).tags)

    async def dead_letter_sources(self, ctx: RequestContext, queue_url: str, max_results: int | None,
                                  next_token: str | None) -> tuple[list[str], str | None]:
        dlq = await self.resolve(ctx, queue_url, action="sqs:ListDeadLetterSourceQueues")
        sources = await self.store.dead_letter_sources(dlq)
        start = 0
        if next_token:
            try:
                start = int(base64.b64decode(next_token))
            except ValueError as exc:
                raise InvalidParameterValue("Invalid NextToken value.") from exc
        limit = max_results or 1000
        page = sources[start:start + limit]
        token = None
        if max_results is not None and start + limit < len(sources):
            token = base64.b64encode(str(start + limit).encode()).decode()
        return [ctx.queue_url(q.account, q.name) for q in page], token

    async def add_permission(self, ctx: RequestContext, queue_url: str, label: str, accounts: Sequence[str],
                             actions: Sequence[str]) -> None:
        queue = await self.resolve(ctx, queue_url)
        await self.store.update_queue(queue.key, queue_changes.add_permission(label, accounts, actions),
                                      self.clock.now_ms())

    async def remove_permission(self, ctx: RequestContext, queue_url: str, label: str) -> None:
        queue = await self.resolve(ctx, queue_url)
        await self.store.update_queue(queue.key, queue_changes.remove_permission(label), self.clock.now_ms())
