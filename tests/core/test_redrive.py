"""RedrivePolicy and RedriveAllowPolicy parsing and canonical forms."""

from __future__ import annotations

import json
from typing import Any

import pytest

from postroom.core.model import RedrivePolicy
from postroom.core.sqs.redrive import (
    allows_source,
    canonical_redrive_allow_policy,
    canonical_redrive_policy,
    parse_redrive_policy,
)
from postroom.errors import InvalidParameterValue

DLQ = "arn:aws:sqs:eu-west-1:123456789012:my-dlq"


@pytest.mark.parametrize("count", [1, "1", 1000, "1000", 5.0, " 7 "])
def test_max_receive_count_number_or_string(count: Any) -> None:
    text = canonical_redrive_policy(json.dumps({"deadLetterTargetArn": DLQ, "maxReceiveCount": count}))
    expected = int(str(count).strip().split(".")[0])
    assert text == f'{{"deadLetterTargetArn":"{DLQ}","maxReceiveCount":{expected}}}'
    assert parse_redrive_policy(text) == RedrivePolicy(DLQ, expected)


@pytest.mark.parametrize(("policy", "fragment"), [
    ("not json", "Redrive policy is not a valid JSON map."),
    ("[1, 2]", "Redrive policy is not a valid JSON map."),
    (json.dumps({"maxReceiveCount": 3}), "does not contain mandatory attribute: deadLetterTargetArn."),
    (json.dumps({"deadLetterTargetArn": DLQ}), "does not contain mandatory attribute: maxReceiveCount."),
    (json.dumps({"deadLetterTargetArn": DLQ, "maxReceiveCount": 0}),
     "Invalid value for maxReceiveCount: 0, valid values are from 1 to 1000 both inclusive."),
    (json.dumps({"deadLetterTargetArn": DLQ, "maxReceiveCount": 1001}), "valid values are from 1 to 1000"),
    (json.dumps({"deadLetterTargetArn": DLQ, "maxReceiveCount": "many"}), "Invalid value for maxReceiveCount"),
    (json.dumps({"deadLetterTargetArn": DLQ, "maxReceiveCount": True}), "Invalid value for maxReceiveCount"),
    (json.dumps({"deadLetterTargetArn": DLQ, "maxReceiveCount": "+-5"}), "Invalid value for maxReceiveCount"),
    (json.dumps({"deadLetterTargetArn": DLQ, "maxReceiveCount": "\u00b2"}), "Invalid value for maxReceiveCount"),
    (json.dumps({"deadLetterTargetArn": DLQ, "maxReceiveCount": None}), "Invalid value for maxReceiveCount"),
    (json.dumps({"deadLetterTargetArn": DLQ, "maxReceiveCount": 2.5}), "Invalid value for maxReceiveCount"),
    (json.dumps({"deadLetterTargetArn": "not-an-arn", "maxReceiveCount": 2}), "deadLetterTargetArn"),
    (json.dumps({"deadLetterTargetArn": "arn:aws:sns:us-east-1:1:t", "maxReceiveCount": 2}), "deadLetterTargetArn"),
    (json.dumps({"deadLetterTargetArn": 5, "maxReceiveCount": 2}), "deadLetterTargetArn"),
    (json.dumps({"deadLetterTargetArn": DLQ, "maxReceiveCount": 2, "extra": 1}), "extra"),
])
def test_bad_redrive_policy(policy: str, fragment: str) -> None:
    with pytest.raises(InvalidParameterValue) as info:
        canonical_redrive_policy(policy)
    assert info.value.message.startswith(f"Value {policy} for parameter RedrivePolicy is invalid. Reason: ")
    assert fragment in info.value.message


@pytest.mark.parametrize(("policy", "canonical"), [
    ({"redrivePermission": "allowAll"}, '{"redrivePermission":"allowAll"}'),
    ({"redrivePermission": "denyAll"}, '{"redrivePermission":"denyAll"}'),
    ({"sourceQueueArns": [DLQ], "redrivePermission": "byQueue"},
     f'{{"redrivePermission":"byQueue","sourceQueueArns":["{DLQ}"]}}'),
])
def test_good_redrive_allow_policy(policy: dict[str, Any], canonical: str) -> None:
    assert canonical_redrive_allow_policy(json.dumps(policy)) == canonical


@pytest.mark.parametrize("policy", [
    "nope",
    json.dumps({}),
    json.dumps({"redrivePermission": "allowSome"}),
    json.dumps({"redrivePermission": "byQueue"}),
    json.dumps({"redrivePermission": "byQueue", "sourceQueueArns": []}),
    json.dumps({"redrivePermission": "byQueue", "sourceQueueArns": [f"{DLQ}{i}" for i in range(11)]}),
    json.dumps({"redrivePermission": "byQueue", "sourceQueueArns": ["bad"]}),
    json.dumps({"redrivePermission": "byQueue", "sourceQueueArns": DLQ}),
    json.dumps({"redrivePermission": "allowAll", "sourceQueueArns": [DLQ]}),
    json.dumps({"redrivePermission": "allowAll", "other": 1}),
])
def test_bad_redrive_allow_policy(policy: str) -> None:
    with pytest.raises(InvalidParameterValue, match="for parameter RedriveAllowPolicy is invalid"):
        canonical_redrive_allow_policy(policy)


def test_ten_source_arns_allowed() -> None:
    canonical_redrive_allow_policy(json.dumps(
        {"redrivePermission": "byQueue", "sourceQueueArns": [f"{DLQ}{i}" for i in range(10)]}))


def test_allows_source() -> None:
    assert allows_source(None, DLQ)
    assert allows_source({"redrivePermission": "allowAll"}, DLQ)
    assert not allows_source({"redrivePermission": "denyAll"}, DLQ)
    assert allows_source({"redrivePermission": "byQueue", "sourceQueueArns": [DLQ]}, DLQ)
    assert not allows_source({"redrivePermission": "byQueue", "sourceQueueArns": [DLQ]}, DLQ + "x")
