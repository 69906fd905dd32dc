"""SNS request-parameter rules: topic names, Publish and PublishBatch."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from postroom.core.sns import validate as v
from postroom.errors import (
    BatchEntryIdsNotDistinct,
    BatchRequestTooLong,
    EmptyBatchRequest,
    InvalidBatchEntryId,
    InvalidParameter,
    InvalidParameterValue,
    PostroomError,
    TooManyEntriesInBatchRequest,
)

NAME_CHARS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_"


# ---- topic names -------------------------------------------------------------------
@pytest.mark.parametrize(("name", "fifo"), [
    ("t", False), ("a" * 256, False), ("My_Topic-1", False),
    ("t.fifo", True), ("a" * 251 + ".fifo", True),
])
def test_valid_topic_names(name: str, fifo: bool) -> None:
    v.validate_topic_name(name, fifo)


@pytest.mark.parametrize(("name", "fifo", "message"), [
    ("", False, v.TOPIC_NAME_MESSAGE),
    ("a" * 257, False, v.TOPIC_NAME_MESSAGE),
    ("bad name", False, v.TOPIC_NAME_MESSAGE),
    ("t.fifo", False, v.TOPIC_NAME_MESSAGE),
    ("tópico", False, v.TOPIC_NAME_MESSAGE),
    ("t", True, v.FIFO_TOPIC_NAME_MESSAGE),
    (".fifo", True, v.FIFO_TOPIC_NAME_MESSAGE),
    ("a" * 252 + ".fifo", True, v.FIFO_TOPIC_NAME_MESSAGE),
    ("a.b.fifo", True, v.FIFO_TOPIC_NAME_MESSAGE),
])
def test_invalid_topic_names(name: str, fifo: bool, message: str) -> None:
    with pytest.raises(InvalidParameter) as info:
        v.validate_topic_name(name, fifo)
    assert info.value.message == message


@given(st.text(alphabet=NAME_CHARS, min_size=1, max_size=256))
def test_standard_names_of_allowed_characters_pass(name: str) -> None:
    v.validate_topic_name(name, False)
    if len(name) <= 251:
        v.validate_topic_name(name + ".fifo", True)


# ---- message, subject, structure -----------------------------------------------------
def test_empty_message() -> None:
    for message in ("", None):
        with pytest.raises(InvalidParameter, match=r"^Invalid parameter: Empty message$"):
            v.validate_message(message)
    v.validate_message(" ")


@pytest.mark.parametrize("subject", ["Hello", "a" * 100, "!punctuation first", "9 lives", None])
def test_valid_subjects(subject: str | None) -> None:
    v.validate_subject(subject)


@pytest.mark.parametrize("subject", ["", "a" * 101, " leading space", "line\nbreak", "cr\r", "tab\t",
                                     "caf\u00e9", "\x7f"])
def test_invalid_subjects(subject: str) -> None:
    with pytest.raises(InvalidParameter, match=r"^Invalid parameter: Subject$"):
        v.validate_subject(subject)


STRUCTURE_CASES = [
    ('{"default": "d"}', None),
    ('{"default": "d", "sqs": "s", "http": 3}', None),
    ("not json", "Invalid parameter: Message Structure - JSON message body failed to parse"),
    ('["default"]', "Invalid parameter: Message Structure - JSON message body failed to parse"),
    ('{"sqs": "s"}', "Invalid parameter: Message Structure - No default entry in JSON message body"),
    ('{"default": 1}', "Invalid parameter: Message Structure - No default entry in JSON message body"),
]


@pytest.mark.parametrize(("message", "error"), STRUCTURE_CASES)
def test_message_structure(message: str, error: str | None) -> None:
    if error is None:
        v.validate_message_structure(message, "json")
    else:
        with pytest.raises(InvalidParameter) as info:
            v.validate_message_structure(message, "json")
        assert info.value.message == error


def test_message_structure_absent_or_unknown() -> None:
    v.validate_message_structure("anything", None)
    with pytest.raises(InvalidParameter, match="MessageStructure"):
        v.validate_message_structure('{"default": "d"}', "xml")


@pytest.mark.parametrize(("protocol", "expected"), [("sqs", "S"), ("http", "default"), ("https", "H"),
                                                    ("email", "default")])
def test_choose_message_for_protocol(protocol: str, expected: str) -> None:
    message = json.dumps({"default": "default", "sqs": "S", "https": "H", "http": {"not": "a string"}})
    assert v.choose_message_for_protocol(message, "json", protocol) == expected


def test_choose_message_without_structure_is_verbatim() -> None:
    assert v.choose_message_for_protocol('{"sqs": "x"}', None, "sqs") == '{"sqs": "x"}'


# ---- group and dedup ids -------------------------------------------------------------
def test_fifo_publish_rules() -> None:
    v.validate_fifo_publish(True, False, "g", "d")
    v.validate_fifo_publish(True, True, "g", None)
    v.validate_fifo_publish(False, False, None, None)
    v.validate_fifo_publish(False, False, "tenant-1", None)  # fair queues
    with pytest.raises(InvalidParameter, match="MessageGroupId parameter is required for FIFO topics"):
        v.validate_fifo_publish(True, True, None, None)
    with pytest.raises(InvalidParameter, match="ContentBasedDeduplication enabled or MessageDeduplicationId"):
        v.validate_fifo_publish(True, False, "g", None)
    with pytest.raises(InvalidParameter, match="not valid for this topic type"):
        v.validate_fifo_publish(False, False, None, "d")
    with pytest.raises(InvalidParameter, match="MessageGroupId"):
        v.validate_fifo_publish(False, False, "has space", None)
    with pytest.raises(InvalidParameter, match="MessageDeduplicationId"):
        v.validate_fifo_publish(True, False, "g", "x" * 129)


@given(st.text(alphabet=NAME_CHARS + "!\"#$%&'()*+,./:;<=>?@[\\]^`{|}~", min_size=1, max_size=128))
def test_ids_of_alphanumerics_and_punctuation_pass(text: str) -> None:
    v.validate_group_id(text)
    v.validate_dedup_id(text)


# ---- message attributes --------------------------------------------------------------
def test_attributes_parse() -> None:
    attrs = v.parse_publish_attributes({
        "s": {"DataType": "String", "StringValue": "v"},
        "n": {"DataType": "Number", "StringValue": "-1.5e3"},
        "b": {"DataType": "Binary", "BinaryValue": b"\x00\x01"},
        "b64": {"DataType": "Binary.custom", "BinaryValue": "AAE="},
        "a": {"DataType": "String.Array", "StringValue": '["x", 1, true, null]'},
        "c": {"DataType": "String.custom", "StringValue": "v"},
        "AWS.SNS.MOBILE.APNS.TTL": {"DataType": "String", "StringValue": "60"},
    })
    assert attrs["s"] == ("String", "v")
    assert attrs["n"] == ("Number", "-1.5e3")
    assert attrs["b"] == ("Binary", b"\x00\x01")
    assert attrs["b64"] == ("Binary.custom", b"\x00\x01")
    assert attrs["a"] == ("String.Array", '["x", 1, true, null]')
    assert v.parse_publish_attributes(None) == {}
    assert v.parse_publish_attributes({}) == {}


S = {"DataType": "String", "StringValue": "v"}

ATTRIBUTE_ERRORS = [
    ({f"a{i}": S for i in range(11)}, "Number of message attributes [11] exceeds the allowed maximum [10]."),
    ({"a" * 257: S}, "Length of message attribute name must be less than 256 bytes."),
    ({".a": S}, "Invalid message attribute name starting with character '.' was found."),
    ({"a.": S}, "Invalid message attribute name ending with character '.' was found."),
    ({"a..b": S}, "Message attribute name can not have successive '.' character."),
    ({"a b": S}, "Invalid non-alphanumeric character '#x20' was found in the message attribute name. "
                 "Can only include alphanumeric characters, hyphens, underscores, or dots."),
    ({"AWS.x": S}, "Message attribute name 'AWS.x' is invalid. The prefixes AWS. and Amazon. "
                   "(case-insensitive) are reserved for use by Amazon."),
    ({"amazon.x": S}, "Message attribute name 'amazon.x' is invalid. The prefixes AWS. and Amazon. "
                      "(case-insensitive) are reserved for use by Amazon."),
    ({"n": {"DataType": "Text", "StringValue": "v"}},
     "The message attribute 'n' has an invalid message attribute type, the set of supported type prefixes is "
     "Binary, Number, and String."),
    ({"n": {"DataType": "String"}},
     "The message attribute 'n' must contain non-empty message attribute value for message attribute type "
     "'String'."),
    ({"n": {"DataType": "String", "StringValue": ""}},
     "The message attribute 'n' must contain non-empty message attribute value for message attribute type "
     "'String'."),
    ({"n": {"DataType": "Binary", "StringValue": "v"}},
     "The message attribute 'n' with type 'Binary' must use field 'Binary'."),
    ({"n": {"DataType": "Number", "BinaryValue": b"1"}},
     "The message attribute 'n' with type 'Number' must use field 'String'."),
    ({"n": {"DataType": "Binary", "BinaryValue": b""}},
     "The message attribute 'n' must contain non-empty message attribute value for message attribute type "
     "'Binary'."),
    ({"n": {"DataType": "Number", "StringValue": "one"}}, "Could not cast message attribute 'n' value to number."),
]


@pytest.mark.parametrize(("raw", "message"), ATTRIBUTE_ERRORS)
def test_attribute_errors(raw: dict[str, dict[str, object]], message: str) -> None:
    with pytest.raises(InvalidParameterValue) as info:
        v.parse_publish_attributes(raw)  # type: ignore[arg-type]
    assert info.value.message == message


@pytest.mark.parametrize("value", ["x", "{}", '["a", ["nested"]]', '[{"a": 1}]', "[NaN]", '"a"'])
def test_string_array_must_be_a_flat_json_array(value: str) -> None:
    with pytest.raises(InvalidParameterValue, match=r"String\.Array"):
        v.parse_publish_attributes({"a": {"DataType": "String.Array", "StringValue": value}})


@pytest.mark.parametrize("value", ["1" * 39, "1e127", "1e-129"])
def test_number_out_of_range(value: str) -> None:
    with pytest.raises(InvalidParameterValue, match="out of range for type Number"):
        v.parse_publish_attributes({"n": {"DataType": "Number", "StringValue": value}})


@pytest.mark.parametrize("value", ["0", "1" * 38, "1e126", "1e-128", "100000000000000000000000000000000000000000"])
def test_number_in_range(value: str) -> None:
    v.parse_publish_attributes({"n": {"DataType": "Number", "StringValue": value}})


@given(st.lists(st.one_of(st.text(max_size=5), st.integers(), st.booleans(), st.none(),
                          st.floats(allow_nan=False, allow_infinity=False)), max_size=5))
def test_any_flat_json_array_is_a_string_array(items: list[object]) -> None:
    text = json.dumps(items) if items else "[]"
    assert v.parse_publish_attributes({"a": {"DataType": "String.Array", "StringValue": text}}) == {
        "a": ("String.Array", text)}


# ---- sizes ---------------------------------------------------------------------------
def test_publish_size_counts_message_and_every_attribute_part() -> None:
    attrs = {"name": ("String", "värde"), "bin": ("Binary", b"\x00\x01\x02")}
    expected = len("héllo".encode()) + 4 + 6 + len("värde".encode()) + 3 + 6 + 3
    assert v.publish_size("héllo", "subject", attrs) == expected
    v.check_publish_size(v.MAX_PUBLISH_SIZE)
    with pytest.raises(InvalidParameter, match=r"^Invalid parameter: Message too long$"):
        v.check_publish_size(v.MAX_PUBLISH_SIZE + 1)


def test_batch_size() -> None:
    v.check_batch_size([v.MAX_PUBLISH_SIZE // 2, v.MAX_PUBLISH_SIZE // 2])
    with pytest.raises(BatchRequestTooLong,
                       match=r"^The length of all the messages put together is more than the limit\.$"):
        v.check_batch_size([v.MAX_PUBLISH_SIZE // 2, v.MAX_PUBLISH_SIZE // 2 + 1])


# ---- batch entries -------------------------------------------------------------------
BATCH_CASES: list[tuple[list[str], type[PostroomError], str]] = [
    ([], EmptyBatchRequest, "The batch request doesn't contain any entries."),
    ([str(i) for i in range(11)], TooManyEntriesInBatchRequest,
     "The batch request contains more entries than permissible."),
    (["a", "b", "a"], BatchEntryIdsNotDistinct, "Two or more batch entries in the request have the same Id."),
    (["a" * 81], InvalidBatchEntryId, "The Id of a batch entry in the batch request is too long: " + "a" * 81),
    (["a.b"], InvalidBatchEntryId,
     "The Id of a batch entry in the batch request contains an impermissible character: a.b"),
    ([""], InvalidBatchEntryId, "The Id of a batch entry in the batch request contains an impermissible character: "),
]


@pytest.mark.parametrize(("ids", "error", "message"), BATCH_CASES)
def test_batch_entry_errors(ids: list[str], error: type[PostroomError], message: str) -> None:
    with pytest.raises(error) as info:
        v.validate_batch_entries(ids)
    assert info.value.message == message


@given(st.lists(st.text(alphabet=NAME_CHARS, min_size=1, max_size=80), min_size=1, max_size=10, unique=True))
def test_distinct_valid_ids_pass(ids: list[str]) -> None:
    v.validate_batch_entries(ids)
