"""Message attributes and message system attributes: AWS's rules for names, data types
and values, and how they count towards the message size.

AWS docs: *Amazon SQS Developer Guide* › "Amazon SQS message attributes" and
"Amazon SQS message quotas"; *Amazon SQS API Reference* › ``MessageAttributeValue`` and
``MessageSystemAttributeValue``.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Mapping
from decimal import Decimal
from typing import Any, Final

from postroom.core import limits
from postroom.core.charset import INVALID_CHARACTERS_MESSAGE, has_invalid_characters, utf8_length
from postroom.core.model import MessageAttributes, MessageAttributeValue
from postroom.errors import InvalidParameterValue

BASE_TYPES: Final = ("String", "Number", "Binary")
SYSTEM_ATTRIBUTE_NAMES: Final = ("AWSTraceHeader",)

# AWS documents A-Z a-z 0-9 _ - . for names, and accepts accented Latin letters too
# (Latin-1 Supplement and Latin Extended-A, U+00C0–U+017F: "Größe", "café"), as observed
# against AWS by LocalStack ("While not documented, umlauts seem to be allowed").
_NAME: Final = re.compile("[A-Za-z0-9_.\\-\u00c0-\u017f]+")
_SELECT_ALL: Final = frozenset({"All", ".*", "*"})
_CUSTOM_TYPE: Final = re.compile(r"[A-Za-z0-9_.\-]*")
_RESERVED_PREFIXES: Final = ("aws.", "amazon.")
_NUMBER: Final = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")
_NUMBER_MAX: Final = Decimal(10) ** limits.NUMBER_MAX_EXPONENT
_NUMBER_MIN: Final = Decimal(10) ** limits.NUMBER_MIN_EXPONENT


def parse_message_attributes(raw: Mapping[str, Mapping[str, Any]] | None) -> MessageAttributes:
    """Validate SendMessage's ``MessageAttributes`` (boto3 shape: ``{name: {"DataType":
    "String", "StringValue": "v"}}`` or ``"BinaryValue": bytes``) into records.

    AWS rules: at most 10 attributes; a name is 1–256 characters of ``A-Z a-z 0-9 _ - .``
    (and accented Latin letters, which AWS accepts though it does not document them),
    does not start or end with a period, has no ``..``, and does not start with the
    reserved ``AWS.`` or ``Amazon.`` prefixes (any case); the data type is ``String``,
    ``Number`` or ``Binary``, optionally with a ``.custom`` label (256 characters in
    all); String and Number use ``StringValue``, Binary uses ``BinaryValue``; values are
    non-empty; String values obey the message-body character rule; a Number has at most
    38 significant digits and a magnitude between 10^-128 and 10^+126.
    """
    if not raw:
        return {}
    if len(raw) > limits.MAX_MESSAGE_ATTRIBUTES:
        raise InvalidParameterValue(
            f"Number of message attributes [{len(raw)}] exceeds the allowed maximum "
            f"[{limits.MAX_MESSAGE_ATTRIBUTES}].")
    out: MessageAttributes = {}
    for name, spec in raw.items():
        _check_name(name)
        out[name] = _parse_value(name, spec)
    return out


def parse_system_attributes(raw: Mapping[str, Mapping[str, Any]] | None) -> MessageAttributes:
    """Validate SendMessage's ``MessageSystemAttributes``: AWS accepts only
    ``AWSTraceHeader`` (an X-Ray trace header), whose data type must be ``String``."""
    if not raw:
        return {}
    out: MessageAttributes = {}
    for name, spec in raw.items():
        if name not in SYSTEM_ATTRIBUTE_NAMES:
            raise InvalidParameterValue(f"Message system attribute name '{name}' is invalid.")
        data_type = spec.get("DataType")
        if data_type != "String":
            raise InvalidParameterValue(
                f"The message system attribute '{name}' must be of type 'String', not '{data_type}'.")
        out[name] = _parse_value(name, spec, kind="system")
    return out


def message_size(body: str, attrs: Mapping[str, MessageAttributeValue]) -> int:
    """The size AWS holds against ``MaximumMessageSize``: the body's UTF-8 bytes plus,
    for every attribute, its name, its data type and its value (AWS doc: "All parts of
    the message attribute, including Name, Type, and Value, are part of the message size
    restriction")."""
    size = utf8_length(body)
    for name, value in attrs.items():
        size += utf8_length(name) + utf8_length(value.data_type)
        if value.binary_value is not None:
            size += len(value.binary_value)
        if value.string_value is not None:
            size += utf8_length(value.string_value)
    return size


# ---- names ---------------------------------------------------------------------
def _well_formed(name: str) -> bool:
    return (0 < len(name) <= limits.MAX_ATTRIBUTE_NAME_LENGTH and _NAME.fullmatch(name) is not None
            and not name.startswith(".") and not name.endswith(".") and ".." not in name)


def _reserved(name: str) -> bool:
    return name.lower().startswith(_RESERVED_PREFIXES)


def select_message_attributes(attrs: MessageAttributes, names: list[str]) -> MessageAttributes | None:
    """The attributes ReceiveMessage's ``MessageAttributeNames`` selects, as AWS selects
    them (LocalStack's AWS-validated ``test_receive_message_message_attribute_names_filters``):
    ``All``, ``.*`` and ``*`` select every attribute; ``prefix.*`` those whose name starts
    with ``prefix`` (``Hel.*`` selects ``Hello`` and ``Help.Me``); any other entry the
    attribute of exactly that name. Entries that are not valid attribute names (``AWS.``,
    ``..foo``) select nothing and are no error. None (no ``MessageAttributes`` at all)
    when nothing valid was asked for or the message has no attributes; an empty mapping
    when valid names matched none of the message's attributes, as AWS answers then."""
    if not attrs:
        return None
    if _SELECT_ALL.intersection(names):
        return dict(attrs)
    prefixes = tuple(n[:-2] for n in names if n.endswith(".*") and _selectable(n[:-2]))
    exact = {n for n in names if _selectable(n)}
    if not prefixes and not exact:
        return None
    return {k: v for k, v in attrs.items() if k in exact or (prefixes and k.startswith(prefixes))}


def _selectable(name: str) -> bool:
    return _well_formed(name) and not _reserved(name)


def _check_name(name: str) -> None:
    if not name:
        raise InvalidParameterValue("The request must contain non-empty message attribute name.")
    if _reserved(name):
        raise InvalidParameterValue(
            f"Message (user) attribute name '{name}' is invalid. The prefixes AWS. and Amazon. "
            "(case-insensitive) are reserved for use by Amazon.")
    if not _well_formed(name):
        raise InvalidParameterValue(
            f"Message (user) attribute name '{name}' is invalid. Names can contain alphanumeric "
            "characters, hyphens (-), underscores (_), and periods (.); cannot start or end with a "
            "period or contain consecutive periods; and can be up to 256 characters long.")


# ---- values --------------------------------------------------------------------
def _parse_value(name: str, spec: Mapping[str, Any], kind: str = "user") -> MessageAttributeValue:
    data_type = spec.get("DataType")
    if not data_type or not isinstance(data_type, str):
        raise InvalidParameterValue(f"The message attribute '{name}' must contain non-empty message "
                                    "attribute type.")
    base, dot, custom = data_type.partition(".")
    if base not in BASE_TYPES:
        raise InvalidParameterValue(
            f"The type of message ({kind}) attribute '{name}' is invalid. You must use only the "
            "following supported type prefixes: Binary, Number, String.")
    if (len(data_type) > limits.MAX_ATTRIBUTE_DATA_TYPE_LENGTH
            or (dot and _CUSTOM_TYPE.fullmatch(custom) is None)):
        raise InvalidParameterValue(
            f"Message ({kind}) attribute '{name}' has an invalid data type '{data_type}'. A custom "
            "type label can contain alphanumeric characters, hyphens (-), underscores (_), and "
            "periods (.), and the data type can be up to 256 characters long.")
    string_value = spec.get("StringValue")
    binary_value = spec.get("BinaryValue")
    if base == "Binary":
        if string_value is not None:
            raise InvalidParameterValue(
                f"The message attribute '{name}' with type 'Binary' must use field 'Binary'.")
        if binary_value is None:
            raise InvalidParameterValue(
                f"The message attribute '{name}' must contain non-empty message attribute value for "
                f"message attribute type '{data_type}'.")
        data = decode_binary(name, binary_value)
        if not data:
            raise InvalidParameterValue(
                f"Message ({kind}) attribute '{name}' must contain a non-empty value of type 'Binary'.")
        return MessageAttributeValue(data_type, binary_value=data)
    if binary_value is not None:
        raise InvalidParameterValue(
            f"The message attribute '{name}' with type '{base}' must use field 'String'.")
    if string_value is None:
        raise InvalidParameterValue(
            f"The message attribute '{name}' must contain non-empty message attribute value for "
            f"message attribute type '{data_type}'.")
    if not isinstance(string_value, str):
        raise InvalidParameterValue(f"The message attribute '{name}' must have a string value.")
    if not string_value:
        raise InvalidParameterValue(
            f"Message ({kind}) attribute '{name}' must contain a non-empty value of type '{base}'.")
    if has_invalid_characters(string_value):
        raise InvalidParameterValue(
            f"Message ({kind}) attribute '{name}' value is invalid. {INVALID_CHARACTERS_MESSAGE}")
    if base == "Number":
        _check_number(name, string_value)
    return MessageAttributeValue(data_type, string_value=string_value)


def decode_binary(name: str, value: Any) -> bytes:
    """boto3 hands over ``bytes``; a wire-level caller may hand over the base64 text the
    JSON and query protocols carry. (Shared with SNS's message attributes.)"""
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value)
    if isinstance(value, str):
        try:
            return base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise InvalidParameterValue(
                f"The message attribute '{name}' has an invalid binary value: not valid base64.") from exc
    raise InvalidParameterValue(f"The message attribute '{name}' has an invalid binary value.")


def number_problem(text: str) -> str | None:
    """``"cast"`` if ``text`` is not a number, ``"range"`` if it breaks AWS's Number rule
    ("up to 38 digits of precision, and it can be between 10^-128 and 10^+126. Leading and
    trailing zeroes are trimmed"), else None. Shared by SQS and SNS, which word the
    errors differently."""
    if _NUMBER.fullmatch(text) is None:
        return "cast"
    number = Decimal(text)
    if number.is_zero():
        return None
    digits = "".join(map(str, number.as_tuple().digits)).strip("0")
    magnitude = abs(number)
    if len(digits) > limits.NUMBER_MAX_DIGITS or magnitude > _NUMBER_MAX or magnitude < _NUMBER_MIN:
        return "range"
    return None


def _check_number(name: str, text: str) -> None:
    problem = number_problem(text)
    if problem == "cast":
        raise InvalidParameterValue(f"Can't cast the value of message (user) attribute '{name}' to a number.")
    if problem == "range":
        raise InvalidParameterValue(
            f"Value {text} for message (user) attribute '{name}' is out of range for type Number. "
            "A number can have up to 38 digits of precision and a magnitude between 10^-128 and 10^+126.")
