"""Subscriptions of Amazon SNS: which protocols and endpoints postroom accepts, which topic
and queue types go together, and the subscription attributes with their rules.

AWS docs: *Amazon SNS API Reference* › Subscribe, SetSubscriptionAttributes and
GetSubscriptionAttributes; *Amazon SNS Developer Guide* › "Amazon SNS message filtering",
"Amazon SNS raw message delivery", "Amazon SNS dead-letter queues" and "Message delivery
for FIFO topics".

Errors are InvalidParameter. Subscribe prefixes attribute reasons with
``"Invalid parameter: Attributes Reason: "`` and SetSubscriptionAttributes with
``"Invalid parameter: "`` (AWS, as recorded by LocalStack's validated tests).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any, Final
from urllib.parse import urlsplit

from postroom.core.arns import parse_queue_arn
from postroom.core.sns.delivery_policy import canonical_subscription_delivery_policy
from postroom.core.sns.filter_policy import parse_filter_policy
from postroom.core.sns.notifications import SINK_PROTOCOLS
from postroom.core.sns.platform import check_endpoint_arn
from postroom.core.sns.replay import canonical_replay_policy
from postroom.core.sns.sms import validate_email_endpoint, validate_sms_endpoint
from postroom.errors import InvalidParameter, InvalidParameterValue, PostroomError

__all__ = [
    "ATTRIBUTE_NAMES",
    "SUPPORTED_PROTOCOLS",
    "check_fifo_compatibility",
    "check_filter_policy",
    "subscribe_attributes",
    "updated_subscription_attributes",
    "validate_protocol_endpoint",
]

SUBSCRIBE_PREFIX: Final = "Invalid parameter: Attributes Reason: "
SET_PREFIX: Final = "Invalid parameter: "

SUPPORTED_PROTOCOLS: Final = ("sqs", "http", "https", "sms", "email", "email-json", "application")
UNSUPPORTED_PROTOCOLS: Final = ("lambda", "firehose")
"""SNS protocols postroom does not deliver to."""
HTTP_PROTOCOLS: Final = ("http", "https")
RAW_DELIVERY_PROTOCOLS: Final = ("sqs", "http", "https", "firehose")

ATTRIBUTE_NAMES: Final = (
    "DeliveryPolicy", "FilterPolicy", "FilterPolicyScope", "RawMessageDelivery", "RedrivePolicy",
    "SubscriptionRoleArn", "ReplayPolicy",
)
"""The names Subscribe and SetSubscriptionAttributes accept."""
FILTER_POLICY_SCOPES: Final = ("MessageAttributes", "MessageBody")
CLEARABLE: Final = ("DeliveryPolicy", "FilterPolicy", "RedrivePolicy", "ReplayPolicy")

FIFO_QUEUE_ON_STANDARD_TOPIC_MESSAGE: Final = (
    "Invalid parameter: Invalid parameter: Endpoint Reason: FIFO SQS Queues can not be subscribed to standard "
    "SNS topics")
"""AWS's message, its doubled "Invalid parameter:" included (recorded by LocalStack)."""

_HTTP_URL: Final = re.compile(r"(https?)://[^/\s?#]+[^\s]*", re.IGNORECASE)


# ---- protocols and endpoints -------------------------------------------------------
def validate_protocol_endpoint(protocol: str, endpoint: str | None) -> None:
    """Subscribe's ``Protocol`` and ``Endpoint``. postroom delivers to ``sqs`` (the
    endpoint is a queue ARN: AWS "Invalid parameter: SQS endpoint ARN"), ``http`` and
    ``https`` (a URL of that scheme: AWS "Invalid parameter: Endpoint must match the
    specified protocol"), and — into the notification outbox — ``sms``, ``email``,
    ``email-json`` and ``application`` (:func:`validate_sink_endpoint`). ``lambda`` and
    ``firehose`` are refused as unsupported; an unknown protocol is AWS's "Invalid
    parameter: Amazon SNS does not support this protocol string: X"."""
    if protocol in UNSUPPORTED_PROTOCOLS:
        raise InvalidParameter(f"Invalid parameter: Protocol: postroom does not support the '{protocol}' protocol")
    if protocol not in SUPPORTED_PROTOCOLS:
        raise InvalidParameter(f"Invalid parameter: Amazon SNS does not support this protocol string: {protocol}")
    endpoint = endpoint or ""
    if protocol in SINK_PROTOCOLS:  # delivered to the notification outbox (core/notifications.py)
        validate_sink_endpoint(protocol, endpoint)
        return
    if protocol == "sqs":
        try:
            arn = parse_queue_arn(endpoint, "Endpoint")
        except InvalidParameterValue:
            raise InvalidParameter("Invalid parameter: SQS endpoint ARN") from None
        if not arn.account or not arn.region:
            raise InvalidParameter("Invalid parameter: SQS endpoint ARN")
        return
    match = _HTTP_URL.fullmatch(endpoint)
    if match is None or match.group(1).lower() != protocol or not _well_formed_url(endpoint):
        raise InvalidParameter("Invalid parameter: Endpoint must match the specified protocol")


