"""Validate one filter-policy property's list of match values and compile it to a
:class:`~postroom.core.sns.filter_policy_rules.KeyRule`.

AWS docs: *Amazon SNS Developer Guide* › "Amazon SNS subscription filter policies" (String
value matching, Numeric value matching, IP address matching, Key matching). The error texts
are the ones SNS returns (code ``InvalidParameter``), recorded from AWS: SNS appends a parser
position (``\\n at [Source: ...; line: 1, column: N]``) that postroom leaves out.
"""

from __future__ import annotations

import ipaddress
import json
import re
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any, Final

from postroom.core.sns.filter_policy_location import Location
from postroom.core.sns.filter_policy_rules import (
    Cidr,
    Condition,
    EqualsIgnoreCase,
    KeyRule,
    NotIn,
    NotMatching,
    NumericRange,
    Prefix,
    Suffix,
    ValueKey,
    Wildcard,
    canonical_number,
    value_key,
)
from postroom.errors import InvalidParameterValue

ERROR_PREFIX: Final = "Invalid parameter: FilterPolicy: "
_LOWER_OPERATORS: Final = frozenset({">", ">="})
_UPPER_OPERATORS: Final = frozenset({"<", "<="})
_NUMERIC_OPERATORS: Final = _LOWER_OPERATORS | _UPPER_OPERATORS | {"="}


class PolicyError(InvalidParameterValue):
    """A bad ``FilterPolicy`` and, when SNS's parser reports one, where it stopped (``at``, see
    :mod:`postroom.core.sns.filter_policy_location`). ``mode`` is how far the parser had read
    the offending value, for the caller that knows the value's container to fill ``at`` in."""

    def __init__(self, message: str, at: Location | None = None, mode: str = "read") -> None:
        super().__init__(message)
        self.at = at
        self.mode = mode


def policy_error(reason: str, at: Location | None = None, mode: str = "read") -> PolicyError:
    """SNS's ``InvalidParameter`` error for a bad ``FilterPolicy``."""
    return PolicyError(ERROR_PREFIX + reason, at, mode)


def _placed(err: PolicyError, container: Any, key: Any) -> PolicyError:
    """``err``, placed at ``key`` of ``container`` unless an inner call placed it already."""
    if err.at is None:
        err.at = (container, key, err.mode)
    return err


def _token(value: Any) -> str:
    """How AWS's JSON parser names a token in its messages: strings bare, others as JSON."""
    if isinstance(value, str):
        return value
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dict):
        return "{"
    if isinstance(value, list):
        return "["
    return json.dumps(value)


def _is_number(value: Any) -> bool:
    return isinstance(value, Decimal)


def compile_key_rule(path: str, values: list[Any], depth: int) -> KeyRule:
    """A property's list: exact strings, numbers, ``true``/``false``/``null``, or one-key
    operator objects. An empty list is an error ("Empty arrays are not allowed")."""
    if not values:
        raise policy_error("Empty arrays are not allowed", (values, None, "read"))
    exact: set[ValueKey] = set()
    positive: list[Condition] = []
    negative: list[Condition] = []
    exists: set[bool] = set()
    for index, value in enumerate(values):
        if isinstance(value, dict):
            _compile_operator(value, positive, negative, exists)
        elif isinstance(value, list):
            raise policy_error("Match value must be String, number, true, false, or null", (values, index, "read"))
        else:
            exact.add(value_key(value))
    return KeyRule(path, frozenset(exact), tuple(positive), tuple(negative),
                   True in exists, False in exists, len(values) * depth)


def _compile_operator(operator: Mapping[str, Any], positive: list[Condition], negative: list[Condition],
                      exists: set[bool]) -> None:
    _one_key(operator)
    ((name, operand),) = operator.items()
    try:
        if name == "exists":
            if not isinstance(operand, bool):
                raise policy_error("exists match pattern must be either true or false.")
            exists.add(operand)
        elif name == "anything-but":
            negative.append(_anything_but(operand))
        elif name == "numeric":
            positive.append(_numeric(operand))
        elif name == "cidr":
            positive.append(_cidr(operand))
        elif name in _STRING_OPERATORS:
            positive.append(_STRING_OPERATORS[name](operand))
        else:
            raise policy_error(f"Unrecognized match type {name}")
    except PolicyError as err:
        raise _placed(err, operator, name) from None


def _one_key(operator: Mapping[str, Any]) -> None:
    """A match expression has one key: the parser stops at the closing brace of an empty one,
    or at the value of the second key."""
    if not operator:
        raise policy_error("Empty objects are not allowed", (operator, None, "read"))
    if len(operator) > 1:
        raise policy_error("Only one key allowed in match expression", (operator, list(operator)[1], "read"))


# --- string operators ------------------------------------------------------------------


def _string_operand(name: str, operand: Any) -> str:
    if not isinstance(operand, str):
        raise policy_error(f"{name} match pattern must be a string")
    return operand


def _prefix(operand: Any) -> Condition:
    return Prefix(_string_operand("prefix", operand))


def _suffix(operand: Any) -> Condition:
    return Suffix(_string_operand("suffix", operand))


def _equals_ignore_case(operand: Any) -> Condition:
    return EqualsIgnoreCase(frozenset({_string_operand("equals-ignore-case", operand).lower()}))


