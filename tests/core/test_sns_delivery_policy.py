"""HTTP/S delivery policies: bounds, effective policies and the retry schedule."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from postroom.core.sns import delivery_policy as dp
from postroom.errors import InvalidParameter

AWS_DEFAULT_EFFECTIVE = (
    '{"http":{"defaultHealthyRetryPolicy":{"minDelayTarget":20,"maxDelayTarget":20,"numRetries":3,'
    '"numMaxDelayRetries":0,"numNoDelayRetries":0,"numMinDelayRetries":0,"backoffFunction":"linear"},'
    '"disableSubscriptionOverrides":false,"defaultRequestPolicy":{"headerContentType":"text/plain; charset=UTF-8"}}}')


def topic_policy(retry: dict[str, object], **http: object) -> str:
    return json.dumps({"http": {"defaultHealthyRetryPolicy": retry, **http}})


def test_default_effective_policy_is_awss() -> None:
    assert dp.effective_delivery_policy({}) == AWS_DEFAULT_EFFECTIVE


def test_effective_policy_overlays_the_topics() -> None:
    attrs = {"DeliveryPolicy": topic_policy({"numRetries": 10, "minDelayTarget": 5, "maxDelayTarget": 30,
                                             "backoffFunction": "exponential"},
                                            disableSubscriptionOverrides=True,
                                            defaultThrottlePolicy={"maxReceivesPerSecond": 5})}
    http = json.loads(dp.effective_delivery_policy(attrs))["http"]
    assert http["defaultHealthyRetryPolicy"] == {
        "minDelayTarget": 5, "maxDelayTarget": 30, "numRetries": 10, "numMaxDelayRetries": 0,
        "numNoDelayRetries": 0, "numMinDelayRetries": 0, "backoffFunction": "exponential"}
    assert http["disableSubscriptionOverrides"] is True
    assert http["defaultThrottlePolicy"] == {"maxReceivesPerSecond": 5}
    assert http["defaultRequestPolicy"] == {"headerContentType": "text/plain; charset=UTF-8"}


BAD_RETRY = [
    ({"minDelayTarget": 0}, "minDelayTarget must be between 1 and 3600."),
    ({"maxDelayTarget": 3601}, "maxDelayTarget must be between 1 and 3600."),
    ({"minDelayTarget": 30, "maxDelayTarget": 10}, "minDelayTarget must be less than or equal to maxDelayTarget."),
    ({"numRetries": -1}, "numRetries must be between 0 and 100."),
    ({"numRetries": 101}, "numRetries must be between 0 and 100."),
    ({"numRetries": 2, "numNoDelayRetries": 1, "numMinDelayRetries": 1, "numMaxDelayRetries": 1},
     "numRetries must be greater than or equal to the sum"),
    ({"numRetries": "3"}, "numRetries must be an integer."),
    ({"numRetries": 2.5}, "numRetries must be an integer."),
    ({"numRetries": True}, "numRetries must be an integer."),
    ({"backoffFunction": "cubic"}, "backoffFunction must be one of linear, arithmetic, geometric, exponential."),
    ({"retries": 3}, "retries is not a valid attribute."),
    ({"numRetries": 100, "minDelayTarget": 3600, "maxDelayTarget": 3600},
     "the total retry time cannot be greater than 3600 seconds."),
]


@pytest.mark.parametrize(("retry", "reason"), BAD_RETRY)
def test_bad_topic_retry_policies(retry: dict[str, object], reason: str) -> None:
    with pytest.raises(InvalidParameter) as info:
        dp.canonical_topic_delivery_policy(topic_policy(retry), "Invalid parameter: ")
    assert info.value.message.startswith("Invalid parameter: DeliveryPolicy: http.defaultHealthyRetryPolicy")
    assert reason in info.value.message


@pytest.mark.parametrize(("text", "reason"), [
    ("{", "failed to parse JSON."),
    ("[]", "must be a JSON object."),
    ('{"https": {}}', "https is not a valid attribute."),
    ('{"http": []}', "http must be a JSON object."),
    ('{"http": {"disableSubscriptionOverrides": "yes"}}', "disableSubscriptionOverrides must be true or false."),
    ('{"http": {"defaultThrottlePolicy": {"maxReceivesPerSecond": 0}}}',
     "maxReceivesPerSecond must be greater than or equal to 1."),
    ('{"http": {"defaultRequestPolicy": {"headerContentType": ""}}}', "headerContentType must be a non-empty"),
])
def test_bad_topic_policy_shapes(text: str, reason: str) -> None:
    with pytest.raises(InvalidParameter, match="DeliveryPolicy: ") as info:
        dp.canonical_topic_delivery_policy(text, "Invalid parameter: ")
    assert reason in info.value.message


def test_canonical_policies_are_compact() -> None:
    assert dp.canonical_topic_delivery_policy('{ "http" : { } }', "") == '{"http":{}}'
    assert dp.canonical_subscription_delivery_policy(
        '{"healthyRetryPolicy": {"numRetries": 4}, "throttlePolicy": {"maxReceivesPerSecond": 2}}', "") == (
        '{"healthyRetryPolicy":{"numRetries":4},"throttlePolicy":{"maxReceivesPerSecond":2}}')


def test_subscription_policy_errors() -> None:
    with pytest.raises(InvalidParameter, match=r"^P DeliveryPolicy: healthyRetryPolicy\.numRetries must be"):
        dp.canonical_subscription_delivery_policy('{"healthyRetryPolicy": {"numRetries": 500}}', "P ")
    with pytest.raises(InvalidParameter, match="defaultHealthyRetryPolicy is not a valid attribute"):
        dp.canonical_subscription_delivery_policy('{"defaultHealthyRetryPolicy": {}}', "")


def test_http_policy_subscription_overrides_topic() -> None:
    topic = {"DeliveryPolicy": topic_policy({"numRetries": 5}, defaultRequestPolicy={"headerContentType":
                                                                                      "application/json"})}
    sub = {"DeliveryPolicy": json.dumps({"healthyRetryPolicy": {"numRetries": 7},
                                         "throttlePolicy": {"maxReceivesPerSecond": 3}})}
    policy = dp.http_delivery_policy(topic, sub)
    assert policy.retry["numRetries"] == 7
    assert policy.max_receives_per_second == 3
    assert policy.content_type == "application/json"
    assert dp.http_delivery_policy(topic, {}).retry["numRetries"] == 5
    locked = {"DeliveryPolicy": topic_policy({"numRetries": 5}, disableSubscriptionOverrides=True)}
    assert dp.http_delivery_policy(locked, sub).retry["numRetries"] == 5


def test_effective_subscription_policy() -> None:
    assert json.loads(dp.effective_subscription_delivery_policy({}, {})) == {
        "healthyRetryPolicy": dict(dp.DEFAULT_HEALTHY_RETRY_POLICY), "sicklyRetryPolicy": None,
        "throttlePolicy": None, "guaranteed": False}


def test_retry_delays_phases() -> None:
    policy = {"minDelayTarget": 2, "maxDelayTarget": 10, "numRetries": 9, "numNoDelayRetries": 2,
              "numMinDelayRetries": 2, "numMaxDelayRetries": 1, "backoffFunction": "linear"}
    assert dp.retry_delays(policy) == [0, 0, 2, 2, 4, 6, 8, 10, 10]
    assert dp.retry_delays(dp.DEFAULT_HEALTHY_RETRY_POLICY) == [20, 20, 20]


@given(st.integers(1, 3600), st.integers(1, 3600), st.integers(0, 100),
       st.sampled_from(dp.BACKOFF_FUNCTIONS))
def test_retry_delays_stay_between_the_targets(a: int, b: int, retries: int, backoff: str) -> None:
    low, high = min(a, b), max(a, b)
    policy = {**dp.DEFAULT_HEALTHY_RETRY_POLICY, "minDelayTarget": low, "maxDelayTarget": high,
              "numRetries": retries, "backoffFunction": backoff}
    delays = dp.retry_delays(policy)
    assert len(delays) == retries
    assert all(low <= d <= high for d in delays)
    assert delays == sorted(delays)
