"""Changes to a queue's settable state, as pure functions of the queue as stored.

SetQueueAttributes, TagQueue, UntagQueue, AddPermission and RemovePermission each change
part of a queue. Each action here returns a :data:`~postroom.core.model.QueueMutation`
that the store applies to the current row inside the transaction that writes it, so two
concurrent changes (one setting VisibilityTimeout, another DelaySeconds; two
AddPermission calls) both survive. Any error raised here (a duplicate label, too many
tags) is raised inside that transaction and changes nothing.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from postroom.core import queue_attributes as qa
from postroom.core.model import Queue, QueueChange, QueueMutation
from postroom.core.validate import validate_tags
from postroom.errors import InvalidParameterValue, OverLimit

MAX_TAGS = 50
"""AWS: "Amazon SQS supports up to 50 tags per queue"; more is OverLimit."""

PERMISSION_ACTIONS = frozenset({
    "SendMessage", "ReceiveMessage", "DeleteMessage", "ChangeMessageVisibility", "GetQueueAttributes",
    "GetQueueUrl", "ListDeadLetterSourceQueues", "PurgeQueue", "ListQueueTags",
    "SendMessageBatch", "DeleteMessageBatch", "ChangeMessageVisibilityBatch",
})
"""AWS: AddPermission may grant these actions (or ``*``); the others are owner-only."""


def set_attributes(raw: Mapping[str, str]) -> QueueMutation:
    """SetQueueAttributes: the given attributes validated and applied over the current ones."""
    wanted = dict(raw)

    def change(queue: Queue) -> QueueChange:
        return QueueChange(attributes=qa.updated_attributes(queue.attributes, wanted))

    return change


def tag(tags: Mapping[str, str]) -> QueueMutation:
    """TagQueue: the new tags merged over the current ones; more than 50 in all is OverLimit."""
    added = dict(tags)
    validate_tags(added)

    def change(queue: Queue) -> QueueChange:
        merged = {**queue.tags, **added}
        if len(merged) > MAX_TAGS:
            raise OverLimit(f"Too many tags added for queue {queue.name}.")
        return QueueChange(tags=merged)

    return change


def untag(keys: Sequence[str]) -> QueueMutation:
    """UntagQueue: the named tags removed; a key the queue does not have is ignored."""
    gone = frozenset(keys)

    def change(queue: Queue) -> QueueChange:
        return QueueChange(tags={k: v for k, v in queue.tags.items() if k not in gone})

    return change


def add_permission(label: str, accounts: Sequence[str], actions: Sequence[str]) -> QueueMutation:
    """AddPermission writes a statement with ``Sid`` = label into the queue's Policy
    attribute (AWS keeps permissions only there). A label already in the policy is
    InvalidParameterValue "Already exists"."""
    if not accounts or not actions:
        raise InvalidParameterValue("AWSAccountIds and Actions must not be empty.")
    for action in actions:
        if action != "*" and action not in PERMISSION_ACTIONS:
            raise InvalidParameterValue(
                f"Value SQS:{action} for parameter ActionName is invalid. Reason: Only the queue owner "
                "is allowed to invoke this action.")
    principals = [f"arn:aws:iam::{a}:root" for a in accounts]
    acts = [f"SQS:{a}" for a in actions]

    def change(queue: Queue) -> QueueChange:
        policy = _policy(queue)
        statements: list[dict[str, Any]] = policy["Statement"]
        if any(s.get("Sid") == label for s in statements):
            raise InvalidParameterValue(f"Value {label} for parameter Label is invalid. Reason: Already exists.")
        statements.append({
            "Sid": label, "Effect": "Allow",
            "Principal": {"AWS": principals[0] if len(principals) == 1 else principals},
            "Action": acts[0] if len(acts) == 1 else acts, "Resource": queue.arn,
        })
        return QueueChange(attributes=_with_policy(queue, policy))

    return change


def remove_permission(label: str) -> QueueMutation:
    """RemovePermission drops the statement with ``Sid`` = label; the Policy attribute
    goes away with its last statement. An unknown label is InvalidParameterValue."""

    def change(queue: Queue) -> QueueChange:
        policy = _policy(queue)
        kept = [s for s in policy["Statement"] if s.get("Sid") != label]
        if len(kept) == len(policy["Statement"]):
            raise InvalidParameterValue(
                f"Value {label} for parameter Label is invalid. Reason: can't find label on existing policy.")
        policy["Statement"] = kept
        return QueueChange(attributes=_with_policy(queue, policy if kept else None))

    return change


def _policy(queue: Queue) -> dict[str, Any]:
    text = queue.attributes.get("Policy")
    if text:
        loaded: dict[str, Any] = json.loads(text)
        loaded.setdefault("Statement", [])
        return loaded
    return {"Version": "2012-10-17", "Id": f"{queue.arn}/SQSDefaultPolicy", "Statement": []}


def _with_policy(queue: Queue, policy: dict[str, Any] | None) -> dict[str, str]:
    attrs = dict(queue.attributes)
    if policy is None:
        attrs.pop("Policy", None)
    else:
        attrs["Policy"] = json.dumps(policy, separators=(",", ":"))
    return attrs


def apply(queue: Queue, change: QueueChange, now_ms: int) -> Queue:
    """The queue after ``change``: attributes move LastModifiedTimestamp, tags do not."""
    attributes = change.attributes if change.attributes is not None else queue.attributes
    tags = change.tags if change.tags is not None else queue.tags
    modified = now_ms if change.attributes is not None else queue.modified_ms
    return Queue(queue.queue_id, queue.account, queue.region, queue.name, dict(attributes), dict(tags),
                 queue.created_ms, modified)
