"""HTTP/S delivery policies of Amazon SNS: the topic's and the subscription's
``DeliveryPolicy``, their bounds, the ``EffectiveDeliveryPolicy`` SNS reports, and the
retry schedule a policy implies.

AWS docs: *Amazon SNS Developer Guide* › "Amazon SNS message delivery retries" (the four
phases; "The total policy retry time for an HTTP/S endpoint cannot be greater than 3,600
seconds") and "Creating an HTTP/S delivery policy"; the CDK's ``HealthyRetryPolicy``
restates the bounds: minDelayTarget ≥ 1 s and ≤ maxDelayTarget; maxDelayTarget ≤ 3,600 s;
numRetries 0–100 and at least the sum of the other three counts, each ≥ 0; backoffFunction
linear, arithmetic, geometric or exponential.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from postroom.errors import InvalidParameter

BACKOFF_FUNCTIONS: Final = ("linear", "arithmetic", "geometric", "exponential")
MAX_DELAY_TARGET: Final = 3_600
MAX_RETRIES: Final = 100
MAX_TOTAL_RETRY_SECONDS: Final = 3_600
DEFAULT_CONTENT_TYPE: Final = "text/plain; charset=UTF-8"

DEFAULT_HEALTHY_RETRY_POLICY: Final[Mapping[str, Any]] = {
    "minDelayTarget": 20,
    "maxDelayTarget": 20,
    "numRetries": 3,
    "numMaxDelayRetries": 0,
    "numNoDelayRetries": 0,
    "numMinDelayRetries": 0,
    "backoffFunction": "linear",
}
"""SNS's default HTTP/S retry policy, keys in the order GetTopicAttributes shows them."""

_COUNTS: Final = ("numRetries", "numMaxDelayRetries", "numNoDelayRetries", "numMinDelayRetries")
_TOPIC_HTTP_KEYS: Final = ("defaultHealthyRetryPolicy", "disableSubscriptionOverrides",
                           "defaultThrottlePolicy", "defaultRequestPolicy", "defaultSicklyRetryPolicy")
_SUBSCRIPTION_KEYS: Final = ("healthyRetryPolicy", "throttlePolicy", "requestPolicy", "sicklyRetryPolicy",
                             "guaranteed")


def _dumps(document: Any) -> str:
    return json.dumps(document, separators=(",", ":"))


class _Invalid(Exception):
    """A reason, turned into InvalidParameter by the caller that knows the prefix."""


def _load_object(text: str) -> dict[str, Any]:
    try:
        loaded = json.loads(text)
    except (ValueError, RecursionError):
        raise _Invalid("failed to parse JSON.") from None
    if not isinstance(loaded, dict):
        raise _Invalid("must be a JSON object.")
    return loaded


def _int(path: str, value: Any, lo: int, hi: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, int | float) or int(value) != value:
        raise _Invalid(f"{path} must be an integer.")
    number = int(value)
    if number < lo or (hi is not None and number > hi):
        bound = f"between {lo} and {hi}" if hi is not None else f"greater than or equal to {lo}"
        raise _Invalid(f"{path} must be {bound}.")
    return number


def _check_keys(path: str, document: Mapping[str, Any], allowed: tuple[str, ...]) -> None:
    for key in document:
        if key not in allowed:
            raise _Invalid(f"{path}{key} is not a valid attribute.")


def _retry_policy(path: str, raw: Any) -> dict[str, Any]:
    """A ``healthyRetryPolicy``, defaults filled, bounds checked."""
    if not isinstance(raw, dict):
        raise _Invalid(f"{path} must be a JSON object.")
    _check_keys(path + ".", raw, tuple(DEFAULT_HEALTHY_RETRY_POLICY))
    policy = dict(DEFAULT_HEALTHY_RETRY_POLICY)
    if "minDelayTarget" in raw:
        policy["minDelayTarget"] = _int(f"{path}.minDelayTarget", raw["minDelayTarget"], 1, MAX_DELAY_TARGET)
        policy["maxDelayTarget"] = max(policy["maxDelayTarget"], policy["minDelayTarget"])
    if "maxDelayTarget" in raw:
        policy["maxDelayTarget"] = _int(f"{path}.maxDelayTarget", raw["maxDelayTarget"], 1, MAX_DELAY_TARGET)
        if "minDelayTarget" not in raw:
            policy["minDelayTarget"] = min(policy["minDelayTarget"], policy["maxDelayTarget"])
    if policy["minDelayTarget"] > policy["maxDelayTarget"]:
        raise _Invalid(f"{path}.minDelayTarget must be less than or equal to maxDelayTarget.")
    for key in _COUNTS:
        if key in raw:
            policy[key] = _int(f"{path}.{key}", raw[key], 0, MAX_RETRIES)
    if policy["numNoDelayRetries"] + policy["numMinDelayRetries"] + policy["numMaxDelayRetries"] > policy["numRetries"]:
        raise _Invalid(f"{path}.numRetries must be greater than or equal to the sum of numNoDelayRetries, "
                       "numMinDelayRetries and numMaxDelayRetries.")
    if "backoffFunction" in raw:
        if raw["backoffFunction"] not in BACKOFF_FUNCTIONS:
            raise _Invalid(f"{path}.backoffFunction must be one of linear, arithmetic, geometric, exponential.")
        policy["backoffFunction"] = raw["backoffFunction"]
    if sum(retry_delays(policy)) > MAX_TOTAL_RETRY_SECONDS:
        raise _Invalid(f"{path}: the total retry time cannot be greater than {MAX_TOTAL_RETRY_SECONDS} seconds.")
    return policy


