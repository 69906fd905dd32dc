"""Topic attributes of Amazon SNS: which can be set, their rules, their canonical string
form, and the ones SNS computes.

AWS docs: *Amazon SNS API Reference* › CreateTopic, SetTopicAttributes and
GetTopicAttributes. Stored values are strings as GetTopicAttributes returns them;
``creation_attributes`` fills the defaults AWS shows for a new topic (``FifoTopic`` and
``ContentBasedDeduplication`` on FIFO topics) but not ``Policy``, ``DisplayName`` or the
computed attributes, which :func:`computed_attributes` supplies at read time.

Errors are InvalidParameter. CreateTopic prefixes its reasons with
``"Invalid parameter: Attributes Reason: "``, SetTopicAttributes with
``"Invalid parameter: "`` (the wording SNS uses for subscription attributes); an unknown
name given to SetTopicAttributes is AWS's "Invalid parameter: AttributeName".
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any, Final

from postroom.core.numbers import decimal_int
from postroom.core.sns.delivery_policy import canonical_topic_delivery_policy, effective_delivery_policy
from postroom.core.sns.validate import validate_topic_name
from postroom.errors import InvalidParameter

__all__ = [
    "COMPUTED",
    "FIFO_ONLY",
    "READABLE",
    "SETTABLE",
    "computed_attributes",
    "creation_attributes",
    "default_topic_policy",
    "effective_delivery_policy",
    "updated_attributes",
]

CREATE_PREFIX: Final = "Invalid parameter: Attributes Reason: "
SET_PREFIX: Final = "Invalid parameter: "

DEFAULTS_FIFO: Final[Mapping[str, str]] = {"FifoTopic": "true", "ContentBasedDeduplication": "false"}
FIFO_ONLY: Final = ("FifoTopic", "ContentBasedDeduplication", "FifoThroughputScope")
"""AWS also offers ArchivePolicy on FIFO topics only; postroom archives standard topics too."""
CHOICES: Final[Mapping[str, tuple[str, ...]]] = {
    "SignatureVersion": ("1", "2"),
    "TracingConfig": ("PassThrough", "Active"),
    "FifoThroughputScope": ("Topic", "MessageGroup"),
}
CLEARABLE: Final = ("Policy", "DeliveryPolicy", "KmsMasterKeyId", "ArchivePolicy", "DataProtectionPolicy")
"""Attributes SetTopicAttributes removes when given the empty string."""
FEEDBACK_PROTOCOLS: Final = ("HTTP", "SQS", "Lambda", "Firehose", "Application")
FEEDBACK_ROLES: Final = tuple(
    f"{p}{kind}FeedbackRoleArn" for p in FEEDBACK_PROTOCOLS for kind in ("Success", "Failure"))
FEEDBACK_RATES: Final = tuple(f"{p}SuccessFeedbackSampleRate" for p in FEEDBACK_PROTOCOLS)
SETTABLE: Final = (
    "DisplayName", "Policy", "DeliveryPolicy", "SignatureVersion", "TracingConfig", "KmsMasterKeyId",
    "ContentBasedDeduplication", "FifoThroughputScope", "ArchivePolicy", *FEEDBACK_ROLES, *FEEDBACK_RATES,
)
"""Names SetTopicAttributes accepts (FifoTopic only at creation)."""
COMPUTED: Final = (
    "TopicArn", "Owner", "SubscriptionsConfirmed", "SubscriptionsPending", "SubscriptionsDeleted",
    "EffectiveDeliveryPolicy",
)
READABLE: Final = ("FifoTopic", *SETTABLE, *COMPUTED)
"""Every name GetTopicAttributes may return."""

MAX_DISPLAY_NAME_LENGTH: Final = 100
MAX_KMS_KEY_LENGTH: Final = 2_048
ARCHIVE_DAYS_MIN: Final = 1
ARCHIVE_DAYS_MAX: Final = 365
UNSUPPORTED: Final = ("DataProtectionPolicy",)
"""Not a topic attribute in postroom: a topic's data-protection policy is set with
PutDataProtectionPolicy or CreateTopic's ``DataProtectionPolicy`` parameter, and read with
GetDataProtectionPolicy."""


def default_topic_policy(topic_arn: str, account: str) -> str:
    """The access policy AWS gives a new topic, as GetTopicAttributes returns it: the owner
    account may use every topic action."""
    return json.dumps({
        "Version": "2008-10-17",
        "Id": "__default_policy_ID",
        "Statement": [{
            "Sid": "__default_statement_ID",
            "Effect": "Allow",
            "Principal": {"AWS": "*"},
            "Action": [
                "SNS:GetTopicAttributes", "SNS:SetTopicAttributes", "SNS:AddPermission", "SNS:RemovePermission",
                "SNS:DeleteTopic", "SNS:Subscribe", "SNS:ListSubscriptionsByTopic", "SNS:Publish",
            ],
            "Resource": topic_arn,
            "Condition": {"StringEquals": {"AWS:SourceOwner": account}},
        }],
    }, separators=(",", ":"))


# ---- per-attribute canonical forms ----------------------------------------------
def _bad(prefix: str, name: str, value: str, reason: str) -> InvalidParameter:
    return InvalidParameter(f"{prefix}{name}: Invalid value [{value}]. {reason}")


def _boolean(prefix: str, name: str, value: str) -> str:
    lowered = value.strip().lower()
    if lowered not in ("true", "false"):
        raise _bad(prefix, name, value, "Must be true or false.")
    return lowered


def _choice(prefix: str, name: str, value: str) -> str:
    if value not in CHOICES[name]:
        raise _bad(prefix, name, value, "Must be one of " + ", ".join(CHOICES[name]) + ".")
    return value


def _display_name(prefix: str, name: str, value: str) -> str:
    if len(value) > MAX_DISPLAY_NAME_LENGTH:
        raise InvalidParameter(f"{prefix}{name}: must be at most {MAX_DISPLAY_NAME_LENGTH} characters long.")
    return value


def _policy(prefix: str, name: str, value: str) -> str:
    """An IAM policy document: a JSON object (stored compacted)."""
    try:
        loaded = json.loads(value)
    except (ValueError, RecursionError):
        loaded = None
    if not isinstance(loaded, dict):
        raise InvalidParameter(f"{prefix}{name}: failed to parse JSON.")
    return json.dumps(loaded, separators=(",", ":"))


def _kms_key(prefix: str, name: str, value: str) -> str:
    if len(value) > MAX_KMS_KEY_LENGTH:
        raise InvalidParameter(f"{prefix}{name}: must be at most {MAX_KMS_KEY_LENGTH} characters long.")
    return value


def _role_arn(prefix: str, name: str, value: str) -> str:
    if not value.startswith("arn:") or len(value.split(":")) < 6:
        raise _bad(prefix, name, value, "Must be an IAM role ARN.")
    return value


def _sample_rate(prefix: str, name: str, value: str) -> str:
    rate = decimal_int(value)
    if rate is None or not 0 <= rate <= 100:
        raise _bad(prefix, name, value, "Must be an integer between 0 and 100.")
    return str(rate)


def _archive_policy(prefix: str, name: str, value: str) -> str:
    """AWS Developer Guide › "Amazon SNS message archiving and replay": ``{"MessageRetentionPeriod":
    "<days>"}``, 1–365 days; ``{}`` turns archiving off (stored as no policy)."""
    try:
        loaded: Any = json.loads(value)
    except (ValueError, RecursionError):
        raise InvalidParameter(f"{prefix}{name}: failed to parse JSON.") from None
    if not isinstance(loaded, dict) or any(key != "MessageRetentionPeriod" for key in loaded):
        raise InvalidParameter(f"{prefix}{name}: must be a JSON object with the single key MessageRetentionPeriod.")
    if not loaded:
        return ""
    days = loaded["MessageRetentionPeriod"]
    text = str(days) if isinstance(days, int | str) and not isinstance(days, bool) else ""
    number = decimal_int(text)
    if number is None or text != text.strip() or not ARCHIVE_DAYS_MIN <= number <= ARCHIVE_DAYS_MAX:
        raise InvalidParameter(
            f"{prefix}{name}: MessageRetentionPeriod must be an integer between {ARCHIVE_DAYS_MIN} and "
            f"{ARCHIVE_DAYS_MAX} (days).")
    return json.dumps({"MessageRetentionPeriod": str(int(text))}, separators=(",", ":"))


_CANONICAL: Final[Mapping[str, Callable[[str, str, str], str]]] = {
    "DisplayName": _display_name,
    "Policy": _policy,
    "DeliveryPolicy": lambda prefix, _name, value: canonical_topic_delivery_policy(value, prefix),
    "SignatureVersion": _choice,
    "TracingConfig": _choice,
    "FifoThroughputScope": _choice,
    "KmsMasterKeyId": _kms_key,
    "ContentBasedDeduplication": _boolean,
    "ArchivePolicy": _archive_policy,
    **{role: _role_arn for role in FEEDBACK_ROLES},
    **{rate: _sample_rate for rate in FEEDBACK_RATES},
}


def _apply(attrs: dict[str, str], name: str, value: str, fifo: bool, prefix: str) -> None:
    if name in UNSUPPORTED:
        raise InvalidParameter(f"{prefix}{name}: set it with PutDataProtectionPolicy (or CreateTopic's "
                               "DataProtectionPolicy parameter).")
    if name in FIFO_ONLY and not fifo:
        raise InvalidParameter(f"{prefix}{name}: {name} can only be set for FIFO topics.")
    if not isinstance(value, str):
        raise InvalidParameter(f"{prefix}{name}: Invalid value.")
    if name in CLEARABLE and value == "":
        attrs.pop(name, None)
        return
    canonical = _CANONICAL[name](prefix, name, value)
    if canonical == "" and name in CLEARABLE:
        attrs.pop(name, None)
    else:
        attrs[name] = canonical


def creation_attributes(name: str, raw: Mapping[str, str] | None) -> dict[str, str]:
    """CreateTopic ``Attributes`` (validated, canonical) plus the FIFO defaults.

    ``FifoTopic`` (true/false, any case) decides the topic type and must agree with the
    name (see :func:`~postroom.core.sns.validate.validate_topic_name`); ``false`` is not
    stored, as AWS does not show it. FIFO-only attributes on a standard topic, unknown
    names and bad values are InvalidParameter."""
    raw = dict(raw or {})
    fifo_text = raw.pop("FifoTopic", None)
    fifo = fifo_text is not None and _boolean(CREATE_PREFIX, "FifoTopic", fifo_text) == "true"
    validate_topic_name(name, fifo)
    attrs: dict[str, str] = dict(DEFAULTS_FIFO) if fifo else {}
    for key, value in raw.items():
        if key not in _CANONICAL and key not in UNSUPPORTED:
            raise InvalidParameter(f"{CREATE_PREFIX}Invalid attribute name: {key}")
        _apply(attrs, key, value, fifo, CREATE_PREFIX)
    return attrs


def updated_attributes(current: Mapping[str, str], name: str, value: str | None) -> dict[str, str]:
    """SetTopicAttributes sets one attribute: ``current`` with ``name`` = ``value``
    validated and applied. ``FifoTopic`` cannot change after creation and unknown names
    are AWS's "Invalid parameter: AttributeName"; ``""`` (or ``None``) clears Policy,
    DeliveryPolicy, KmsMasterKeyId and ArchivePolicy."""
    if name not in _CANONICAL and name not in UNSUPPORTED:
        raise InvalidParameter("Invalid parameter: AttributeName")
    attrs = dict(current)
    _apply(attrs, name, value if value is not None else "", current.get("FifoTopic") == "true", SET_PREFIX)
    return attrs


def computed_attributes(topic_arn: str, account: str, attrs: Mapping[str, str], *, confirmed: int,
                        pending: int, deleted: int = 0) -> dict[str, str]:
    """GetTopicAttributes' full answer: the stored ``attrs`` plus the attributes SNS fills
    in (TopicArn, Owner, the subscription counts, EffectiveDeliveryPolicy, and the default
    Policy and empty DisplayName when none was set)."""
    out = {
        "Policy": default_topic_policy(topic_arn, account),
        "DisplayName": "",
        **attrs,
        "TopicArn": topic_arn,
        "Owner": account,
        "SubscriptionsConfirmed": str(confirmed),
        "SubscriptionsPending": str(pending),
        "SubscriptionsDeleted": str(deleted),
        "EffectiveDeliveryPolicy": effective_delivery_policy(attrs),
    }
    return out
