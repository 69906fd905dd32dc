"""CreateQueue / SetQueueAttributes / GetQueueAttributes attribute rules."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from postroom.core.model import RedrivePolicy
from postroom.core.sqs import queue_attributes as qa
from postroom.errors import InvalidAttributeName, InvalidAttributeValue, InvalidParameterValue

DLQ = "arn:aws:sqs:us-east-1:123456789012:dlq"


def test_defaults() -> None:
    assert qa.DEFAULTS_STANDARD == {
        "DelaySeconds": "0", "MaximumMessageSize": "1048576", "MessageRetentionPeriod": "345600",
        "ReceiveMessageWaitTimeSeconds": "0", "VisibilityTimeout": "30", "SqsManagedSseEnabled": "true",
    }
    assert qa.DEFAULTS_FIFO == {
        **qa.DEFAULTS_STANDARD, "FifoQueue": "true", "ContentBasedDeduplication": "false",
        "DeduplicationScope": "queue", "FifoThroughputLimit": "perQueue",
    }


def test_creation_fills_defaults() -> None:
    assert qa.creation_attributes("q", {}) == qa.DEFAULTS_STANDARD
    assert qa.creation_attributes("q.fifo", {"FifoQueue": "true"}) == qa.DEFAULTS_FIFO


def test_creation_canonicalizes() -> None:
    attrs = qa.creation_attributes("q.fifo", {
        "FifoQueue": "TRUE", "VisibilityTimeout": "060", "ContentBasedDeduplication": "True",
        "DeduplicationScope": "messageGroup", "FifoThroughputLimit": "perMessageGroupId",
        "Policy": '{ "Version" : "2012-10-17", "Statement": [] }',
        "RedrivePolicy": json.dumps({"maxReceiveCount": "5", "deadLetterTargetArn": DLQ + ".fifo"}),
    })
    assert attrs["FifoQueue"] == "true"
    assert attrs["VisibilityTimeout"] == "60"
    assert attrs["ContentBasedDeduplication"] == "true"
    assert attrs["Policy"] == '{"Version":"2012-10-17","Statement":[]}'
    assert attrs["RedrivePolicy"] == f'{{"deadLetterTargetArn":"{DLQ}.fifo","maxReceiveCount":5}}'


def test_identical_requests_give_identical_dicts() -> None:
    a = qa.creation_attributes("q", {"VisibilityTimeout": "45", "RedrivePolicy":
                                     json.dumps({"deadLetterTargetArn": DLQ, "maxReceiveCount": 3})})
    b = qa.creation_attributes("q", {"RedrivePolicy": json.dumps({"maxReceiveCount": "3",
                                                                  "deadLetterTargetArn": DLQ}),
                                     "VisibilityTimeout": "45"})
    assert a == b


RANGES = [
    ("DelaySeconds", 0, 900), ("MaximumMessageSize", 1024, 1048576), ("MessageRetentionPeriod", 60, 1209600),
    ("ReceiveMessageWaitTimeSeconds", 0, 20), ("VisibilityTimeout", 0, 43200),
    ("KmsDataKeyReusePeriodSeconds", 60, 86400),
]


@pytest.mark.parametrize(("name", "lo", "hi"), RANGES)
def test_integer_ranges(name: str, lo: int, hi: int) -> None:
    assert qa.creation_attributes("q", {name: str(lo)})[name] == str(lo)
    assert qa.creation_attributes("q", {name: str(hi)})[name] == str(hi)
    for bad in (str(lo - 1), str(hi + 1), "", "abc", "1.5", "1e3", "٣"):
        with pytest.raises(InvalidAttributeValue) as info:
            qa.creation_attributes("q", {name: bad})
        assert info.value.message == f"Invalid value for the parameter {name}."


@pytest.mark.parametrize(("name", "value"), [
    ("SqsManagedSseEnabled", "yes"), ("ContentBasedDeduplication", "1"), ("DeduplicationScope", "group"),
    ("FifoThroughputLimit", "perGroup"), ("Policy", "not json"), ("Policy", "[1]"), ("FifoQueue", "maybe"),
])
def test_bad_values_on_fifo(name: str, value: str) -> None:
    with pytest.raises(InvalidAttributeValue, match=f"Invalid value for the parameter {name}."):
        qa.creation_attributes("q.fifo", {"FifoQueue": "true", name: value})


@pytest.mark.parametrize("name", ["Bogus", "QueueArn", "All", "ApproximateNumberOfMessages", "visibilitytimeout"])
def test_unknown_attribute(name: str) -> None:
    with pytest.raises(InvalidAttributeName) as info:
        qa.creation_attributes("q", {name: "1"})
    assert info.value.message == f"Unknown Attribute {name}."


@pytest.mark.parametrize("name", ["ContentBasedDeduplication", "DeduplicationScope", "FifoThroughputLimit"])
def test_fifo_only_attributes_on_standard_queue(name: str) -> None:
    with pytest.raises(InvalidAttributeName, match=f"Unknown Attribute {name}."):
        qa.creation_attributes("q", {name: qa.DEFAULTS_FIFO[name]})


def test_fifo_flag_and_name_must_agree() -> None:
    with pytest.raises(InvalidParameterValue, match=r"must end with \.fifo suffix"):
        qa.creation_attributes("q", {"FifoQueue": "true"})
    with pytest.raises(InvalidParameterValue, match="Can only include alphanumeric"):
        qa.creation_attributes("q.fifo", {"FifoQueue": "false"})
    with pytest.raises(InvalidParameterValue, match="Can only include alphanumeric"):
        qa.creation_attributes("q.fifo", {})


def test_fifo_queue_false_is_unknown_on_standard_queue() -> None:
    with pytest.raises(InvalidAttributeName, match=r"Unknown Attribute FifoQueue\."):
        qa.creation_attributes("q", {"FifoQueue": "false"})


def test_kms_and_managed_sse() -> None:
    kms = qa.creation_attributes("q", {"KmsMasterKeyId": "alias/aws/sqs"})
    assert kms["KmsMasterKeyId"] == "alias/aws/sqs"
    assert kms["SqsManagedSseEnabled"] == "false"
    assert kms["KmsDataKeyReusePeriodSeconds"] == "300"
    # AWS answers this with InvalidAttributeName (observed, LocalStack's AWS-recorded snapshot)
    with pytest.raises(InvalidAttributeName, match="one type of server-side encryption"):
        qa.creation_attributes("q", {"KmsMasterKeyId": "k", "SqsManagedSseEnabled": "true"})
    back = qa.updated_attributes(kms, {"SqsManagedSseEnabled": "true"})
    assert "KmsMasterKeyId" not in back and back["SqsManagedSseEnabled"] == "true"
    off = qa.creation_attributes("q", {"SqsManagedSseEnabled": "false"})
    assert off["SqsManagedSseEnabled"] == "false"


def test_redrive_policy_errors_are_invalid_parameter_value() -> None:
    with pytest.raises(InvalidParameterValue, match="maxReceiveCount"):
        qa.creation_attributes("q", {"RedrivePolicy": json.dumps({"deadLetterTargetArn": DLQ,
                                                                  "maxReceiveCount": 0})})


# ---- SetQueueAttributes --------------------------------------------------------------
def test_update_merges_and_validates() -> None:
    current = qa.creation_attributes("q", {})
    updated = qa.updated_attributes(current, {"VisibilityTimeout": "5", "DelaySeconds": "10"})
    assert updated == {**current, "VisibilityTimeout": "5", "DelaySeconds": "10"}
    assert current == qa.DEFAULTS_STANDARD  # not mutated
    with pytest.raises(InvalidAttributeValue):
        qa.updated_attributes(current, {"VisibilityTimeout": "43201"})


def test_update_cannot_change_fifo_queue() -> None:
    """Observed on AWS (LocalStack's test_set_unsupported_attribute_fifo): a standard queue
    does not know FifoQueue; a FIFO queue accepts ``true`` as a no-op and refuses ``false``."""
    for value in ("true", "false"):
        with pytest.raises(InvalidAttributeName, match=r"Unknown Attribute FifoQueue\."):
            qa.updated_attributes(qa.DEFAULTS_STANDARD, {"FifoQueue": value})
    assert qa.updated_attributes(qa.DEFAULTS_FIFO, {"FifoQueue": "true"}) == qa.DEFAULTS_FIFO
    with pytest.raises(InvalidAttributeValue, match=r"Reason: Modifying queue type is not supported\."):
        qa.updated_attributes(qa.DEFAULTS_FIFO, {"FifoQueue": "false", "VisibilityTimeout": "5"})
    with pytest.raises(InvalidAttributeValue, match=r"^Invalid value for the parameter FifoQueue\.$"):
        qa.updated_attributes(qa.DEFAULTS_FIFO, {"FifoQueue": "maybe"})


def test_update_fifo_only_attributes() -> None:
    assert qa.updated_attributes(qa.DEFAULTS_FIFO, {"ContentBasedDeduplication": "true"})[
        "ContentBasedDeduplication"] == "true"
    with pytest.raises(InvalidAttributeName):
        qa.updated_attributes(qa.DEFAULTS_STANDARD, {"ContentBasedDeduplication": "true"})


@pytest.mark.parametrize("name", ["RedrivePolicy", "Policy", "RedriveAllowPolicy", "KmsMasterKeyId"])
def test_empty_string_clears(name: str) -> None:
    values = {"RedrivePolicy": json.dumps({"deadLetterTargetArn": DLQ, "maxReceiveCount": 2}),
              "Policy": "{}", "RedriveAllowPolicy": '{"redrivePermission":"denyAll"}', "KmsMasterKeyId": "k"}
    current = qa.updated_attributes(qa.DEFAULTS_STANDARD, {name: values[name]})
    assert name in current
    cleared = qa.updated_attributes(current, {name: ""})
    assert name not in cleared
    assert qa.updated_attributes(qa.DEFAULTS_STANDARD, {name: ""}) == qa.DEFAULTS_STANDARD


def test_empty_string_is_not_a_valid_integer() -> None:
    with pytest.raises(InvalidAttributeValue):
        qa.updated_attributes(qa.DEFAULTS_STANDARD, {"VisibilityTimeout": ""})


# ---- reading ----------------------------------------------------------------------------
def test_redrive_policy_record() -> None:
    assert qa.redrive_policy(qa.DEFAULTS_STANDARD) is None
    attrs = qa.creation_attributes("q", {"RedrivePolicy": json.dumps({"deadLetterTargetArn": DLQ,
                                                                      "maxReceiveCount": "7"})})
    assert qa.redrive_policy(attrs) == RedrivePolicy(DLQ, 7)


def test_redrive_allow_policy_record() -> None:
    assert qa.redrive_allow_policy(qa.DEFAULTS_STANDARD) is None
    attrs = qa.creation_attributes("q", {"RedriveAllowPolicy": json.dumps(
        {"redrivePermission": "byQueue", "sourceQueueArns": [DLQ]})})
    assert qa.redrive_allow_policy(attrs) == {"redrivePermission": "byQueue", "sourceQueueArns": [DLQ]}


def test_readable_names_match_botocore() -> None:
    import botocore.session

    model = botocore.session.get_session().get_service_model("sqs")
    assert set(qa.READABLE_ATTRIBUTE_NAMES) == set(model.shape_for("QueueAttributeName").enum)
    assert len(qa.READABLE_ATTRIBUTE_NAMES) == len(set(qa.READABLE_ATTRIBUTE_NAMES))


def test_check_readable() -> None:
    qa.check_readable([])
    qa.check_readable(["All", "QueueArn", "ApproximateNumberOfMessagesDelayed", "FifoQueue"])
    with pytest.raises(InvalidAttributeName) as info:
        qa.check_readable(["QueueArn", "SentTimestamp"])
    assert info.value.message == "Unknown Attribute SentTimestamp."


def test_check_readable_fifo_only_names_on_standard_queue() -> None:
    qa.check_readable(["FifoQueue", "ContentBasedDeduplication"], fifo=True)
    qa.check_readable(["All", "VisibilityTimeout"], fifo=False)
    for name in ("FifoQueue", "ContentBasedDeduplication", "DeduplicationScope", "FifoThroughputLimit"):
        with pytest.raises(InvalidAttributeName, match=f"Unknown Attribute {name}"):
            qa.check_readable(["All", name], fifo=False)


def test_every_settable_attribute_is_readable() -> None:
    assert set(qa.SETTABLE) <= set(qa.READABLE_ATTRIBUTE_NAMES)


def test_check_dlq_compatible() -> None:
    qa.check_dlq_compatible(True, True)
    qa.check_dlq_compatible(False, False)
    with pytest.raises(InvalidParameterValue, match="Dead-letter queue must be same type of queue as the source"):
        qa.check_dlq_compatible(True, False)
    with pytest.raises(InvalidParameterValue) as info:
        qa.check_dlq_compatible(False, True, '{"x":1}')
    assert info.value.message.startswith('Value {"x":1} for parameter RedrivePolicy is invalid. Reason: ')


@given(st.dictionaries(st.sampled_from([name for name, _, _ in RANGES]), st.integers(-10, 2_000_000)))
def test_integer_attributes_property(raw: dict[str, int]) -> None:
    bounds = {name: (lo, hi) for name, lo, hi in RANGES}
    ok = all(bounds[k][0] <= v <= bounds[k][1] for k, v in raw.items())
    text = {k: str(v) for k, v in raw.items()}
    if ok:
        attrs = qa.creation_attributes("q", text)
        for key, value in raw.items():
            assert attrs[key] == str(value)
        assert qa.creation_attributes("q", text) == attrs
    else:
        with pytest.raises(InvalidAttributeValue):
            qa.creation_attributes("q", text)