def _throttle(path: str, raw: Any) -> None:
    if raw is None:
        return
    if not isinstance(raw, dict):
        raise _Invalid(f"{path} must be a JSON object.")
    _check_keys(path + ".", raw, ("maxReceivesPerSecond",))
    if "maxReceivesPerSecond" in raw:
        _int(f"{path}.maxReceivesPerSecond", raw["maxReceivesPerSecond"], 1)


def _request(path: str, raw: Any) -> None:
    if raw is None:
        return
    if not isinstance(raw, dict):
        raise _Invalid(f"{path} must be a JSON object.")
    _check_keys(path + ".", raw, ("headerContentType",))
    content_type = raw.get("headerContentType", DEFAULT_CONTENT_TYPE)
    if not isinstance(content_type, str) or not content_type.strip():
        raise _Invalid(f"{path}.headerContentType must be a non-empty string.")


def canonical_topic_delivery_policy(text: str, prefix: str) -> str:
    """A topic's ``DeliveryPolicy`` (``{"http": {"defaultHealthyRetryPolicy": {…},
    "disableSubscriptionOverrides": false, "defaultThrottlePolicy": {…},
    "defaultRequestPolicy": {…}}}``) validated; the text is returned compacted. Errors are
    InvalidParameter ``prefix + "DeliveryPolicy: " + reason``."""
    try:
        document = _load_object(text)
        _check_keys("", document, ("http",))
        http = document.get("http", {})
        if not isinstance(http, dict):
            raise _Invalid("http must be a JSON object.")
        _check_keys("http.", http, _TOPIC_HTTP_KEYS)
        if "defaultHealthyRetryPolicy" in http:
            _retry_policy("http.defaultHealthyRetryPolicy", http["defaultHealthyRetryPolicy"])
        if not isinstance(http.get("disableSubscriptionOverrides", False), bool):
            raise _Invalid("http.disableSubscriptionOverrides must be true or false.")
        _throttle("http.defaultThrottlePolicy", http.get("defaultThrottlePolicy"))
        _request("http.defaultRequestPolicy", http.get("defaultRequestPolicy"))
    except _Invalid as reason:
        raise InvalidParameter(f"{prefix}DeliveryPolicy: {reason}") from None
    return _dumps(document)


def canonical_subscription_delivery_policy(text: str, prefix: str) -> str:
    """A subscription's ``DeliveryPolicy`` (``{"healthyRetryPolicy": {…},
    "throttlePolicy": {…}, "requestPolicy": {…}}``) validated and compacted."""
    try:
        document = _load_object(text)
        _check_keys("", document, _SUBSCRIPTION_KEYS)
        if "healthyRetryPolicy" in document:
            _retry_policy("healthyRetryPolicy", document["healthyRetryPolicy"])
        _throttle("throttlePolicy", document.get("throttlePolicy"))
        _request("requestPolicy", document.get("requestPolicy"))
        if not isinstance(document.get("guaranteed", False), bool):
            raise _Invalid("guaranteed must be true or false.")
    except _Invalid as reason:
        raise InvalidParameter(f"{prefix}DeliveryPolicy: {reason}") from None
    return _dumps(document)


def _topic_http(topic_attrs: Mapping[str, str]) -> dict[str, Any]:
    text = topic_attrs.get("DeliveryPolicy")
    if not text:
        return {}
    http = json.loads(text).get("http", {})
    return http if isinstance(http, dict) else {}


def effective_delivery_policy(topic_attrs: Mapping[str, str]) -> str:
    """The topic's ``EffectiveDeliveryPolicy``: SNS's defaults with the topic's
    ``DeliveryPolicy`` laid over them. For a topic without one this is exactly AWS's
    ``{"http":{"defaultHealthyRetryPolicy":{"minDelayTarget":20,"maxDelayTarget":20,
    "numRetries":3,"numMaxDelayRetries":0,"numNoDelayRetries":0,"numMinDelayRetries":0,
    "backoffFunction":"linear"},"disableSubscriptionOverrides":false,
    "defaultRequestPolicy":{"headerContentType":"text/plain; charset=UTF-8"}}}``."""
    given = _topic_http(topic_attrs)
    http: dict[str, Any] = {
        "defaultHealthyRetryPolicy": dict(DEFAULT_HEALTHY_RETRY_POLICY),
        "disableSubscriptionOverrides": False,
    }
    if "defaultHealthyRetryPolicy" in given:
        http["defaultHealthyRetryPolicy"] = _retry_policy("", given["defaultHealthyRetryPolicy"])
    if "disableSubscriptionOverrides" in given:
        http["disableSubscriptionOverrides"] = given["disableSubscriptionOverrides"]
    if given.get("defaultThrottlePolicy") is not None:
        http["defaultThrottlePolicy"] = given["defaultThrottlePolicy"]
    http["defaultRequestPolicy"] = {"headerContentType": DEFAULT_CONTENT_TYPE,
                                    **(given.get("defaultRequestPolicy") or {})}
    return _dumps({"http": http})