def _well_formed_url(endpoint: str) -> bool:
    """A URL an HTTP client can POST to: a host, and a port that is a number (``http://h:9%2F``
    is not), in ASCII or IDNA."""
    try:
        parts = urlsplit(endpoint)
        port = parts.port
        host = parts.hostname
        if host:
            host.encode("idna")
    except (ValueError, UnicodeError):
        return False
    return bool(host) and (port is None or port > 0)


def validate_sink_endpoint(protocol: str, endpoint: str) -> None:
    """``sms``: an E.164 number (AWS "Invalid SMS endpoint: <x>"); ``email``/``email-json``: an
    address (AWS "Invalid parameter: Email address"); ``application``: a platform endpoint ARN
    (AWS "Invalid parameter: ApplicationEndpoint ARN")."""
    if protocol == "sms":
        validate_sms_endpoint(endpoint)
    elif protocol == "application":
        try:
            check_endpoint_arn(endpoint)
        except InvalidParameter:
            raise InvalidParameter("Invalid parameter: ApplicationEndpoint ARN") from None
    else:
        validate_email_endpoint(endpoint)


def check_fifo_compatibility(topic_fifo: bool, protocol: str, endpoint_is_fifo_queue: bool) -> None:
    """Which subscriptions a topic type takes (AWS Developer Guide › "Message delivery for
    FIFO topics"): a FIFO topic delivers to SQS queues, FIFO and standard, and not to
    HTTP/S endpoints; a standard topic delivers anywhere but to a FIFO queue."""
    if topic_fifo:
        if protocol != "sqs":
            raise InvalidParameter(f"Invalid parameter: Invalid protocol type: {protocol}")
    elif protocol == "sqs" and endpoint_is_fifo_queue:
        raise InvalidParameter(FIFO_QUEUE_ON_STANDARD_TOPIC_MESSAGE)


# ---- attributes --------------------------------------------------------------------
def _boolean(prefix: str, name: str, value: str) -> str:
    lowered = value.strip().lower()
    if lowered not in ("true", "false"):
        raise InvalidParameter(f"{prefix}{name}: Invalid value [{value}]. Must be true or false.")
    return lowered


def check_filter_policy(text: str, scope: str, prefix: str = SET_PREFIX) -> None:
    """Validate a FilterPolicy under ``scope`` with :mod:`postroom.core.sns.filter_policy`,
    re-raising its error as SNS's InvalidParameter with ``prefix`` (the filter-policy
    module words its messages "Invalid parameter: FilterPolicy: …")."""
    try:
        parse_filter_policy(text, scope)
    except PostroomError as exc:
        message = exc.message
        if message.startswith(SET_PREFIX):
            message = prefix + message[len(SET_PREFIX):]
        raise InvalidParameter(message) from None


def _redrive_policy(prefix: str, value: str, topic_fifo: bool, endpoint: str) -> str:
    """``{"deadLetterTargetArn": "<SQS queue ARN>"}`` (AWS Developer Guide › "Amazon SNS
    dead-letter queues"). A FIFO subscription of a FIFO topic needs a FIFO DLQ."""
    try:
        loaded: Any = json.loads(value)
    except (ValueError, RecursionError):
        loaded = None
    if not isinstance(loaded, dict):
        raise InvalidParameter(f"{prefix}RedrivePolicy: failed to parse JSON.")
    target = loaded.get("deadLetterTargetArn")
    try:
        arn = parse_queue_arn(target if isinstance(target, str) else "", "deadLetterTargetArn")
    except InvalidParameterValue:
        raise InvalidParameter(f"{prefix}RedrivePolicy: deadLetterTargetArn is an invalid arn") from None
    if topic_fifo and endpoint.endswith(".fifo") and not arn.name.endswith(".fifo"):
        raise InvalidParameter(
            f"{prefix}RedrivePolicy: must use a FIFO queue as DLQ for a FIFO Subscription to a FIFO Topic.")
    return json.dumps({"deadLetterTargetArn": str(arn)}, separators=(",", ":"))


