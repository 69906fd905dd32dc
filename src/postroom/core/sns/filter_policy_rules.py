"""Compiled match conditions of an SNS subscription filter policy.

AWS docs: *Amazon SNS Developer Guide* › "Amazon SNS subscription filter policies" and its
sub-pages "String value matching", "Numeric value matching", "IP address matching", "Key
matching" and "AND/OR logic". Each policy property (a key path) owns a list of match values
that are OR-ed; :class:`KeyRule` is that list compiled. Message values reach a rule as
:data:`Scalar`: ``str``, :class:`~decimal.Decimal` (every JSON or ``Number`` value), ``bool``
or ``None`` (JSON ``null``).
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Final

Scalar = str | Decimal | bool | None
"""One leaf value of a message attribute or message body, as filtering sees it."""

Condition = Callable[[Scalar], bool]
"""A compiled operator: true when one leaf value satisfies it."""

ValueKey = tuple[str, object]
"""A type-tagged value, so that ``true``, ``1`` and ``"1"`` stay distinct in a set."""

NUMERIC_LIMIT: Final = Decimal(1_000_000_000)
_FIVE_PLACES: Final = Decimal("0.00001")


def canonical_number(value: Decimal) -> Decimal | None:
    """AWS compares numbers "from -10^9 to 10^9, with five digits of accuracy after the
    decimal point" (Filter policy constraints). Values in range are rounded to five places;
    larger finite values are compared as they are; NaN and infinities are not numbers."""
    if not value.is_finite():
        return None
    if -NUMERIC_LIMIT <= value <= NUMERIC_LIMIT:
        return value.quantize(_FIVE_PLACES)
    return value


def parse_number(text: str) -> Decimal | None:
    """A ``Number`` attribute's string value (``"210.75"``, ``"3.015e2"``) as a number."""
    try:
        return canonical_number(Decimal(text.strip()))
    except InvalidOperation:
        return None


def value_key(value: Scalar) -> ValueKey:
    """Tag a value with its JSON type: exact matching is type-sensitive (the string
    ``"100"`` never equals the number ``100``) and numerically exact (``300 == 3.0e2``)."""
    if isinstance(value, bool):
        return ("b", value)
    if value is None:
        return ("n", None)
    if isinstance(value, Decimal):
        return ("d", canonical_number(value))
    return ("s", value)


# --- string operators (String value matching) ---------------------------------------


@dataclass(frozen=True, slots=True)
class Prefix:
    """``{"prefix": "bas"}`` matches string values that begin with ``bas``."""

    text: str

    def __call__(self, value: Scalar) -> bool:
        return isinstance(value, str) and value.startswith(self.text)


@dataclass(frozen=True, slots=True)
class Suffix:
    """``{"suffix": "ball"}`` matches string values that end with ``ball``."""

    text: str

    def __call__(self, value: Scalar) -> bool:
        return isinstance(value, str) and value.endswith(self.text)


@dataclass(frozen=True, slots=True)
class EqualsIgnoreCase:
    """``{"equals-ignore-case": "RuGbY"}`` matches string values equal to it regardless of case."""

    lowered: frozenset[str]

    def __call__(self, value: Scalar) -> bool:
        return isinstance(value, str) and value.lower() in self.lowered


@dataclass(frozen=True, slots=True)
class Wildcard:
    """``{"wildcard": "*.png"}``: ``*`` stands for any run of characters (``\\*`` is a literal)."""

    pattern: re.Pattern[str]

    def __call__(self, value: Scalar) -> bool:
        return isinstance(value, str) and self.pattern.fullmatch(value) is not None


@dataclass(frozen=True, slots=True)
class Cidr:
    """``{"cidr": "10.0.0.0/24"}`` (IP address matching) matches string values that are an
    IPv4 or IPv6 address inside the network."""

    network: ipaddress.IPv4Network | ipaddress.IPv6Network

    def __call__(self, value: Scalar) -> bool:
        if not isinstance(value, str):
            return False
        try:
            address = ipaddress.ip_address(value)
        except ValueError:
            return False
        return address.version == self.network.version and address in self.network


# --- numeric operators (Numeric value matching) ----------------------------------------


@dataclass(frozen=True, slots=True)
class NumericRange:
    """``{"numeric": [">", 0, "<=", 150]}``; ``=`` is a range whose bounds are equal and
    inclusive. Only number values match (a ``String`` attribute ``"5"`` is a string)."""

    low: Decimal | None
    low_inclusive: bool
    high: Decimal | None
    high_inclusive: bool

    def __call__(self, value: Scalar) -> bool:
        if not isinstance(value, Decimal):
            return False
        number = canonical_number(value)
        if number is None:
            return False
        if self.low is not None and (number < self.low or (number == self.low and not self.low_inclusive)):
            return False
        return self.high is None or number < self.high or (number == self.high and self.high_inclusive)


# --- anything-but (a negated operator) -------------------------------------------------


@dataclass(frozen=True, slots=True)
class NotIn:
    """``{"anything-but": ["rugby", "tennis"]}`` (or one value, or numbers): a present value
    that is none of the listed values."""

    excluded: frozenset[ValueKey]

    def __call__(self, value: Scalar) -> bool:
        return value_key(value) not in self.excluded


@dataclass(frozen=True, slots=True)
class NotMatching:
    """``{"anything-but": {"prefix": "order-"}}`` and the ``suffix``, ``equals-ignore-case``
    and ``wildcard`` forms: a string value the inner operator does not match."""

    inner: Condition

    def __call__(self, value: Scalar) -> bool:
        return isinstance(value, str) and not self.inner(value)


# --- one property's list of match values ------------------------------------------------


@dataclass(frozen=True, slots=True)
class KeyRule:
    """A policy property: its (dot-joined) key path and its OR-ed list of match values.

    ``exists`` is key matching: ``{"exists": true}`` matches when the property is present,
    ``{"exists": false}`` when it is absent; every other operator needs a present value.
    ``weight`` is the number of match values times the nesting depth of the key, the factor
    this property contributes to the policy's "total combination" (Filter policy constraints).
    """

    path: str
    exact: frozenset[ValueKey]
    positive: tuple[Condition, ...]
    negative: tuple[Condition, ...]
    exists_true: bool
    exists_false: bool
    weight: int

    def matches(self, values: Sequence[Scalar] | None, whole_array: bool = False) -> bool:
        """``values`` is ``None`` when the property is absent. With ``whole_array`` (a
        ``String.Array`` attribute) an ``anything-but`` must hold for every element, as
        AWS's String value matching page says; otherwise any one matching value suffices."""
        if values is None:
            return self.exists_false
        if self.exists_true:
            return True
        for value in values:
            if self.exact and value_key(value) in self.exact:
                return True
            for condition in self.positive:
                if condition(value):
                    return True
        return any(self._negative_holds(condition, values, whole_array) for condition in self.negative)

    @staticmethod
    def _negative_holds(condition: Condition, values: Sequence[Scalar], whole_array: bool) -> bool:
        if whole_array:
            return bool(values) and all(condition(value) for value in values)
        return any(condition(value) for value in values)
