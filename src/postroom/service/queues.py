"""Queue administration: create, look up, list, delete, attributes, tags, permissions."""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping, Sequence
from typing import Any

from postroom.core import queue_attributes as qa
from postroom.core.arns import parse_queue_arn
from postroom.core.model import Queue
from postroom.core.redrive import allows_source
from postroom.core.validate import validate_queue_name, validate_tags
from postroom.errors import (
    InvalidParameterValue,
    OverLimit,
    QueueAlreadyExists,
    QueueDoesNotExist,
)
from postroom.service.base import ServiceBase
from postroom.service.context import RequestContext

REUSE_AFTER_MS = 60_000
# AWS: AddPermission grants these actions (or "*"); the others are owner-only.
PERMISSION_ACTIONS = frozenset({
    "SendMessage", "ReceiveMessage", "DeleteMessage", "ChangeMessageVisibility", "GetQueueAttributes",
    "GetQueueUrl", "ListDeadLetterSourceQueues", "PurgeQueue", "ListQueueTags",
    "SendMessageBatch", "DeleteMessageBatch", "ChangeMessageVisibilityBatch",
})
MAX_TAGS = 50


class QueueService(ServiceBase):
    async def _check_redrive(self, ctx: RequestContext, name: str, fifo: bool, attrs: Mapping[str, str]) -> None:
        """AWS: the dead-letter queue must exist in the same account and region, and "the
        dead-letter queue of a FIFO queue must also be a FIFO queue" (and vice versa)."""
        policy = qa.redrive_policy(attrs)
        if policy is None:
            return
        arn = parse_queue_arn(policy.dead_letter_target_arn, "RedrivePolicy")
        dlq = await self.store.get_queue(arn.account, arn.name)
        if dlq is None or arn.account != ctx.account:
            raise InvalidParameterValue(
                "Value " + attrs["RedrivePolicy"] + " for parameter RedrivePolicy is invalid. "
                "Reason: Dead letter target does not exist.")
        qa.check_dlq_compatible(fifo, dlq.fifo, attrs["RedrivePolicy"])
        source_arn = f"arn:aws:sqs:{ctx.region}:{ctx.account}:{name}"
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
        existing = await self.store.get_queue(ctx.account, name)
        if existing is None:
            await self._check_redrive(ctx, name, attrs.get("FifoQueue") == "true", attrs)
        reuse = REUSE_AFTER_MS if self.settings.aws_timing else None
        queue, created = await self.store.create_queue(ctx.account, ctx.region, name, attrs, tag_map,
                                                       self.clock.now_ms(), reuse)
        if not created:
            for key in raw:
                canonical = attrs.get(key)
                if canonical is not None and queue.attributes.get(key) != canonical:
                    raise QueueAlreadyExists(
                        "A queue already exists with the same name and a different value for attribute "
                        f"{key}")
        return queue

    async def get_queue_url(self, ctx: RequestContext, name: str, owner: str | None) -> str:
        account = owner or ctx.account
        queue = await self.store.get_queue(account, name)
        if queue is None:
            raise QueueDoesNotExist("The specified queue does not exist.")
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
        queues = await self.store.list_queues(ctx.account, prefix, after, limit + 1)
        token = None
        if max_results is not None and len(queues) > limit:
            queues = queues[:limit]
            token = base64.b64encode(json.dumps({"after": queues[-1].name}).encode()).decode()
        return [ctx.queue_url(q.account, q.name) for q in queues[:limit]], token

    async def delete_queue(self, ctx: RequestContext, queue_url: str) -> None:
        queue = await self.resolve(ctx, queue_url)
        await self.store.delete_queue(queue.account, queue.name, self.clock.now_ms())

    async def get_attributes(self, ctx: RequestContext, queue_url: str, names: Sequence[str]) -> dict[str, str]:
        queue = await self.resolve(ctx, queue_url)
        qa.check_readable(names)
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
        queue = await self.resolve(ctx, queue_url)
        attrs = qa.updated_attributes(queue.attributes, attributes)
        if "RedrivePolicy" in attributes and attrs.get("RedrivePolicy"):
            await self._check_redrive(ctx, queue.name, queue.fifo, attrs)
        await self.store.update_queue(queue.account, queue.name, attrs, None, self.clock.now_ms())
        self.waiters.notify(queue.queue_id)

    async def tag(self, ctx: RequestContext, queue_url: str, tags: Mapping[str, str]) -> None:
        queue = await self.resolve(ctx, queue_url)
        merged = {**queue.tags, **tags}
        validate_tags(dict(tags))
        if len(merged) > MAX_TAGS:
            raise OverLimit(f"Too many tags added for queue {queue.name}.")
        await self.store.update_queue(queue.account, queue.name, None, merged, self.clock.now_ms())

    async def untag(self, ctx: RequestContext, queue_url: str, keys: Sequence[str]) -> None:
        queue = await self.resolve(ctx, queue_url)
        remaining = {k: v for k, v in queue.tags.items() if k not in set(keys)}
        await self.store.update_queue(queue.account, queue.name, None, remaining, self.clock.now_ms())

    async def list_tags(self, ctx: RequestContext, queue_url: str) -> dict[str, str]:
        return dict((await self.resolve(ctx, queue_url)).tags)

    async def dead_letter_sources(self, ctx: RequestContext, queue_url: str, max_results: int | None,
                                  next_token: str | None) -> tuple[list[str], str | None]:
        dlq = await self.resolve(ctx, queue_url)
        sources = await self.store.dead_letter_sources(dlq.account, dlq.arn)
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
        """AddPermission writes a statement with ``Sid`` = label into the queue's Policy
        attribute (AWS keeps permissions only there)."""
        queue = await self.resolve(ctx, queue_url)
        policy = _policy(queue)
        statements: list[dict[str, Any]] = policy["Statement"]
        if any(s.get("Sid") == label for s in statements):
            raise InvalidParameterValue(
                f"Value {label} for parameter Label is invalid. Reason: Already exists.")
        if not accounts or not actions:
            raise InvalidParameterValue("AWSAccountIds and Actions must not be empty.")
        for action in actions:
            if action != "*" and action not in PERMISSION_ACTIONS:
                raise InvalidParameterValue(
                    f"Value SQS:{action} for parameter ActionName is invalid. Reason: Only the queue owner "
                    "is allowed to invoke this action.")
        principals = [f"arn:aws:iam::{a}:root" for a in accounts]
        acts = [f"SQS:{a}" for a in actions]
        statements.append({
            "Sid": label, "Effect": "Allow",
            "Principal": {"AWS": principals[0] if len(principals) == 1 else principals},
            "Action": acts[0] if len(acts) == 1 else acts, "Resource": queue.arn,
        })
        await self._save_policy(queue, policy)

    async def remove_permission(self, ctx: RequestContext, queue_url: str, label: str) -> None:
        queue = await self.resolve(ctx, queue_url)
        policy = _policy(queue)
        kept = [s for s in policy["Statement"] if s.get("Sid") != label]
        if len(kept) == len(policy["Statement"]):
            raise InvalidParameterValue(
                f"Value {label} for parameter Label is invalid. Reason: can't find label on existing policy.")
        policy["Statement"] = kept
        await self._save_policy(queue, policy if kept else None)

    async def _save_policy(self, queue: Queue, policy: dict[str, Any] | None) -> None:
        attrs = dict(queue.attributes)
        if policy is None:
            attrs.pop("Policy", None)
        else:
            attrs["Policy"] = json.dumps(policy, separators=(",", ":"))
        await self.store.update_queue(queue.account, queue.name, attrs, None, self.clock.now_ms())


def _policy(queue: Queue) -> dict[str, Any]:
    text = queue.attributes.get("Policy")
    if text:
        loaded: dict[str, Any] = json.loads(text)
        loaded.setdefault("Statement", [])
        return loaded
    return {"Version": "2012-10-17", "Id": f"{queue.arn}/SQSDefaultPolicy", "Statement": []}