def _apply(attrs: dict[str, str], protocol: str, name: str, value: str, prefix: str, topic_fifo: bool,
           endpoint: str) -> None:
    if name not in ATTRIBUTE_NAMES:
        raise InvalidParameter(f"{prefix}AttributeName")
    if not isinstance(value, str):
        raise InvalidParameter(f"{prefix}{name}: Invalid value.")
    if name in CLEARABLE and value == "":
        attrs.pop(name, None)
        return
    if name == "RawMessageDelivery":
        canonical = _boolean(prefix, name, value)
        if canonical == "true" and protocol not in RAW_DELIVERY_PROTOCOLS:
            raise InvalidParameter(f"{prefix}{name}: Invalid value [{value}]. Delivery protocol [{protocol}] "
                                   "does not support raw message delivery.")
        attrs[name] = canonical
    elif name == "FilterPolicyScope":
        if value not in FILTER_POLICY_SCOPES:
            raise InvalidParameter(f"{prefix}FilterPolicyScope: Invalid value [{value}]. Please use either "
                                   "MessageBody or MessageAttributes")
        if attrs.get("FilterPolicy"):
            check_filter_policy(attrs["FilterPolicy"], value, prefix)
        attrs[name] = value
    elif name == "FilterPolicy":
        scope = attrs.get("FilterPolicyScope", "MessageAttributes")
        check_filter_policy(value, scope, prefix)
        attrs[name] = value
        attrs["FilterPolicyScope"] = scope
    elif name == "RedrivePolicy":
        attrs[name] = _redrive_policy(prefix, value, topic_fifo, endpoint)
    elif name == "DeliveryPolicy":
        if protocol not in HTTP_PROTOCOLS:
            raise InvalidParameter(
                f"{prefix}DeliveryPolicy: Delivery protocol [{protocol}] does not support delivery policies.")
        attrs[name] = canonical_subscription_delivery_policy(value, prefix)
    elif name == "SubscriptionRoleArn":
        raise InvalidParameter(
            f"{prefix}SubscriptionRoleArn: Delivery protocol [{protocol}] does not support SubscriptionRoleArn; "
            "it is only for firehose subscriptions, which postroom does not support.")
    else:  # ReplayPolicy: starts a replay of the topic's archive (postroom.core.sns.replay)
        attrs[name] = canonical_replay_policy(value, prefix)


def subscribe_attributes(protocol: str, raw: Mapping[str, str] | None, *, topic_fifo: bool = False,
                         endpoint: str = "") -> dict[str, str]:
    """Subscribe's ``Attributes`` validated into the subscription's stored attributes
    (canonical: ``RawMessageDelivery`` lower-cased, RedrivePolicy compacted; a FilterPolicy
    brings its ``FilterPolicyScope``, MessageAttributes by default). ``topic_fifo`` and
    ``endpoint`` serve the FIFO dead-letter-queue rule. Only the attributes given are
    returned: defaults such as ``RawMessageDelivery=false`` are the reader's to add, and
    GetSubscriptionAttributes shows ``FilterPolicyScope`` only alongside a FilterPolicy."""
    raw = dict(raw or {})
    attrs: dict[str, str] = {}
    scope = raw.pop("FilterPolicyScope", None)
    if scope is not None:
        # Scope first, so that the policy is validated under the scope it comes with.
        _apply(attrs, protocol, "FilterPolicyScope", scope, SUBSCRIBE_PREFIX, topic_fifo, endpoint)
    for name, value in raw.items():
        _apply(attrs, protocol, name, value, SUBSCRIBE_PREFIX, topic_fifo, endpoint)
    return attrs


def updated_subscription_attributes(protocol: str, current: Mapping[str, str], name: str, value: str | None, *,
                                    topic_fifo: bool = False, endpoint: str = "") -> dict[str, str]:
    """SetSubscriptionAttributes: ``current`` with the one attribute ``name`` = ``value``
    validated and applied. Unknown names are AWS's "Invalid parameter: AttributeName";
    ``""`` (or ``None``) clears DeliveryPolicy, RedrivePolicy and FilterPolicy (its scope
    stays); a new FilterPolicyScope re-validates the current FilterPolicy."""
    attrs = dict(current)
    _apply(attrs, protocol, name, value if value is not None else "", SET_PREFIX, topic_fifo, endpoint)
    return attrs


_DEFAULTS: Final = {"RawMessageDelivery": "false", "FilterPolicyScope": "MessageAttributes"}
_JSON_VALUED: Final = ("FilterPolicy", "RedrivePolicy", "DeliveryPolicy", "ReplayPolicy")


def differs_from_existing(requested: Mapping[str, str], existing: Mapping[str, str]) -> bool:
    """AWS: Subscribe on a (topic, protocol, endpoint) that already has a subscription returns
    that subscription — unless an attribute *given in the request* differs from the existing
    one's, which is "Invalid parameter: Attributes Reason: Subscription already exists with
    different attributes". Attributes not given are not compared; an absent attribute counts as
    its default (RawMessageDelivery false, FilterPolicyScope MessageAttributes); JSON policies
    compare as JSON, not as text."""
    for name, value in requested.items():
        current = existing.get(name, _DEFAULTS.get(name))
        if name in _JSON_VALUED and current is not None:
            try:
                if json.loads(value) == json.loads(current):
                    continue
            except (ValueError, RecursionError):
                pass
        if value != current:
            return True
    return False
