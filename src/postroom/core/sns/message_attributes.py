"""Message attributes of Amazon SNS Publish and PublishBatch: AWS's rules for names,
data types and values, with the messages SNS answers (``ParameterValueInvalid``, postroom's
:class:`~postroom.errors.InvalidParameterValue`).

AWS docs: *Amazon SNS Developer Guide* › "Amazon SNS message attributes"; *Amazon SNS API
Reference* › ``MessageAttributeValue``. Messages as recorded by LocalStack's
snapshot-validated tests where known.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from decimal import Decimal
from typing import Any, Final

from postroom.core import limits
from postroom.core.message_attributes import decode_binary, number_problem
from postroom.errors import InvalidParameterValue

PublishAttributes = dict[str, tuple[str, str | bytes]]
"""SNS message attributes after validation: name → (DataType, value); ``bytes`` for the
Binary types, ``str`` for the others."""

MAX_MESSAGE_ATTRIBUTES: Final = 10
_ATTRIBUTE_NAME_CHARS: Final = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-.")
_RESERVED_PREFIXES: Final = ("aws.", "amazon.")
_SNS_RESERVED_PREFIX: Final = "aws.sns."
"""SNS's own attributes (``AWS.SNS.MOBILE.*``, ``AWS.SNS.SMS.*``) are accepted."""
_BASE_TYPES: Final = ("String", "Number", "Binary")
_NUMBER: Final = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")
_NUMBER_MAX: Final = Decimal(10) ** limits.NUMBER_MAX_EXPONENT
_NUMBER_MIN: Final = Decimal(10) ** limits.NUMBER_MIN_EXPONENT


def parse_publish_attributes(raw: Mapping[str, Mapping[str, Any]] | None) -> PublishAttributes:
    """Validate Publish's ``MessageAttributes`` (boto3 shape ``{name: {"DataType":
    "String", "StringValue": "v"}}``; ``BinaryValue`` as ``bytes`` or the base64 text of
    the wire) into ``{name: (data_type, value)}``.

    Rules (AWS Developer Guide › "Amazon SNS message attributes"): at most 10 attributes;
    a name is at most 256 characters of ``A-Z a-z 0-9 _ - .``, not starting or ending with
    a period, without ``..``, and not using the ``AWS.``/``Amazon.`` prefixes reserved by
    AWS (SNS's own ``AWS.SNS.*`` names excepted); the data type is ``String``,
    ``String.Array``, ``Number`` or ``Binary``, optionally with a custom ``.label``; String,
    String.Array and Number use ``StringValue``, Binary uses ``BinaryValue``; values are
    non-empty; a ``String.Array`` value is a JSON array of strings, numbers, booleans and
    nulls; a ``Number`` has at most 38 significant digits and a magnitude between 10^-128
    and 10^+126. Breaches are InvalidParameterValue (SNS's ``ParameterValueInvalid``).
    """
    if not raw:
        return {}
    if len(raw) > MAX_MESSAGE_ATTRIBUTES:
        raise InvalidParameterValue(
            f"Number of message attributes [{len(raw)}] exceeds the allowed maximum [{MAX_MESSAGE_ATTRIBUTES}].")
    out: PublishAttributes = {}
    for name, spec in raw.items():
        _check_attribute_name(name)
        out[name] = _attribute_value(name, spec)
    return out


def _check_attribute_name(name: str) -> None:
    """AWS's messages, checked in AWS's order (length, then each character rule)."""
    if not isinstance(name, str) or not name:
        raise InvalidParameterValue("The request must contain non-empty message attribute name.")
    if len(name.encode("utf-8")) > limits.MAX_ATTRIBUTE_NAME_LENGTH:
        raise InvalidParameterValue("Length of message attribute name must be less than 256 bytes.")
    if name.startswith("."):
        raise InvalidParameterValue("Invalid message attribute name starting with character '.' was found.")
    if name.endswith("."):
        raise InvalidParameterValue("Invalid message attribute name ending with character '.' was found.")
    for index, char in enumerate(name):
        if char not in _ATTRIBUTE_NAME_CHARS:
            raise InvalidParameterValue(
                f"Invalid non-alphanumeric character '#x{ord(char):X}' was found in the message attribute name. "
                "Can only include alphanumeric characters, hyphens, underscores, or dots.")
        if char == "." and name[index - 1] == ".":
            raise InvalidParameterValue("Message attribute name can not have successive '.' character.")
    lowered = name.lower()
    if lowered.startswith(_RESERVED_PREFIXES) and not lowered.startswith(_SNS_RESERVED_PREFIX):
        raise InvalidParameterValue(
            f"Message attribute name '{name}' is invalid. The prefixes AWS. and Amazon. (case-insensitive) "
            "are reserved for use by Amazon.")


