"""Queue names, batch ids, FIFO ids, integer ranges, receipt handles and tags."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from postroom.core.sqs import validate
from postroom.core.sqs.validate import (
    FIFO_NAME_MESSAGE,
    STANDARD_NAME_MESSAGE,
    validate_batch_entries,
    validate_dedup_id,
    validate_group_id,
    validate_int_range,
    validate_queue_name,
    validate_receipt_attempt_id,
    validate_receipt_handle_shape,
    validate_tag_keys,
    validate_tags,
)
from postroom.errors import (
    BatchEntryIdsNotDistinct,
    EmptyBatchRequest,
    InvalidBatchEntryId,
    InvalidParameterValue,
    ReceiptHandleIsInvalid,
    TooManyEntriesInBatchRequest,
)


def test_reexports_message_attribute_helpers() -> None:
    for name in ("parse_message_attributes", "parse_system_attributes", "message_size"):
        assert callable(getattr(validate, name))


# ---- queue names ---------------------------------------------------------------
@pytest.mark.parametrize(("name", "fifo"), [
    ("q", False), ("My-queue_1", False), ("x" * 80, False),
    ("q.fifo", True), ("x" * 75 + ".fifo", True), ("a-b_c.fifo", True),
])
def test_good_queue_names(name: str, fifo: bool) -> None:
    validate_queue_name(name, fifo)


@pytest.mark.parametrize(("name", "fifo", "message"), [
    ("", False, STANDARD_NAME_MESSAGE),
    ("x" * 81, False, STANDARD_NAME_MESSAGE),
    ("a b", False, STANDARD_NAME_MESSAGE),
    ("a.b", False, STANDARD_NAME_MESSAGE),
    ("q.fifo", False, STANDARD_NAME_MESSAGE),
    ("ü", False, STANDARD_NAME_MESSAGE),
    ("q", True, FIFO_NAME_MESSAGE),
    (".fifo", True, FIFO_NAME_MESSAGE),
    ("x" * 76 + ".fifo", True, FIFO_NAME_MESSAGE),
    ("a.b.fifo", True, FIFO_NAME_MESSAGE),
    ("q.FIFO", True, FIFO_NAME_MESSAGE),
])
def test_bad_queue_names(name: str, fifo: bool, message: str) -> None:
    with pytest.raises(InvalidParameterValue) as info:
        validate_queue_name(name, fifo)
    assert info.value.message == message


def test_standard_name_message_is_aws_wording() -> None:
    assert STANDARD_NAME_MESSAGE == (
        "Can only include alphanumeric characters, hyphens, or underscores. 1 to 80 in length")


# ---- integer ranges ----------------------------------------------------------------
def test_int_range_message() -> None:
    with pytest.raises(InvalidParameterValue) as info:
        validate_int_range("MaxNumberOfMessages", 11, 1, 10)
    assert info.value.message == (
        "Value 11 for parameter MaxNumberOfMessages is invalid. Reason: Must be between 1 and 10, if provided.")


@pytest.mark.parametrize(("name", "value", "lo", "hi"), [
    ("MaxNumberOfMessages", 1, 1, 10), ("MaxNumberOfMessages", 10, 1, 10), ("VisibilityTimeout", 0, 0, 43200),
    ("VisibilityTimeout", 43200, 0, 43200), ("DelaySeconds", 900, 0, 900),
])
def test_int_range_inclusive(name: str, value: int, lo: int, hi: int) -> None:
    validate_int_range(name, value, lo, hi)


@pytest.mark.parametrize(("name", "value", "lo", "hi", "reason"), [
    ("MaxNumberOfMessages", 0, 1, 10, "Must be between 1 and 10, if provided."),
    ("VisibilityTimeout", 43201, 0, 43200, "Must be between 0 and 43200, if provided."),
    ("VisibilityTimeout", -1, 0, 43200, "Must be between 0 and 43200, if provided."),
    ("DelaySeconds", 901, 0, 900, "DelaySeconds must be >= 0 and <= 900."),
    ("WaitTimeSeconds", 21, 0, 20, "Must be >= 0 and <= 20, if provided."),
])
def test_int_range_reasons(name: str, value: int, lo: int, hi: int, reason: str) -> None:
    with pytest.raises(InvalidParameterValue) as info:
        validate_int_range(name, value, lo, hi)
    assert info.value.message == f"Value {value} for parameter {name} is invalid. Reason: {reason}"


# ---- batches -----------------------------------------------------------------------
def test_batch_ok() -> None:
    validate_batch_entries(["a", "B-1", "c_2", "x" * 80])
    validate_batch_entries([str(i) for i in range(10)])


def test_empty_batch() -> None:
    with pytest.raises(EmptyBatchRequest):
        validate_batch_entries([])
    with pytest.raises(EmptyBatchRequest, match="at least one SendMessageBatchRequestEntry"):
        validate_batch_entries([], "SendMessageBatch")


def test_too_many_entries_is_checked_before_ids() -> None:
    with pytest.raises(TooManyEntriesInBatchRequest) as info:
        validate_batch_entries(["bad id"] + ["a"] * 10)
    assert info.value.message == "Maximum number of entries per request are 10. You have sent 11."


@pytest.mark.parametrize("entry_id", ["", "a b", "a:b", "a.b", "x" * 81, "é"])
def test_invalid_batch_entry_id(entry_id: str) -> None:
    with pytest.raises(InvalidBatchEntryId, match="at most 80 letters long"):
        validate_batch_entries(["ok", entry_id])


def test_duplicate_ids() -> None:
    with pytest.raises(BatchEntryIdsNotDistinct) as info:
        validate_batch_entries(["a", "b", "a"])
    assert info.value.message == "Id a repeated."


def test_first_problem_in_request_order_wins() -> None:
    with pytest.raises(BatchEntryIdsNotDistinct):
        validate_batch_entries(["a", "a", "bad id"])
    with pytest.raises(InvalidBatchEntryId):
        validate_batch_entries(["a", "bad id", "a"])


# ---- FIFO ids ------------------------------------------------------------------------
PUNCT = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"


@pytest.mark.parametrize("value", ["g", "x" * 128, PUNCT, "Group-1:order/42", "a" + PUNCT + "Z9"])
def test_good_fifo_ids(value: str) -> None:
    validate_group_id(value)
    validate_dedup_id(value)
    validate_receipt_attempt_id(value)


@pytest.mark.parametrize("value", ["", "x" * 129, "a b", "tab\t", "é", "☃", "\x00"])
def test_bad_fifo_ids(value: str) -> None:
    with pytest.raises(InvalidParameterValue) as info:
        validate_group_id(value)
    assert info.value.message == (
        f"Value {value} for parameter MessageGroupId is invalid. Reason: MessageGroupId can only include "
        "alphanumeric and punctuation characters. 1 to 128 in length.")
    with pytest.raises(InvalidParameterValue, match="MessageDeduplicationId can only include"):
        validate_dedup_id(value)


@given(st.text(max_size=140))
def test_fifo_id_matches_reference(value: str) -> None:
    ok = 1 <= len(value) <= 128 and all(c.isascii() and (c.isalnum() or c in PUNCT) for c in value)
    if ok:
        validate_group_id(value)
    else:
        with pytest.raises(InvalidParameterValue):
            validate_group_id(value)


# ---- receipt handles -------------------------------------------------------------------
def test_receipt_handle_shape() -> None:
    validate_receipt_handle_shape("AQEB+abc/def==")
    for bad in ["", "has space", "x" * 4097, "tab\t", "é"]:
        with pytest.raises(ReceiptHandleIsInvalid) as info:
            validate_receipt_handle_shape(bad)
        assert info.value.message == f'The input receipt handle "{bad}" is not a valid receipt handle.'


# ---- tags ------------------------------------------------------------------------------
def test_good_tags() -> None:
    validate_tags({})
    validate_tags({"k": "", "team name": "Ops/Eng", "k" * 128: "v" * 256, "é_.:/=+-@": "ü"})
    validate_tags({f"k{i}": "v" for i in range(50)})


@pytest.mark.parametrize(("tags", "fragment"), [
    ({f"k{i}": "v" for i in range(51)}, "Too many tags"),
    ({"": "v"}, "between 1 and 128"),
    ({"k" * 129: "v"}, "between 1 and 128"),
    ({"k": "v" * 257}, "at most 256"),
    ({"k!": "v"}, "Tag keys can only include"),
    ({"k": "v#"}, "Tag values can only include"),
    ({"aws:cost": "v"}, "reserved"),
])
def test_bad_tags(tags: dict[str, str], fragment: str) -> None:
    with pytest.raises(InvalidParameterValue, match=fragment):
        validate_tags(tags)


def test_tag_keys_for_untag() -> None:
    validate_tag_keys(["a", "b c"])
    with pytest.raises(InvalidParameterValue):
        validate_tag_keys([""])


@pytest.mark.parametrize(("entries", "content_based", "message"), [
    ([("g", "d"), (None, "d")], True, "The request must contain the parameter MessageGroupId."),
    ([("g", "d"), ("g", None)], False, validate.FIFO_DEDUP_MESSAGE),
])
def test_fifo_batch_refuses_the_whole_request(entries: list[tuple[str | None, str | None]], content_based: bool,
                                              message: str) -> None:
    """AWS fails a whole FIFO SendMessageBatch for an entry without MessageGroupId, or
    without a deduplication id when the queue has no ContentBasedDeduplication."""
    with pytest.raises(InvalidParameterValue) as ei:
        validate.validate_fifo_batch(entries, content_based)
    assert ei.value.message == message


def test_fifo_batch_with_content_based_dedup_needs_no_dedup_ids() -> None:
    validate.validate_fifo_batch([("g", None), ("h", "d")], content_based_dedup=True)
