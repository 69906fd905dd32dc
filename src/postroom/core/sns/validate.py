"""Request-parameter rules of Amazon SNS (topic names, Publish and PublishBatch), raising
the error SNS raises with an SNS-like message.

SNS words its errors differently from SQS: most are ``InvalidParameter`` with
``"Invalid parameter: <what>"`` messages; message-attribute errors are
``ParameterValueInvalid`` (postroom's :class:`~postroom.errors.InvalidParameterValue`).
Messages marked *AWS* below were recorded against the service (LocalStack's
snapshot-validated tests, SDK issue threads); the others follow SNS's wording style.

AWS docs: *Amazon SNS API Reference* › CreateTopic, Publish, PublishBatch,
``MessageAttributeValue``; *Amazon SNS Developer Guide* › "Amazon SNS message attributes",
"Amazon SNS message filtering" and "Message grouping for FIFO topics".
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Final

from postroom.core import limits
from postroom.core.sns.message_attributes import MAX_MESSAGE_ATTRIBUTES, PublishAttributes, parse_publish_attributes
from postroom.errors import (
    BatchEntryIdsNotDistinct,
    BatchRequestTooLong,
    EmptyBatchRequest,
    InvalidBatchEntryId,
    InvalidParameter,
    TooManyEntriesInBatchRequest,
)

__all__ = [
    "MAX_MESSAGE_ATTRIBUTES",
    "MAX_PUBLISH_SIZE",
    "MAX_SUBJECT_LENGTH",
    "PublishAttributes",
    "check_arn_elements",
    "check_batch_size",
    "check_publish_size",
    "check_subscription_arn",
    "choose_message_for_protocol",
    "parse_publish_attributes",
    "publish_size",
    "raw_publish_size",
    "validate_batch_entries",
    "validate_dedup_id",
    "validate_fifo_publish",
    "validate_group_id",
    "validate_message",
    "validate_message_structure",
    "validate_subject",
    "validate_topic_name",
]


MAX_PUBLISH_SIZE: Final = 262_144
"""256 KiB: a published message plus its attributes (names, data types, values); also the
summed size of every entry of a PublishBatch (AWS API Reference › Publish, PublishBatch)."""
MAX_TOPIC_NAME_LENGTH: Final = 256
MAX_SUBJECT_LENGTH: Final = 100
MAX_BATCH_ENTRIES: Final = 10
MAX_BATCH_ENTRY_ID_LENGTH: Final = 80

TOPIC_NAME_MESSAGE: Final = "Invalid parameter: Topic Name"
"""AWS, for a standard topic's bad name (InvalidParameter)."""
FIFO_TOPIC_NAME_MESSAGE: Final = (
    "Fifo Topic names must end with .fifo and must be made up of only uppercase and lowercase ASCII "
    "letters, numbers, underscores, and hyphens, and must be between 1 and 256 characters long.")
"""For a FIFO topic's bad name (InvalidParameter), in the words LocalStack answers with."""

_TOPIC_NAME: Final = re.compile(r"[A-Za-z0-9_-]{1,256}")
_FIFO_TOPIC_NAME: Final = re.compile(r"[A-Za-z0-9_-]{1,251}\.fifo")
_BATCH_ENTRY_ID: Final = re.compile(r"[A-Za-z0-9_-]+")
_FIFO_ID: Final = re.compile("[A-Za-z0-9" + re.escape(limits.PUNCTUATION) + "]{1,128}")
_SUBJECT: Final = re.compile(r"[!-~][ -~]*")
"""Printable ASCII, not starting with a space: "ASCII text that begins with a letter,
number, or punctuation mark; must not include line breaks or control characters"."""


