"""Changes to a topic and its subscriptions, as pure functions of what is stored.

SetTopicAttributes, TagResource, UntagResource, AddPermission and RemovePermission on a
topic, and SetSubscriptionAttributes and ConfirmSubscription on a subscription, each
return a mutation that the store applies to the current row inside the transaction that
writes it, so concurrent changes never overwrite one another (see
:mod:`postroom.core.sqs.queue_changes`).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

from postroom.core.sns import subscription_attributes as sa
from postroom.core.sns import topic_attributes as ta
from postroom.core.sns.model import Subscription, SubscriptionMutation, Topic, TopicChange, TopicMutation
from postroom.errors import InvalidParameter, TagLimitExceeded

MAX_TAGS = 50
"""AWS: at most 50 tags per topic; keys 1–128 characters, values up to 256."""


def set_attribute(name: str, value: str | None) -> TopicMutation:
    def change(topic: Topic) -> TopicChange:
        return TopicChange(attributes=ta.updated_attributes(topic.attributes, name, value or ""))

    return change


DUPLICATE_TAG_KEYS = "Invalid parameter: Duplicated keys are not allowed."
"""AWS (InvalidParameter), for a TagResource or CreateTopic naming one key twice
(LocalStack's AWS-validated test_tags snapshot)."""


def tag_map(pairs: Sequence[tuple[str, str]]) -> dict[str, str]:
    """A request's ``Tags`` list as a map; a key given twice is InvalidParameter
    :data:`DUPLICATE_TAG_KEYS`, even with the same value."""
    out: dict[str, str] = {}
    for key, value in pairs:
        if key in out:
            raise InvalidParameter(DUPLICATE_TAG_KEYS)
        out[key] = value
    return out


def check_tags(tags: Mapping[str, str]) -> None:
    """Tags as CreateTopic or TagResource give them: keys of 1–128 characters, not starting
    with the reserved ``aws:``, values up to 256; at most :data:`MAX_TAGS` in one request
    (TagLimitExceeded, as for a topic that would hold more)."""
    for key, value in tags.items():
        if not 1 <= len(key) <= 128 or len(value) > 256 or key.lower().startswith("aws:"):
            raise InvalidParameter(f"Invalid parameter: Tags Reason: invalid tag {key!r}")
    if len(tags) > MAX_TAGS:
        raise TagLimitExceeded("Could not complete request: tag quota of per resource exceeded")


def tag(tags: Mapping[str, str]) -> TopicMutation:
    added = dict(tags)
    check_tags(added)

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


TOPIC_POLICY_ACTIONS = frozenset({
    "GetTopicAttributes", "SetTopicAttributes", "AddPermission", "RemovePermission", "DeleteTopic", "Subscribe",
    "ListSubscriptionsByTopic", "Publish", "Receive"})
"""The actions a topic's policy may grant: the eight of the default policy, and Receive.
Any other name (``CreateTopic``, ``*``) is refused by SNS with InvalidParameter "Invalid
parameter: Policy statement action out of service scope!" (the message AWS users report for
topic policies granting ``sns:*``)."""
OUT_OF_SCOPE = "Invalid parameter: Policy statement action out of service scope!"


def add_permission(label: str, accounts: Sequence[str], actions: Sequence[str]) -> TopicMutation:
    """AddPermission adds a statement with ``Sid`` = label to the topic's Policy (the
    default policy when none was set), in AWS's shape::

        {"Sid": label, "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::<account>:root"},
         "Action": "SNS:Publish", "Resource": <topic arn>}

    ``Principal.AWS`` and ``Action`` are a plain string for one account / one action and a
    list for several. A label already used by a statement is InvalidParameter "Invalid
    parameter: Statement already exists"; an action a topic policy cannot grant is
    :data:`OUT_OF_SCOPE`."""
    if not accounts or not actions:
        raise InvalidParameter("Invalid parameter: AWSAccountId and ActionName must not be empty")
    if any(a not in TOPIC_POLICY_ACTIONS for a in actions):
        raise InvalidParameter(OUT_OF_SCOPE)
    principals = [f"arn:aws:iam::{a}:root" for a in accounts]
    granted = [f"SNS:{a}" for a in actions]
    statement: dict[str, Any] = {
        "Sid": label, "Effect": "Allow", "Principal": {"AWS": principals[0] if len(principals) == 1 else principals},
        "Action": granted[0] if len(granted) == 1 else granted}

    def change(topic: Topic) -> TopicChange:
        policy = _policy(topic)
        statements = _statements(policy)
        if any(isinstance(st, dict) and st.get("Sid") == label for st in statements):
            raise InvalidParameter("Invalid parameter: Statement already exists")
        statements.append({**statement, "Resource": topic.arn})
        return TopicChange(attributes={**topic.attributes, "Policy": json.dumps(policy)})

    return change


def remove_permission(label: str) -> TopicMutation:
    """RemovePermission drops the statement whose ``Sid`` is the label. A label no statement
    has changes nothing and succeeds (as moto, whose tests say "deleting non existing
    permission should be successful")."""

    def change(topic: Topic) -> TopicChange:
        policy = _policy(topic)
        statements = _statements(policy)
        kept = [st for st in statements if not (isinstance(st, dict) and st.get("Sid") == label)]
        if len(kept) == len(statements):
            return TopicChange()
        policy["Statement"] = kept
        return TopicChange(attributes={**topic.attributes, "Policy": json.dumps(policy)})

    return change


def _statements(policy: dict[str, Any]) -> list[Any]:
    """The policy's ``Statement`` as a list, whatever SetTopicAttributes stored (any JSON object is
    accepted there): one statement object becomes a list of it, anything else no statement."""
    statements = policy.get("Statement")
    if isinstance(statements, dict):
        statements = [statements]
    elif not isinstance(statements, list):
        statements = []
    policy["Statement"] = statements
    return statements


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