@dataclass(frozen=True)
class HttpDeliveryPolicy:
    """What an HTTP/S delivery obeys: the retry policy (keys as in
    :data:`DEFAULT_HEALTHY_RETRY_POLICY`), the throttle (deliveries per second, or
    ``None``) and the Content-Type of the POST."""

    retry: Mapping[str, Any]
    max_receives_per_second: int | None
    content_type: str

    def delays(self) -> list[int]:
        """Seconds to wait before each retry; see :func:`retry_delays`."""
        return retry_delays(self.retry)


def http_delivery_policy(topic_attrs: Mapping[str, str], sub_attrs: Mapping[str, str]) -> HttpDeliveryPolicy:
    """The policy an HTTP/S subscription's deliveries follow: the subscription's
    ``DeliveryPolicy`` over the topic's, unless the topic sets
    ``disableSubscriptionOverrides``; SNS's defaults underneath."""
    effective = json.loads(effective_delivery_policy(topic_attrs))["http"]
    retry = dict(effective["defaultHealthyRetryPolicy"])
    throttle = (effective.get("defaultThrottlePolicy") or {}).get("maxReceivesPerSecond")
    content_type = effective["defaultRequestPolicy"].get("headerContentType", DEFAULT_CONTENT_TYPE)
    text = sub_attrs.get("DeliveryPolicy")
    if text and not effective["disableSubscriptionOverrides"]:
        own = json.loads(text)
        if isinstance(own.get("healthyRetryPolicy"), dict):
            retry = _retry_policy("", own["healthyRetryPolicy"])
        if isinstance(own.get("throttlePolicy"), dict):
            throttle = own["throttlePolicy"].get("maxReceivesPerSecond", throttle)
        if isinstance(own.get("requestPolicy"), dict):
            content_type = own["requestPolicy"].get("headerContentType", content_type)
    return HttpDeliveryPolicy(retry, throttle, content_type)


def effective_subscription_delivery_policy(topic_attrs: Mapping[str, str], sub_attrs: Mapping[str, str]) -> str:
    """An HTTP/S subscription's ``EffectiveDeliveryPolicy`` as GetSubscriptionAttributes
    shows it: ``{"healthyRetryPolicy":{…},"sicklyRetryPolicy":null,"throttlePolicy":null,
    "guaranteed":false}`` (with ``requestPolicy`` when a content type other than the
    default applies)."""
    policy = http_delivery_policy(topic_attrs, sub_attrs)
    document: dict[str, Any] = {
        "healthyRetryPolicy": dict(policy.retry),
        "sicklyRetryPolicy": None,
        "throttlePolicy": (None if policy.max_receives_per_second is None
                           else {"maxReceivesPerSecond": policy.max_receives_per_second}),
    }
    if policy.content_type != DEFAULT_CONTENT_TYPE:
        document["requestPolicy"] = {"headerContentType": policy.content_type}
    document["guaranteed"] = False
    return _dumps(document)


def retry_delays(policy: Mapping[str, Any]) -> list[int]:
    """The waits, in seconds, before each of the ``numRetries`` retries: first
    ``numNoDelayRetries`` immediate ones, then ``numMinDelayRetries`` of
    ``minDelayTarget``, then the backoff phase rising from ``minDelayTarget`` to
    ``maxDelayTarget`` along ``backoffFunction`` (AWS publishes the curves only as a graph;
    linear and arithmetic rise evenly, geometric and exponential ever more steeply), then
    ``numMaxDelayRetries`` of ``maxDelayTarget``."""
    low, high = int(policy["minDelayTarget"]), int(policy["maxDelayTarget"])
    no_delay, at_min = int(policy["numNoDelayRetries"]), int(policy["numMinDelayRetries"])
    at_max = int(policy["numMaxDelayRetries"])
    backoff = max(0, int(policy["numRetries"]) - no_delay - at_min - at_max)
    power = {"linear": 1.0, "arithmetic": 1.0, "geometric": 2.0, "exponential": 3.0}[policy["backoffFunction"]]
    curve = [round(low + (high - low) * ((i + 1) / backoff) ** power) for i in range(backoff)]
    return [0] * no_delay + [low] * at_min + curve + [high] * at_max
