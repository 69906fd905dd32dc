"""Queue attributes: which can be set, their AWS defaults, their rules, and their
canonical string form.

AWS docs: *Amazon SQS API Reference* › CreateQueue, SetQueueAttributes and
GetQueueAttributes. Values are kept as GetQueueAttributes returns them (strings), with
every default filled in, so that two CreateQueue requests asking for the same queue
yield identical dicts (CreateQueue is idempotent only for identical attributes).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping
from typing import Final

from postroom.core import limits
from postroom.core.model import RedrivePolicy
from postroom.core.sqs.redrive import canonical_redrive_allow_policy, canonical_redrive_policy, parse_redrive_policy
from postroom.core.sqs.validate import FIFO_NAME_MESSAGE, STANDARD_NAME_MESSAGE
from postroom.errors import InvalidAttributeName, InvalidAttributeValue, InvalidParameterValue

DEFAULTS_STANDARD: Final[dict[str, str]] = {
    "DelaySeconds": "0",
    "MaximumMessageSize": str(limits.MAX_MESSAGE_SIZE),
    "MessageRetentionPeriod": str(limits.RETENTION_DEFAULT),
    "ReceiveMessageWaitTimeSeconds": "0",
    "VisibilityTimeout": str(limits.VISIBILITY_TIMEOUT_DEFAULT),
    "SqsManagedSseEnabled": "true",
}
DEFAULTS_FIFO: Final[dict[str, str]] = {
    **DEFAULTS_STANDARD,
    "FifoQueue": "true",
    "ContentBasedDeduplication": "false",
    "DeduplicationScope": "queue",
    "FifoThroughputLimit": "perQueue",
}

INTEGER_RANGES: Final[dict[str, tuple[int, int]]] = {
    "DelaySeconds": (limits.DELAY_SECONDS_MIN, limits.DELAY_SECONDS_MAX),
    "MaximumMessageSize": (limits.MIN_MAXIMUM_MESSAGE_SIZE, limits.MAX_MESSAGE_SIZE),
    "MessageRetentionPeriod": (limits.RETENTION_MIN, limits.RETENTION_MAX),
    "ReceiveMessageWaitTimeSeconds": (limits.RECEIVE_WAIT_MIN, limits.RECEIVE_WAIT_MAX),
    "VisibilityTimeout": (limits.VISIBILITY_TIMEOUT_MIN, limits.VISIBILITY_TIMEOUT_MAX),
    "KmsDataKeyReusePeriodSeconds": (limits.KMS_REUSE_MIN, limits.KMS_REUSE_MAX),
}
FIFO_ONLY: Final = ("FifoQueue", "ContentBasedDeduplication", "DeduplicationScope", "FifoThroughputLimit")
CHOICES: Final[dict[str, tuple[str, ...]]] = {
    "DeduplicationScope": ("messageGroup", "queue"),
    "FifoThroughputLimit": ("perQueue", "perMessageGroupId"),
}
BOOLEANS: Final = ("ContentBasedDeduplication", "SqsManagedSseEnabled")
CLEARABLE: Final = ("Policy", "RedrivePolicy", "RedriveAllowPolicy", "KmsMasterKeyId")
"""Attributes SetQueueAttributes removes when given the empty string."""
SETTABLE: Final = (*INTEGER_RANGES, *FIFO_ONLY, *BOOLEANS, *CLEARABLE)

COMPUTED_ATTRIBUTE_NAMES: Final = (
    "ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible", "ApproximateNumberOfMessagesDelayed",
    "CreatedTimestamp", "LastModifiedTimestamp", "QueueArn",
)
READABLE_ATTRIBUTE_NAMES: Final = ("All", *dict.fromkeys((*SETTABLE, *COMPUTED_ATTRIBUTE_NAMES)))
"""Every name GetQueueAttributes accepts (botocore's ``QueueAttributeName``)."""

_INTEGER: Final = re.compile(r"[+-]?[0-9]+")


def _unknown(name: str) -> InvalidAttributeName:
    return InvalidAttributeName(f"Unknown Attribute {name}.")


def _bad_value(name: str) -> InvalidAttributeValue:
    return InvalidAttributeValue(f"Invalid value for the parameter {name}.")


def _canonical_integer(name: str, value: str) -> str:
    lo, hi = INTEGER_RANGES[name]
    text = value.strip()
    if _INTEGER.fullmatch(text) is None or len(text) > 40 or not lo <= int(text) <= hi:
        raise _bad_value(name)
    return str(int(text))


def _canonical_boolean(name: str, value: str) -> str:
    lowered = value.strip().lower()
    if lowered not in ("true", "false"):
        raise _bad_value(name)
    return lowered


def _canonical_choice(name: str, value: str) -> str:
    if value not in CHOICES[name]:
        raise _bad_value(name)
    return value


def _canonical_policy(name: str, value: str) -> str:
    """``Policy`` is an IAM policy document; AWS rejects text that is not a JSON object."""
    try:
        loaded = json.loads(value)
    except (ValueError, RecursionError):
        loaded = None
    if not isinstance(loaded, dict):
        raise _bad_value(name)
    return json.dumps(loaded, separators=(",", ":"))


def _canonical_kms_key(name: str, value: str) -> str:
    if len(value) > 2048:
        raise _bad_value(name)
    return value


_CANONICAL: Final[dict[str, Callable[[str, str], str]]] = {
    **{name: _canonical_integer for name in INTEGER_RANGES},
    **{name: _canonical_boolean for name in BOOLEANS},
    **{name: _canonical_choice for name in CHOICES},
    "Policy": _canonical_policy,
    "RedrivePolicy": lambda _name, value: canonical_redrive_policy(value),
    "RedriveAllowPolicy": lambda _name, value: canonical_redrive_allow_policy(value),
    "KmsMasterKeyId": _canonical_kms_key,
}


def _apply(attrs: dict[str, str], raw: Mapping[str, str], fifo: bool) -> None:
    """Validate and merge ``raw`` (minus FifoQueue) into ``attrs``; the empty string
    removes a clearable attribute."""
    for name, value in raw.items():
        if name == "FifoQueue":
            continue
        if name not in _CANONICAL:
            raise _unknown(name)
        if name in FIFO_ONLY and not fifo:
            raise _unknown(name)
        if not isinstance(value, str):
            raise _bad_value(name)
        if name in CLEARABLE and value == "":
            attrs.pop(name, None)
            continue
        attrs[name] = _CANONICAL[name](name, value)
    if raw.get("KmsMasterKeyId"):
        # SSE-KMS and SSE-SQS are exclusive: a KMS key turns managed SSE off … Asking for
        # both is InvalidAttributeName (the code AWS answered with, recorded in LocalStack's
        # test_sse_kms_and_sqs_are_mutually_exclusive snapshot), not InvalidAttributeValue.
        if raw.get("SqsManagedSseEnabled", "").strip().lower() == "true":
            raise InvalidAttributeName(
                "You can use one type of server-side encryption (SSE) at one time. You can either enable "
                "KMS SSE or SQS SSE.")
        attrs["SqsManagedSseEnabled"] = "false"
        attrs.setdefault("KmsDataKeyReusePeriodSeconds", str(limits.KMS_REUSE_DEFAULT))
    elif attrs.get("SqsManagedSseEnabled") == "true" and "SqsManagedSseEnabled" in raw:
        # … and turning managed SSE on drops the KMS key.
        attrs.pop("KmsMasterKeyId", None)


def creation_attributes(name: str, raw: Mapping[str, str]) -> dict[str, str]:
    """CreateQueue ``Attributes`` → the queue's full attribute set.

    ``FifoQueue`` can only be given at creation: ``true`` makes a FIFO queue and needs a
    ``.fifo`` name; absent makes a standard queue, which a ``.fifo`` name cannot be
    (InvalidParameterValue with the queue-name rule). AWS rejects ``FifoQueue=false``
    outright with InvalidAttributeName "Unknown Attribute FifoQueue." (reported against
    the service in aws/aws-sdk-php#1331).
    FIFO-only attributes on a standard queue and unknown names are InvalidAttributeName
    "Unknown Attribute X."; bad values are InvalidAttributeValue "Invalid value for the
    parameter X." (RedrivePolicy / RedriveAllowPolicy errors are InvalidParameterValue).
    """
    fifo_text = raw.get("FifoQueue")
    fifo = False
    if fifo_text is not None:
        fifo = _canonical_boolean("FifoQueue", fifo_text) == "true"
    if fifo != name.endswith(limits.FIFO_SUFFIX):
        raise InvalidParameterValue(FIFO_NAME_MESSAGE if fifo else STANDARD_NAME_MESSAGE)
    if fifo_text is not None and not fifo:
        # AWS knows FifoQueue only on FIFO queues: "false" is "Unknown Attribute FifoQueue."
        raise _unknown("FifoQueue")
    attrs = dict(DEFAULTS_FIFO if fifo else DEFAULTS_STANDARD)
    _apply(attrs, raw, fifo)
    return attrs


MODIFYING_QUEUE_TYPE: Final = ("Invalid value for the parameter FifoQueue. Reason: Modifying queue type is not "
                               "supported.")


def updated_attributes(current: Mapping[str, str], raw: Mapping[str, str]) -> dict[str, str]:
    """SetQueueAttributes: ``current`` with ``raw`` validated and applied; ``""`` removes
    Policy, RedrivePolicy, RedriveAllowPolicy and KmsMasterKeyId (GetQueueAttributes then
    leaves them out, as for a queue that never had them).

    The queue type cannot change, and AWS answers ``FifoQueue`` by queue type (observed,
    LocalStack's AWS-validated test_set_unsupported_attribute_fifo): a standard queue does
    not know the attribute, InvalidAttributeName "Unknown Attribute FifoQueue."; a FIFO
    queue accepts ``true`` as a no-op and refuses ``false`` with InvalidAttributeValue
    "Invalid value for the parameter FifoQueue. Reason: Modifying queue type is not
    supported."; any other value is "Invalid value for the parameter FifoQueue."."""
    fifo = current.get("FifoQueue") == "true"
    wanted = dict(raw)
    if "FifoQueue" in wanted:
        if not fifo:
            raise _unknown("FifoQueue")
        value = wanted.pop("FifoQueue")
        if not isinstance(value, str):
            raise _bad_value("FifoQueue")
        if _canonical_boolean("FifoQueue", value) != "true":
            raise InvalidAttributeValue(MODIFYING_QUEUE_TYPE)
    attrs = dict(current)
    _apply(attrs, wanted, fifo)
    return attrs


def redrive_policy(attrs: Mapping[str, str]) -> RedrivePolicy | None:
    """The queue's dead-letter settings, if it has a RedrivePolicy."""
    text = attrs.get("RedrivePolicy")
    return parse_redrive_policy(text) if text else None


def redrive_allow_policy(attrs: Mapping[str, str]) -> dict[str, object] | None:
    """The queue's parsed RedriveAllowPolicy, if any (absent means allowAll)."""
    text = attrs.get("RedriveAllowPolicy")
    if not text:
        return None
    loaded: dict[str, object] = json.loads(text)
    return loaded


def check_readable(names: Iterable[str], fifo: bool | None = None) -> None:
    """GetQueueAttributes ``AttributeNames``: each must be ``All`` or a queue attribute
    name, else InvalidAttributeName "Unknown Attribute X.". Given ``fifo=False``, the
    FIFO-only names are unknown too: AWS answers "Unknown Attribute FifoQueue." when a
    standard queue is asked for it (aws/aws-sdk-ruby#1350, confirmed by the SDK team)."""
    for name in names:
        if name not in READABLE_ATTRIBUTE_NAMES or (fifo is False and name in FIFO_ONLY):
            raise _unknown(name)


def check_dlq_compatible(source_fifo: bool, dlq_fifo: bool, redrive_policy_text: str | None = None) -> None:
    """AWS Developer Guide › "Using dead-letter queues": "The dead-letter queue of a FIFO
    queue must also be a FIFO queue. Similarly, the dead-letter queue of a standard queue
    must also be a standard queue." Breaches are InvalidParameterValue."""
    if source_fifo != dlq_fifo:
        reason = "Dead-letter queue must be same type of queue as the source."
        if redrive_policy_text is None:
            raise InvalidParameterValue(f"Invalid value for the parameter RedrivePolicy. Reason: {reason}")
        raise InvalidParameterValue(
            f"Value {redrive_policy_text} for parameter RedrivePolicy is invalid. Reason: {reason}")
