"""The JSON-valued queue attributes ``RedrivePolicy`` and ``RedriveAllowPolicy``.

AWS docs: *Amazon SQS API Reference* › SetQueueAttributes (Attributes: RedrivePolicy,
RedriveAllowPolicy) and *Amazon SQS Developer Guide* › "Using dead-letter queues".
Both are stored in a canonical compact JSON form so equal requests compare equal.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any, Final

from postroom.core import limits
from postroom.core.arns import parse_queue_arn
from postroom.core.model import RedrivePolicy
from postroom.core.numbers import decimal_int
from postroom.errors import InvalidParameterValue

REDRIVE_PERMISSIONS: Final = ("allowAll", "denyAll", "byQueue")
_INTEGER: Final = re.compile(r"[+-]?[0-9]+")


def _invalid(attribute: str, text: str, reason: str) -> InvalidParameterValue:
    return InvalidParameterValue(f"Value {text} for parameter {attribute} is invalid. Reason: {reason}")


def _json_object(attribute: str, text: str, what: str) -> dict[str, Any]:
    try:
        loaded = json.loads(text)
    except (ValueError, RecursionError):
        loaded = None
    if not isinstance(loaded, dict):
        raise _invalid(attribute, text, f"{what} is not a valid JSON map.")
    return loaded


def canonical_redrive_policy(text: str) -> str:
    """``RedrivePolicy``: a JSON map with ``deadLetterTargetArn`` (a queue ARN) and
    ``maxReceiveCount`` (1–1,000, given as a number or a numeric string). Returned as
    ``{"deadLetterTargetArn":"…","maxReceiveCount":5}``, the form GetQueueAttributes
    shows. Errors are InvalidParameterValue, as AWS gives them."""
    policy = _json_object("RedrivePolicy", text, "Redrive policy")
    for key in ("deadLetterTargetArn", "maxReceiveCount"):
        if key not in policy:
            raise _invalid("RedrivePolicy", text, f"Redrive policy does not contain mandatory attribute: {key}.")
    unknown = sorted(set(policy) - {"deadLetterTargetArn", "maxReceiveCount"})
    if unknown:
        raise _invalid("RedrivePolicy", text, f"Only following attributes are supported: "
                       f"[deadLetterTargetArn, maxReceiveCount], found {unknown[0]}.")
    arn = policy["deadLetterTargetArn"]
    if not isinstance(arn, str):
        raise _invalid("RedrivePolicy", text, "Invalid value for deadLetterTargetArn.")
    try:
        parse_queue_arn(arn, "RedrivePolicy")
    except InvalidParameterValue:
        raise _invalid("RedrivePolicy", text, "Invalid value for deadLetterTargetArn.") from None
    count = _int_value(policy["maxReceiveCount"])
    if count is None or not limits.MAX_RECEIVE_COUNT_MIN <= count <= limits.MAX_RECEIVE_COUNT_MAX:
        raise _invalid("RedrivePolicy", text,
                       f"Invalid value for maxReceiveCount: {policy['maxReceiveCount']}, valid values are "
                       f"from {limits.MAX_RECEIVE_COUNT_MIN} to {limits.MAX_RECEIVE_COUNT_MAX} both inclusive.")
    return json.dumps({"deadLetterTargetArn": arn, "maxReceiveCount": count}, separators=(",", ":"))


def _int_value(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and _INTEGER.fullmatch(value.strip()):
        return decimal_int(value, signed=True)  # None beyond 40 digits
    return None


def parse_redrive_policy(text: str) -> RedrivePolicy:
    """The record of an already-canonical ``RedrivePolicy``."""
    policy = json.loads(canonical_redrive_policy(text))
    return RedrivePolicy(policy["deadLetterTargetArn"], policy["maxReceiveCount"])


def canonical_redrive_allow_policy(text: str) -> str:
    """``RedriveAllowPolicy``: which source queues may use this queue as their
    dead-letter queue. ``redrivePermission`` is ``allowAll`` (the default), ``denyAll``
    or ``byQueue``; ``sourceQueueArns`` lists up to 10 queue ARNs and is required with
    ``byQueue`` and not allowed otherwise."""
    policy = _json_object("RedriveAllowPolicy", text, "Redrive allow policy")
    permission = policy.get("redrivePermission")
    if permission not in REDRIVE_PERMISSIONS:
        raise _invalid("RedriveAllowPolicy", text,
                       "redrivePermission must be one of allowAll, denyAll, byQueue.")
    unknown = sorted(set(policy) - {"redrivePermission", "sourceQueueArns"})
    if unknown:
        raise _invalid("RedriveAllowPolicy", text, f"Unknown attribute {unknown[0]} in redrive allow policy.")
    out: dict[str, Any] = {"redrivePermission": permission}
    sources = policy.get("sourceQueueArns")
    if permission == "byQueue":
        if not isinstance(sources, list) or not sources:
            raise _invalid("RedriveAllowPolicy", text,
                           "sourceQueueArns must be specified when redrivePermission is byQueue.")
        if len(sources) > limits.MAX_REDRIVE_ALLOW_SOURCE_ARNS:
            raise _invalid("RedriveAllowPolicy", text,
                           f"Up to {limits.MAX_REDRIVE_ALLOW_SOURCE_ARNS} sourceQueueArns are allowed.")
        for arn in sources:
            if not isinstance(arn, str):
                raise _invalid("RedriveAllowPolicy", text, "sourceQueueArns must be a list of queue ARNs.")
            try:
                parse_queue_arn(arn, "RedriveAllowPolicy")
            except InvalidParameterValue:
                raise _invalid("RedriveAllowPolicy", text, f"Invalid source queue ARN {arn}.") from None
        out["sourceQueueArns"] = list(sources)
    elif sources is not None:
        raise _invalid("RedriveAllowPolicy", text,
                       "sourceQueueArns can only be specified when redrivePermission is byQueue.")
    return json.dumps(out, separators=(",", ":"))


def allows_source(allow_policy: Mapping[str, Any] | None, source_arn: str) -> bool:
    """Whether a parsed ``RedriveAllowPolicy`` lets ``source_arn`` redrive into the queue."""
    if allow_policy is None:
        return True
    permission = allow_policy.get("redrivePermission")
    if permission == "byQueue":
        return source_arn in allow_policy.get("sourceQueueArns", [])
    return permission != "denyAll"
