"""The SQS quotas postroom enforces, checked against the figures in AWS's docs."""

from __future__ import annotations

from postroom.core import limits
from postroom.core.sqs import queue_attributes


def test_message_size_limits_are_one_mebibyte() -> None:
    assert limits.MAX_MESSAGE_SIZE == 1_048_576
    assert limits.MAX_BATCH_PAYLOAD == 1_048_576
    assert limits.MIN_MAXIMUM_MESSAGE_SIZE == 1_024
    assert queue_attributes.INTEGER_RANGES["MaximumMessageSize"] == (1_024, 1_048_576)
    assert queue_attributes.DEFAULTS_STANDARD["MaximumMessageSize"] == "1048576"


def test_counts_and_lengths() -> None:
    assert limits.MAX_BATCH_ENTRIES == 10
    assert limits.MAX_MESSAGE_ATTRIBUTES == 10
    assert limits.MAX_ATTRIBUTE_NAME_LENGTH == 256
    assert limits.MAX_QUEUE_NAME_LENGTH == 80
    assert limits.MAX_BATCH_ENTRY_ID_LENGTH == 80
    assert limits.MAX_GROUP_ID_LENGTH == limits.MAX_DEDUP_ID_LENGTH == 128
    assert limits.MAX_TAGS_PER_QUEUE == 50
    assert limits.MAX_TAG_KEY_LENGTH == 128
    assert limits.MAX_TAG_VALUE_LENGTH == 256
    assert limits.DEDUP_WINDOW_SECONDS == 300


def test_ranges() -> None:
    assert (limits.VISIBILITY_TIMEOUT_MIN, limits.VISIBILITY_TIMEOUT_MAX) == (0, 43_200)
    assert (limits.DELAY_SECONDS_MIN, limits.DELAY_SECONDS_MAX) == (0, 900)
    assert (limits.RETENTION_MIN, limits.RETENTION_MAX, limits.RETENTION_DEFAULT) == (60, 1_209_600, 345_600)
    assert (limits.RECEIVE_WAIT_MIN, limits.RECEIVE_WAIT_MAX) == (0, 20)
    assert (limits.MAX_NUMBER_OF_MESSAGES_MIN, limits.MAX_NUMBER_OF_MESSAGES_MAX) == (1, 10)
    assert (limits.MAX_RECEIVE_COUNT_MIN, limits.MAX_RECEIVE_COUNT_MAX) == (1, 1_000)
    assert (limits.KMS_REUSE_MIN, limits.KMS_REUSE_MAX, limits.KMS_REUSE_DEFAULT) == (60, 86_400, 300)


def test_punctuation_is_the_ascii_punctuation_set() -> None:
    import string

    assert string.punctuation == limits.PUNCTUATION