# ---- topics --------------------------------------------------------------------
def validate_topic_name(name: str, fifo: bool) -> None:
    """CreateTopic ``Name``: 1–256 characters of ASCII letters, digits, hyphens and
    underscores; a FIFO topic's name must end in ``.fifo``, the suffix counting towards
    the 256. A standard topic's name cannot end in ``.fifo`` (the period is not allowed).
    Both are InvalidParameter."""
    if fifo:
        if not isinstance(name, str) or _FIFO_TOPIC_NAME.fullmatch(name) is None:
            raise InvalidParameter(FIFO_TOPIC_NAME_MESSAGE)
    elif not isinstance(name, str) or _TOPIC_NAME.fullmatch(name) is None:
        raise InvalidParameter(TOPIC_NAME_MESSAGE)


# ---- message, subject, structure -----------------------------------------------
def validate_message(message: str | None) -> None:
    """Publish ``Message`` is required and non-empty: AWS "Invalid parameter: Empty message"."""
    if not message:
        raise InvalidParameter("Invalid parameter: Empty message")


def validate_subject(subject: str | None) -> None:
    """Publish ``Subject`` (optional; ``None`` passes): ASCII text that begins with a
    letter, number or punctuation mark, without line breaks or control characters, at
    most 100 characters (the API reference says "less than 100", but AWS accepts 100:
    getmoto/moto#1503). Any breach, the empty string included, is AWS's InvalidParameter
    "Invalid parameter: Subject"."""
    if subject is None:
        return
    if len(subject) > MAX_SUBJECT_LENGTH or _SUBJECT.fullmatch(subject) is None:
        raise InvalidParameter("Invalid parameter: Subject")


def structured_message(message: str) -> dict[str, str]:
    """A ``MessageStructure=json`` message: a JSON object whose string values are the
    per-protocol messages. "Keys in the JSON object that correspond to supported transport
    protocols must have simple JSON string values"; other values are ignored."""
    try:
        loaded = json.loads(message)
    except (ValueError, RecursionError):
        loaded = None
    if not isinstance(loaded, dict):
        raise InvalidParameter("Invalid parameter: Message Structure - JSON message body failed to parse")
    return {key: value for key, value in loaded.items() if isinstance(value, str)}


def validate_message_structure(message: str, structure: str | None) -> None:
    """Publish ``MessageStructure``: absent, or ``json``, in which case the message must be
    a JSON object (AWS "Invalid parameter: Message Structure - JSON message body failed to
    parse") with a string ``default`` entry (AWS "Invalid parameter: Message Structure - No
    default entry in JSON message body"). Any other value is InvalidParameter
    "Invalid parameter: MessageStructure"."""
    if structure is None:
        return
    if structure != "json":
        raise InvalidParameter("Invalid parameter: MessageStructure")
    if "default" not in structured_message(message):
        raise InvalidParameter("Invalid parameter: Message Structure - No default entry in JSON message body")


def choose_message_for_protocol(message: str, structure: str | None, protocol: str) -> str:
    """The message a subscriber of ``protocol`` (``sqs``, ``http``, ``https`` …) receives:
    the published message itself, or, with ``MessageStructure=json``, the entry named after
    the protocol if it is a string, else the ``default`` entry. Raises like
    :func:`validate_message_structure` on a message that would not have been accepted."""
    if structure != "json":
        return message
    entries = structured_message(message)
    chosen = entries.get(protocol, entries.get("default"))
    if chosen is None:
        raise InvalidParameter("Invalid parameter: Message Structure - No default entry in JSON message body")
    return chosen


# ---- FIFO and fair-queue ids ---------------------------------------------------
def _fifo_id(parameter: str, value: str) -> None:
    if not isinstance(value, str) or _FIFO_ID.fullmatch(value) is None:
        raise InvalidParameter(
            f"Invalid parameter: {parameter} Reason: {parameter} can only include alphanumeric and "
            "punctuation characters. 1 to 128 in length.")


def validate_group_id(group_id: str) -> None:
    """``MessageGroupId``: up to 128 alphanumerics and punctuation
    ``!"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~`` (AWS API Reference › Publish). The rule holds on
    standard topics too, where the id is optional and only forwarded to SQS standard
    subscriptions (fair queues)."""
    _fifo_id("MessageGroupId", group_id)


