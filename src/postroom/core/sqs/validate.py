"""Request-parameter rules of SQS, raising the error AWS raises with an AWS-like message.

Message attributes live in ``postroom.core.message_attributes`` and are re-exported
here, so callers have one place to import validation from.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Final

from postroom.core import limits
from postroom.core.charset import INVALID_CHARACTERS_MESSAGE, has_invalid_characters
from postroom.core.message_attributes import message_size, parse_message_attributes, parse_system_attributes
from postroom.errors import (
    BatchEntryIdsNotDistinct,
    EmptyBatchRequest,
    InvalidBatchEntryId,
    InvalidMessageContents,
    InvalidParameterValue,
    MissingParameter,
    ReceiptHandleIsInvalid,
    TooManyEntriesInBatchRequest,
)

__all__ = [
    "message_size",
    "parse_message_attributes",
    "parse_system_attributes",
    "validate_batch_entries",
    "validate_body",
    "validate_dedup_id",
    "validate_fifo_batch",
    "validate_group_id",
    "validate_int_range",
    "validate_queue_name",
    "validate_receipt_attempt_id",
    "validate_receipt_handle_shape",
    "validate_tag_keys",
    "validate_tags",
]

_QUEUE_NAME: Final = re.compile(r"[A-Za-z0-9_-]{1,80}")
_FIFO_QUEUE_NAME: Final = re.compile(r"[A-Za-z0-9_-]{1,75}\.fifo")
_BATCH_ENTRY_ID: Final = re.compile(r"[A-Za-z0-9_-]{1,80}")
_FIFO_ID: Final = re.compile("[A-Za-z0-9" + re.escape(limits.PUNCTUATION) + "]{1,128}")
_RECEIPT_HANDLE: Final = re.compile(r"[\x21-\x7e]{1,4096}")
_TAG_TEXT: Final = re.compile(r"[\w\s.:/=+\-@]*")

STANDARD_NAME_MESSAGE: Final = "Can only include alphanumeric characters, hyphens, or underscores. 1 to 80 in length"
FIFO_NAME_MESSAGE: Final = (
    "The name of a FIFO queue can only include alphanumeric characters, hyphens, or underscores, "
    "must end with .fifo suffix and be 1 to 80 in length.")

# AWS words the range error differently for some parameters; the rest use the
# "Must be between …, if provided." form it gives for MaxNumberOfMessages.
_RANGE_REASONS: Final = {
    "DelaySeconds": "DelaySeconds must be >= {lo} and <= {hi}.",
    "WaitTimeSeconds": "Must be >= {lo} and <= {hi}, if provided.",
}


def validate_queue_name(name: str, fifo: bool) -> None:
    """CreateQueue ``QueueName``: 1–80 characters of alphanumerics, hyphens and
    underscores; a FIFO queue's name must end in ``.fifo`` (the suffix counts towards
    the 80) and a standard queue's name cannot, since a period is not allowed there
    (AWS API Reference › CreateQueue). Both are InvalidParameterValue."""
    if fifo:
        if _FIFO_QUEUE_NAME.fullmatch(name) is None:
            raise InvalidParameterValue(FIFO_NAME_MESSAGE)
    elif _QUEUE_NAME.fullmatch(name) is None:
        raise InvalidParameterValue(STANDARD_NAME_MESSAGE)


def validate_body(body: str) -> None:
    """SendMessage ``MessageBody``: required and non-empty (AWS answers an empty body as
    a missing one), and only the characters #x9 | #xA | #xD | #x20–#xD7FF |
    #xE000–#xFFFD | #x10000–#x10FFFF, else InvalidMessageContents (AWS API Reference ›
    SendMessage)."""
    if not body:
        raise MissingParameter("The request must contain the parameter MessageBody.")
    if has_invalid_characters(body):
        raise InvalidMessageContents(INVALID_CHARACTERS_MESSAGE)


def validate_int_range(name: str, value: int, lo: int, hi: int) -> None:
    """An integer request parameter outside its range, in AWS's words: "Value 11 for
    parameter MaxNumberOfMessages is invalid. Reason: Must be between 1 and 10, if
    provided." (InvalidParameterValue)."""
    if not lo <= value <= hi:
        reason = _RANGE_REASONS.get(name, "Must be between {lo} and {hi}, if provided.").format(lo=lo, hi=hi)
        raise InvalidParameterValue(f"Value {value} for parameter {name} is invalid. Reason: {reason}")


def validate_batch_entries(ids: Sequence[str], action: str | None = None) -> None:
    """The whole-batch checks of the ``*Batch`` actions (AWS API Reference ›
    SendMessageBatch, DeleteMessageBatch, ChangeMessageVisibilityBatch): at least one
    entry (EmptyBatchRequest), at most 10 (TooManyEntriesInBatchRequest), then, entry by
    entry in request order, an ``Id`` of 1–80 alphanumerics, hyphens and underscores
    (InvalidBatchEntryId) not seen earlier in the request (BatchEntryIdsNotDistinct).
    ``action`` (e.g. ``"SendMessageBatch"``) only shapes the empty-batch message."""
    if not ids:
        entry = f"{action}RequestEntry" if action else "batch request entry"
        raise EmptyBatchRequest(f"There should be at least one {entry} in the request.")
    if len(ids) > limits.MAX_BATCH_ENTRIES:
        raise TooManyEntriesInBatchRequest(
            f"Maximum number of entries per request are {limits.MAX_BATCH_ENTRIES}. You have sent {len(ids)}.")
    seen: set[str] = set()
    for entry_id in ids:
        if _BATCH_ENTRY_ID.fullmatch(entry_id) is None:
            raise InvalidBatchEntryId(
                "A batch entry id can only contain alphanumeric characters, hyphens and underscores. "
                "It can be at most 80 letters long.")
        if entry_id in seen:
            raise BatchEntryIdsNotDistinct(f"Id {entry_id} repeated.")
        seen.add(entry_id)