def _wildcard(operand: Any) -> Condition:
    """``*`` matches any run of characters; ``\\*`` and ``\\\\`` are literals; two ``*`` in a
    row and any other escape are rejected (the rules EventBridge and SNS share)."""
    text = _string_operand("wildcard", operand)
    parts: list[str] = []
    index = 0
    while index < len(text):
        char = text[index]
        if char == "\\":
            if index + 1 >= len(text) or text[index + 1] not in "*\\":
                raise policy_error(f"Invalid escape character at pos {index}", mode="complete")
            parts.append(re.escape(text[index + 1]))
            index += 2
            continue
        if char == "*":
            if index > 0 and text[index - 1] == "*":
                raise policy_error(f"Consecutive wildcard characters at pos {index}", mode="complete")
            parts.append(".*")
        else:
            parts.append(re.escape(char))
        index += 1
    return Wildcard(re.compile("".join(parts), re.DOTALL))


_STRING_OPERATORS: Final[Mapping[str, Callable[[Any], Condition]]] = {
    "prefix": _prefix,
    "suffix": _suffix,
    "equals-ignore-case": _equals_ignore_case,
    "wildcard": _wildcard,
}


# --- anything-but ------------------------------------------------------------------------


def _anything_but(operand: Any) -> Condition:
    """``anything-but`` takes a string or number, a list of them, or one string operator
    (``prefix``, ``suffix``, ``equals-ignore-case`` — a string or a list — or ``wildcard``)."""
    if isinstance(operand, dict):
        return _anything_but_operator(operand)
    members = operand if isinstance(operand, list) else [operand]
    if not members:
        raise policy_error("Empty arrays are not allowed", (members, None, "read"))
    for index, member in enumerate(members):
        if not isinstance(member, str | Decimal) or isinstance(member, bool):
            at = (members, index, "read") if members is operand else None
            raise policy_error("Inside anything but list, start|null|boolean is not supported.", at)
    return NotIn(frozenset(value_key(member) for member in members))


def _anything_but_operator(operand: Mapping[str, Any]) -> Condition:
    _one_key(operand)
    ((name, inner),) = operand.items()
    try:
        if name == "equals-ignore-case" and isinstance(inner, list):
            if not inner or not all(isinstance(item, str) for item in inner):
                raise policy_error("equals-ignore-case match pattern must be a string")
            return NotMatching(EqualsIgnoreCase(frozenset(item.lower() for item in inner)))
        if name not in _STRING_OPERATORS:
            raise policy_error(f"Unsupported anything-but pattern: {name}")
        return NotMatching(_STRING_OPERATORS[name](inner))
    except PolicyError as err:
        raise _placed(err, operand, name) from None


# --- numeric -------------------------------------------------------------------------------


def _numeric_value(operator: str, terms: list[Any], index: int) -> Decimal:
    """The number after an operator; the parser reports a bad one where it read it (or the
    closing bracket, when the operator was the last term)."""
    number = canonical_number(terms[index]) if index < len(terms) and _is_number(terms[index]) else None
    if number is None:
        raise policy_error(f"Value of {'equals' if operator == '=' else operator} must be numeric",
                           (terms, index - 1, "next"))
    return number


def _numeric(operand: Any) -> Condition:
    """``["=", 301.5]``, ``["<", 0]``, or a lower bound (``>``/``>=``) followed by an upper
    bound (``<``/``<=``) with bottom < top. The messages follow AWS's parser step by step."""
    if not isinstance(operand, list):
        raise policy_error("Value of numeric must be an array.")
    if not operand:
        raise policy_error("Invalid member in numeric match: ]", (operand, None, "read"))
    if not isinstance(operand[0], str):
        raise policy_error(f"Invalid member in numeric match: {_token(operand[0])}", (operand, 0, "read"))
    operator = operand[0]
    if operator not in _NUMERIC_OPERATORS:
        raise policy_error(f"Unrecognized numeric range operator: {operator}", (operand, 0, "next"))
    first = _numeric_value(operator, operand, 1)
    if len(operand) == 2:
        return _single_bound(operator, first)
    if operator not in _LOWER_OPERATORS:
        raise policy_error("Too many elements in numeric expression", (operand, 1, "next"))
    second_operator = operand[2]
    if not isinstance(second_operator, str):
        raise policy_error(f"Bad value in numeric range: {_token(second_operator)}", (operand, 2, "read"))
    if second_operator not in _UPPER_OPERATORS:
        raise policy_error(f"Bad numeric range operator: {second_operator}", (operand, 2, "complete"))
    second = _numeric_value(second_operator, operand, 3)
    if second <= first:
        raise policy_error("Bottom must be less than top", (operand, 3, "next"))
    if len(operand) > 4:
        raise policy_error("Too many terms in numeric range expression", (operand, 4, "read"))
    return NumericRange(first, operator == ">=", second, second_operator == "<=")


def _single_bound(operator: str, number: Decimal) -> NumericRange:
    if operator == "=":
        return NumericRange(number, True, number, True)
    if operator in _LOWER_OPERATORS:
        return NumericRange(number, operator == ">=", None, False)
    return NumericRange(None, False, number, operator == "<=")


# --- cidr ----------------------------------------------------------------------------------


def _cidr(operand: Any) -> Condition:
    """IP address matching: ``{"cidr": "10.0.0.0/24"}`` or an IPv6 prefix. AWS reports a
    non-string operand with the ``prefix`` message (observed); host bits may be set."""
    if not isinstance(operand, str):
        raise policy_error("prefix match pattern must be a string")
    address, slash, mask = operand.partition("/")
    if not slash or "/" in mask:
        raise policy_error("Malformed CIDR, one '/' required", mode="complete")
    if not mask.isdigit():
        raise policy_error("Malformed CIDR, mask bits must be an integer", mode="complete")
    try:
        network = ipaddress.ip_network(operand, strict=False)
    except ValueError:
        raise policy_error(f"Nonstandard IP address: {address}", mode="complete") from None
    return Cidr(network)