def validate_dedup_id(dedup_id: str) -> None:
    """``MessageDeduplicationId``: the same 1–128 alphanumerics-and-punctuation rule."""
    _fifo_id("MessageDeduplicationId", dedup_id)


def validate_fifo_publish(topic_fifo: bool, content_based_dedup: bool, group_id: str | None,
                          dedup_id: str | None) -> None:
    """The group/deduplication-id rules of Publish (and of each PublishBatch entry):

    * FIFO topic: ``MessageGroupId`` is required (AWS "Invalid parameter: The
      MessageGroupId parameter is required for FIFO topics"); without
      ContentBasedDeduplication a ``MessageDeduplicationId`` is required too (AWS "Invalid
      parameter: The topic should either have ContentBasedDeduplication enabled or
      MessageDeduplicationId provided explicitly").
    * Standard topic: ``MessageDeduplicationId`` is rejected (AWS "Invalid parameter:
      MessageDeduplicationId Reason: The request includes MessageDeduplicationId parameter
      that is not valid for this topic type"); ``MessageGroupId`` is optional since 2025
      (fair queues) and follows the FIFO rule when given.
    """
    if topic_fifo:
        if not group_id:
            raise InvalidParameter("Invalid parameter: The MessageGroupId parameter is required for FIFO topics")
        validate_group_id(group_id)
        if dedup_id is None:
            if not content_based_dedup:
                raise InvalidParameter(
                    "Invalid parameter: The topic should either have ContentBasedDeduplication enabled or "
                    "MessageDeduplicationId provided explicitly")
        else:
            validate_dedup_id(dedup_id)
        return
    if dedup_id is not None:
        raise InvalidParameter(
            "Invalid parameter: MessageDeduplicationId Reason: The request includes MessageDeduplicationId "
            "parameter that is not valid for this topic type")
    if group_id is not None:
        validate_group_id(group_id)


def publish_size(message: str, subject: str | None, attrs: Mapping[str, tuple[str, str | bytes]]) -> int:
    """The size SNS holds against :data:`MAX_PUBLISH_SIZE`: the message's UTF-8 bytes plus,
    for every attribute, its name, data type and value ("All parts of the message
    attribute, including name, type, and value, are included in the message size
    restriction, which is 256 KB"). The subject is not part of it (AWS counts "the
    message"); the parameter is taken so the rule can change in one place."""
    del subject
    size = len(message.encode("utf-8", "surrogatepass"))
    for name, (data_type, value) in attrs.items():
        size += len(name.encode("utf-8")) + len(data_type.encode("utf-8"))
        size += len(value) if isinstance(value, bytes) else len(value.encode("utf-8", "surrogatepass"))
    return size


def check_publish_size(size: int) -> None:
    """AWS "Invalid parameter: Message too long" (InvalidParameter) above 256 KiB."""
    if size > MAX_PUBLISH_SIZE:
        raise InvalidParameter("Invalid parameter: Message too long")


# ---- batches -------------------------------------------------------------------
def validate_batch_entries(ids: Sequence[str]) -> None:
    """PublishBatch's whole-batch checks, in AWS's order: at least one entry
    (EmptyBatchRequest), at most 10 (TooManyEntriesInBatchRequest "The batch request
    contains more entries than permissible."), distinct ids (BatchEntryIdsNotDistinct "Two
    or more batch entries in the request have the same Id."), then each id 1–80
    alphanumerics, hyphens and underscores (InvalidBatchEntryId)."""
    if not ids:
        raise EmptyBatchRequest("The batch request doesn't contain any entries.")
    if len(ids) > MAX_BATCH_ENTRIES:
        raise TooManyEntriesInBatchRequest("The batch request contains more entries than permissible.")
    if len(set(ids)) != len(ids):
        raise BatchEntryIdsNotDistinct("Two or more batch entries in the request have the same Id.")
    for entry_id in ids:
        if not isinstance(entry_id, str) or len(entry_id) > MAX_BATCH_ENTRY_ID_LENGTH:
            raise InvalidBatchEntryId(f"The Id of a batch entry in the batch request is too long: {entry_id}")
        if _BATCH_ENTRY_ID.fullmatch(entry_id) is None:
            raise InvalidBatchEntryId(
                f"The Id of a batch entry in the batch request contains an impermissible character: {entry_id}")