FIFO_DEDUP_MESSAGE: Final = ("The queue should either have ContentBasedDeduplication enabled or "
                             "MessageDeduplicationId provided explicitly")


def validate_fifo_batch(entries: Sequence[tuple[str | None, str | None]], content_based_dedup: bool) -> None:
    """SendMessageBatch to a FIFO queue, given each entry's (MessageGroupId,
    MessageDeduplicationId): AWS refuses the whole request, not just the entry, when an
    entry has no MessageGroupId (InvalidParameterValue "The request must contain the
    parameter MessageGroupId.") or has no MessageDeduplicationId while the queue does not
    have ContentBasedDeduplication (InvalidParameterValue "The queue should either have
    …"). Both answers are recorded in LocalStack's AWS-validated snapshots
    (``test_send_batch_missing_message_group_id_for_fifo_queue``,
    ``test_send_batch_missing_deduplication_id_for_fifo_queue``). A single SendMessage
    without MessageGroupId is MissingParameter instead."""
    for group_id, dedup_id in entries:
        if group_id is None:
            raise InvalidParameterValue("The request must contain the parameter MessageGroupId.")
        if dedup_id is None and not content_based_dedup:
            raise InvalidParameterValue(FIFO_DEDUP_MESSAGE)


def _fifo_id(parameter: str, value: str) -> None:
    if _FIFO_ID.fullmatch(value) is None:
        raise InvalidParameterValue(
            f"Value {value} for parameter {parameter} is invalid. Reason: {parameter} can only include "
            "alphanumeric and punctuation characters. 1 to 128 in length.")


def validate_group_id(group_id: str) -> None:
    """``MessageGroupId``: 1–128 characters, alphanumerics and the punctuation
    ``!"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~`` (AWS API Reference › SendMessage)."""
    _fifo_id("MessageGroupId", group_id)


def validate_dedup_id(dedup_id: str) -> None:
    """``MessageDeduplicationId``: the same 1–128 alphanumerics-and-punctuation rule as
    ``MessageGroupId`` (AWS API Reference › SendMessage)."""
    _fifo_id("MessageDeduplicationId", dedup_id)


def validate_receipt_attempt_id(attempt_id: str) -> None:
    """ReceiveMessage ``ReceiveRequestAttemptId``: the same 1–128 character rule."""
    _fifo_id("ReceiveRequestAttemptId", attempt_id)


def validate_receipt_handle_shape(handle: str) -> None:
    """A receipt handle must at least be non-empty printable ASCII without spaces before
    it is looked up; otherwise AWS answers ReceiptHandleIsInvalid "The input receipt
    handle "X" is not a valid receipt handle." (AWS API Reference › DeleteMessage)."""
    if _RECEIPT_HANDLE.fullmatch(handle) is None:
        raise ReceiptHandleIsInvalid(f'The input receipt handle "{handle}" is not a valid receipt handle.')


def validate_tags(tags: Mapping[str, str]) -> None:
    """Queue tags (AWS Developer Guide › "Amazon SQS cost allocation tags" and queue
    quotas): at most 50 per queue; a key is 1–128 characters, a value 0–256, both of
    Unicode letters, digits, whitespace and ``_ . : / = + - @``; the ``aws:`` key prefix
    is reserved. Each breach is InvalidParameterValue. (The 50-tag cap across a queue's
    existing and new tags, TagQueue's case, is the caller's to check with the merged set.)"""
    if len(tags) > limits.MAX_TAGS_PER_QUEUE:
        raise InvalidParameterValue(
            f"Too many tags: {len(tags)}. A queue can have at most {limits.MAX_TAGS_PER_QUEUE} tags.")
    validate_tag_keys(list(tags))
    for key, value in tags.items():
        if not isinstance(value, str) or len(value) > limits.MAX_TAG_VALUE_LENGTH:
            raise InvalidParameterValue(
                f"Tag value for key {key} is invalid. Reason: Tag values can be at most "
                f"{limits.MAX_TAG_VALUE_LENGTH} characters long.")
        if _TAG_TEXT.fullmatch(value) is None:
            raise InvalidParameterValue(
                f"Tag value for key {key} is invalid. Reason: Tag values can only include Unicode letters, "
                "digits, whitespace, and the characters _ . : / = + - @.")


def validate_tag_keys(keys: Sequence[str]) -> None:
    """Tag keys as TagQueue and UntagQueue take them: 1–128 characters of Unicode letters,
    digits, whitespace and ``_ . : / = + - @``, not starting with the reserved ``aws:``."""
    for key in keys:
        if not isinstance(key, str) or not 1 <= len(key) <= limits.MAX_TAG_KEY_LENGTH:
            raise InvalidParameterValue(
                f"Tag key {key} is invalid. Reason: Tag keys must be between 1 and "
                f"{limits.MAX_TAG_KEY_LENGTH} characters in length.")
        if _TAG_TEXT.fullmatch(key) is None:
            raise InvalidParameterValue(
                f"Tag key {key} is invalid. Reason: Tag keys can only include Unicode letters, digits, "
                "whitespace, and the characters _ . : / = + - @.")
        if key.lower().startswith("aws:"):
            raise InvalidParameterValue(
                f"Tag key {key} is invalid. Reason: The aws: prefix is reserved for use by AWS.")
