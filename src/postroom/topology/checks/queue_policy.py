"""Does an SQS queue's access policy let an SNS topic deliver to it?

AWS delivers from a topic to a queue only when the queue's Policy allows the SNS service principal
(or everyone) ``sqs:SendMessage`` on the queue, normally restricted by a condition on the topic's
ARN (``aws:SourceArn`` with ArnEquals / ArnLike / StringEquals / StringLike). This evaluates simple
statements of that shape; an explicit Deny that matches wins, as in IAM. Conditions on other keys
(aws:SourceAccount, aws:SourceOrgID, …) cannot be judged from the topology: a statement that has
them makes the answer ``unknown`` rather than a false alarm.

When the topic's ARN is not known (it is only declared, not live yet) the ARN is compared by its
last segment, the topic name.
"""

from __future__ import annotations

import json
from fnmatch import fnmatchcase
from typing import Any, Literal

Verdict = Literal["allowed", "denied", "unknown"]
_SOURCE_KEYS = {"aws:sourcearn"}
_OPERATORS = {"arnequals", "arnlike", "stringequals", "stringlike"}


def _list(v: Any) -> list[Any]:
    return v if isinstance(v, list) else [v]


def _principal_ok(p: Any) -> bool:
    if p == "*":
        return True
    if isinstance(p, dict):
        return any(x == "*" or x == "sns.amazonaws.com" for k in ("Service", "AWS") for x in _list(p.get(k, [])))
    return False


def _action_ok(a: Any) -> bool:
    return any(fnmatchcase("sqs:sendmessage", str(x).lower()) for x in _list(a))


def _resource_ok(r: Any, queue_arn: str | None, queue: str) -> bool:
    if r is None:
        return True
    for x in _list(r):
        x = str(x)
        if x == "*" or (queue_arn and fnmatchcase(queue_arn, x)) or fnmatchcase(queue, x.rsplit(":", 1)[-1]):
            return True
    return False


def _arn_matches(value: str, op: str, topic_arn: str | None, topic: str) -> bool:
    like = op.endswith("like")
    if topic_arn:
        return fnmatchcase(topic_arn, value) if like else topic_arn == value
    last = value.rsplit(":", 1)[-1]
    return fnmatchcase(topic, last) if like else last == topic


def _condition(cond: Any, topic_arn: str | None, topic: str) -> bool | None:
    """True/False when the condition can be judged, None when it names keys we cannot know."""
    if not cond:
        return True
    if not isinstance(cond, dict):
        return None
    ok = True
    for op, body in cond.items():
        opl = str(op).lower()
        if opl not in _OPERATORS or not isinstance(body, dict):
            return None
        for key, values in body.items():
            if str(key).lower() not in _SOURCE_KEYS:
                return None
            if not any(_arn_matches(str(v), opl, topic_arn, topic) for v in _list(values)):
                ok = False
    return ok


def evaluate(policy: str, queue: str, queue_arn: str | None, topic: str, topic_arn: str | None) -> Verdict:
    try:
        doc = json.loads(policy)
        statements = _list(doc.get("Statement", []))
    except (ValueError, AttributeError):
        return "unknown"
    allowed, unknown = False, False
    for st in statements:
        if not isinstance(st, dict) or "NotPrincipal" in st or "NotAction" in st or "NotResource" in st:
            unknown = True
            continue
        if not (_principal_ok(st.get("Principal")) and _action_ok(st.get("Action"))
                and _resource_ok(st.get("Resource"), queue_arn, queue)):
            continue
        cond = _condition(st.get("Condition"), topic_arn, topic)
        effect = str(st.get("Effect", "")).lower()
        if effect == "deny" and cond is not False:
            return "denied"
        if effect == "allow":
            if cond is None:
                unknown = True
            elif cond:
                allowed = True
    if allowed:
        return "allowed"
    return "unknown" if unknown else "denied"


def statement_for(queue: str, topic: str, queue_arn: str | None, topic_arn: str | None) -> str:
    """A statement that lets the topic deliver, for the fix text."""
    return json.dumps({
        "Effect": "Allow", "Principal": {"Service": "sns.amazonaws.com"}, "Action": "sqs:SendMessage",
        "Resource": queue_arn or f"arn:aws:sqs:REGION:ACCOUNT:{queue}",
        "Condition": {"ArnEquals": {"aws:SourceArn": topic_arn or f"arn:aws:sns:REGION:ACCOUNT:{topic}"}},
    }, separators=(",", ":"))