def check_batch_size(sizes: Iterable[int]) -> None:
    """The summed :func:`publish_size` of a PublishBatch's entries above 256 KiB is
    BatchRequestTooLong "The length of all the messages put together is more than the
    limit." (AWS)."""
    if sum(sizes) > MAX_PUBLISH_SIZE:
        raise BatchRequestTooLong("The length of all the messages put together is more than the limit.")


def raw_publish_size(message: str | None, attributes: Mapping[str, Mapping[str, object]] | None) -> int:
    """:func:`publish_size` of an entry as the request gave it, before its attributes are
    validated: AWS holds a PublishBatch's summed size against the limit (BatchRequestTooLong)
    before it looks at any entry's content, so one oversized entry is BatchRequestTooLong,
    not "Message too long" (LocalStack's AWS-validated test_publish_batch_too_long_message)."""
    size = len((message or "").encode("utf-8", "surrogatepass"))
    for name, spec in (attributes or {}).items():
        size += len(str(name).encode("utf-8", "surrogatepass"))
        size += len(str(spec.get("DataType") or "").encode("utf-8", "surrogatepass"))
        value = spec.get("BinaryValue") if spec.get("BinaryValue") is not None else spec.get("StringValue")
        if isinstance(value, bytes):
            size += len(value)
        elif value is not None:
            size += len(str(value).encode("utf-8", "surrogatepass"))
    return size


# ---- ARNs ----------------------------------------------------------------------
def check_arn_elements(arn: str | None, parameter: str, required: bool = True) -> list[str]:
    """The ``:``-separated elements of an ARN parameter, refused the way SNS refuses a value
    that is no ARN at all (recorded against AWS, LocalStack's test_sns snapshots):

    * absent, or empty for a ``required`` parameter: InvalidParameter "Invalid parameter:
      <parameter> Reason: no value for required parameter" (an empty SubscriptionArn); an
      empty optional one (Publish's TopicArn) counts as one element;
    * fewer than six elements: InvalidParameter "Invalid parameter: <parameter> Reason: An
      ARN must have at least 6 elements, not <n>" (``randomstring`` → not 1).

    What is then wrong with a well-formed ARN (its service, its region) is the caller's to
    say. The resource part may hold colons, so only the first five separate elements."""
    if arn is None or (required and not arn):
        raise InvalidParameter(f"Invalid parameter: {parameter} Reason: no value for required parameter")
    parts = arn.split(":", 5)
    if len(parts) < 6:
        raise InvalidParameter(f"Invalid parameter: {parameter} Reason: An ARN must have at least 6 elements, "
                               f"not {len(parts)}")
    return arn.split(":")


def check_subscription_arn(arn: str | None) -> str:
    """A SubscriptionArn (``arn:aws:sns:<region>:<account>:<topic>:<subscription id>``), as
    Unsubscribe, GetSubscriptionAttributes and SetSubscriptionAttributes read it on AWS:
    :func:`check_arn_elements` first; then an ARN that names no subscription of an SNS topic
    (``arn:aws:sns:us-east-1:111111111111:random``, no subscription id; an ``sqs`` ARN) is
    InvalidParameter "Invalid parameter: SubscriptionId". A well-formed ARN of a subscription
    that does not exist is the caller's to answer (Unsubscribe: success; the attribute
    actions: NotFound)."""
    parts = check_arn_elements(arn, "SubscriptionArn")
    assert arn is not None
    if len(parts) != 7 or parts[0] != "arn" or parts[2] != "sns" or not parts[5] or not parts[6]:
        raise InvalidParameter("Invalid parameter: SubscriptionId")
    return arn