def _attribute_value(name: str, spec: Mapping[str, Any]) -> tuple[str, str | bytes]:
    if not isinstance(spec, Mapping):
        raise InvalidParameterValue(f"The message attribute '{name}' must contain a message attribute value.")
    data_type = spec.get("DataType")
    if not isinstance(data_type, str) or not data_type:
        # botocore checks this client-side; AWS's own answer is a ValidationError.
        raise InvalidParameterValue(
            f"1 validation error detected: Value null at 'messageAttributes.{name}.member.dataType' failed to "
            "satisfy constraint: Member must not be null")
    base, dot, label = data_type.partition(".")
    if base not in _BASE_TYPES or (dot and not label) or len(data_type) > limits.MAX_ATTRIBUTE_DATA_TYPE_LENGTH:
        raise InvalidParameterValue(
            f"The message attribute '{name}' has an invalid message attribute type, the set of supported type "
            "prefixes is Binary, Number, and String.")
    string_value = spec.get("StringValue")
    binary_value = spec.get("BinaryValue")
    if string_value is None and binary_value is None:
        raise _empty_value(name, data_type)
    if base == "Binary":
        if binary_value is None:
            raise _wrong_field(name, data_type, "Binary")
        data = decode_binary(name, binary_value)
        if not data:
            raise _empty_value(name, data_type)
        return data_type, data
    if string_value is None:
        raise _wrong_field(name, data_type, "String")
    if not isinstance(string_value, str):
        raise InvalidParameterValue(f"The message attribute '{name}' must have a string value.")
    if not string_value:
        raise _empty_value(name, data_type)
    if data_type == "String.Array":
        _check_string_array(name, string_value)
    elif base == "Number":
        _check_number(name, string_value)
    return data_type, string_value


def _empty_value(name: str, data_type: str) -> InvalidParameterValue:
    return InvalidParameterValue(
        f"The message attribute '{name}' must contain non-empty message attribute value for message attribute "
        f"type '{data_type}'.")


def _wrong_field(name: str, data_type: str, field: str) -> InvalidParameterValue:
    return InvalidParameterValue(f"The message attribute '{name}' with type '{data_type}' must use field '{field}'.")


def _reject_constant(token: str) -> Any:
    raise ValueError(f"Non-standard token '{token}'")


def _check_string_array(name: str, text: str) -> None:
    """AWS Developer Guide: "String.Array – An array, formatted as a string, that can
    contain multiple values. The values can be strings, numbers, or the keywords true,
    false, and null." Nested arrays and objects are not values."""
    try:
        loaded = json.loads(text, parse_constant=_reject_constant)
    except (ValueError, RecursionError):
        loaded = None
    if not isinstance(loaded, list) or any(isinstance(item, list | dict) for item in loaded):
        raise InvalidParameterValue(
            f"The message attribute '{name}' with type 'String.Array' has an invalid value. The value must be "
            "a JSON array of strings, numbers, or the keywords true, false, and null.")


def _check_number(name: str, text: str) -> None:
    """A ``Number`` follows SQS's rule (SNS delivers it to SQS unchanged)."""
    problem = number_problem(text.strip())
    if problem == "cast":
        raise InvalidParameterValue(f"Could not cast message attribute '{name}' value to number.")
    if problem == "range":
        raise InvalidParameterValue(
            f"Value {text} for message attribute '{name}' is out of range for type Number. A number can have "
            "up to 38 digits of precision and a magnitude between 10^-128 and 10^+126.")
