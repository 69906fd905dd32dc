"""Does an SQS queue's access policy let an SNS topic deliver to it?

AWS delivers from a topic to a queue only when the queue's Policy allows the SNS service principal
(or everyone) ``sqs:SendMessage`` on the queue, normally restricted by a condition on the topic's
ARN (``aws:SourceArn`` with ArnEquals / ArnLike / StringEquals / StringLike) or account
(``aws:SourceAccount``, ``aws:SourceOwner``). The policy is judged by the server's own evaluator,
:mod:`postroom.core.policy`, so this check reports the verdict postroom enforces on deliveries
(an explicit Deny wins, as in IAM).

When the topic's ARN is not known (it is only declared, not live yet) it is taken to be in the
queue's account and region, as the topology tool creates it; when neither ARN is known, a statement
that depends on them makes the answer ``unknown`` rather than a false alarm.
"""

from __future__ import annotations

import json
from typing import Literal

from postroom.core.policy import Decision, parse_policy, sns_delivery, sns_delivery_request
from postroom.core.policy import evaluate as evaluate_policy

Verdict = Literal["allowed", "denied", "unknown"]


def _guess(arn: str | None, service: str, name: str) -> str | None:
    """The ARN of ``name`` in the same region and account as ``arn`` (another service's)."""
    parts = (arn or "").split(":")
    if len(parts) != 6:
        return None
    return f"arn:aws:{service}:{parts[3]}:{parts[4]}:{name}"


def decision(policy: str, queue: str, queue_arn: str | None, topic: str, topic_arn: str | None) -> Decision:
    """The evaluator's decision on the topic's delivery to the queue, as AWS takes it (the
    queue's policy must allow SNS)."""
    queue_arn = queue_arn or _guess(topic_arn, "sqs", queue)
    topic_arn = topic_arn or _guess(queue_arn, "sns", topic)
    return evaluate_policy(policy, sns_delivery_request(queue_arn, topic_arn))


def evaluate(policy: str, queue: str, queue_arn: str | None, topic: str, topic_arn: str | None) -> Verdict:
    """AWS's verdict: ``allowed``, ``denied`` (explicitly, or for want of an Allow), or ``unknown``."""
    if parse_policy(policy) is None:
        return "unknown"
    effect = decision(policy, queue, queue_arn, topic, topic_arn).effect
    return "allowed" if effect == "Allow" else "unknown" if effect == "Unknown" else "denied"


def postroom_delivers(policy: str | None, queue_arn: str | None, topic_arn: str | None) -> bool | None:
    """What the postroom server does with the delivery (:func:`postroom.core.policy.sns_delivery`:
    within one account only an explicit Deny refuses it; across accounts an Allow is needed), or
    ``None`` when the ARNs are not known."""
    if not queue_arn or not topic_arn:
        return None
    return sns_delivery(policy, queue_arn, topic_arn).allowed


def statement_for(queue: str, topic: str, queue_arn: str | None, topic_arn: str | None) -> str:
    """A statement that lets the topic deliver, for the fix text."""
    return json.dumps({
        "Effect": "Allow", "Principal": {"Service": "sns.amazonaws.com"}, "Action": "sqs:SendMessage",
        "Resource": queue_arn or f"arn:aws:sqs:REGION:ACCOUNT:{queue}",
        "Condition": {"ArnEquals": {"aws:SourceArn": topic_arn or f"arn:aws:sns:REGION:ACCOUNT:{topic}"}},
    }, separators=(",", ":"))
