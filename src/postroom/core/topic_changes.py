"""Changes to a topic and its subscriptions, as pure functions of what is stored.

SetTopicAttributes, TagResource, UntagResource, AddPermission and RemovePermission on a
topic, and SetSubscriptionAttributes and ConfirmSubscription on a subscription, each
return a mutation that the store applies to the current row inside the transaction that
writes it, so concurrent changes never overwrite one another (see
:mod:`postroom.core.queue_changes`).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

from postroom.core import subscription_attributes as sa
from postroom.core import topic_attributes as ta
from postroom.core.sns_model import Subscription, SubscriptionMutation, Topic, TopicChange, TopicMutation
from postroom.errors import InvalidParameter, TagLimitExceeded

MAX_TAGS = 50
"""AWS: at most 50 tags per topic; keys 1–128 characters, values up to 256."""


def set_attribute(name: str, value: str | None) -> TopicMutation:
    def change(topic: Topic) -> TopicChange:
        return TopicChange(attributes=ta.updated_attributes(topic.attributes, name, value or ""))

    return change


def tag(tags: Mapping[str, str]) -> TopicMutation:
    added = dict(tags)
    for key, value in added.items():
        if not 1 <= len(key) <= 128 or len(value) > 256 or key.lower().startswith("aws:"):
            raise InvalidParameter(f"Invalid parameter: Tags Reason: invalid tag {key!r}")

    def change(topic: Topic) -> TopicChange:
        merged = {**topic.tags, **added}
        if len(merged) > MAX_TAGS:
            raise TagLimitExceeded("Could not complete request: tag quota of per resource exceeded")
        return TopicChange(tags=merged)

    return change


def untag(keys: Sequence[str]) -> TopicMutation:
    gone = frozenset(keys)

    def change(topic: Topic) -> TopicChange:
        return TopicChange(tags={k: v for k, v in topic.tags.items() if k not in gone})

    return change


def add_permission(label: str, accounts: Sequence[str], actions: Sequence[str]) -> TopicMutation:
    """AddPermission adds a statement with ``Sid`` = label to the topic's Policy (the
    default policy when none was set); an existing label is InvalidParameter."""
    if not accounts or not actions:
        raise InvalidParameter("Invalid parameter: AWSAccountId and ActionName must not be empty")
    statement = {"Sid": label, "Effect": "Allow", "Principal": {"AWS": [f"arn:aws:iam::{a}:root" for a in accounts]},
                 "Action": [f"SNS:{a}" for a in actions]}

    def change(topic: Topic) -> TopicChange:
        policy = _policy(topic)
        statements: list[dict[str, Any]] = policy.setdefault("Statement", [])
        if any(st.get("Sid") == label for st in statements):
            raise InvalidParameter("Invalid parameter: Statement already exists")
        statements.append({**statement, "Resource": topic.arn})
        return TopicChange(attributes={**topic.attributes, "Policy": json.dumps(policy)})

    return change


def remove_permission(label: str) -> TopicMutation:
    def change(topic: Topic) -> TopicChange:
        policy = _policy(topic)
        kept = [st for st in policy.get("Statement", []) if st.get("Sid") != label]
        if len(kept) == len(policy.get("Statement", [])):
            raise InvalidParameter("Invalid parameter: Statement does not exist")
        policy["Statement"] = kept
        return TopicChange(attributes={**topic.attributes, "Policy": json.dumps(policy)})

    return change


def _policy(topic: Topic) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(topic.attributes.get("Policy")
                                        or ta.default_topic_policy(topic.arn, topic.account))
    return loaded


def apply(topic: Topic, change: TopicChange) -> Topic:
    return replace(topic, attributes=dict(change.attributes) if change.attributes is not None else topic.attributes,
                   tags=dict(change.tags) if change.tags is not None else topic.tags)


def set_subscription_attribute(name: str, value: str | None, topic_fifo: bool) -> SubscriptionMutation:
    """SetSubscriptionAttributes: one attribute validated and applied over the current ones."""

    def change(sub: Subscription) -> Subscription:
        attrs = sa.updated_subscription_attributes(sub.protocol, sub.attributes, name, value or "",
                                                   topic_fifo=topic_fifo, endpoint=sub.endpoint)
        return replace(sub, attributes=attrs)

    return change


def confirm(sub: Subscription) -> Subscription:
    """ConfirmSubscription with the subscription's token: it becomes confirmed (again, harmlessly)."""
    return replace(sub, confirmed=True)
