"""Amazon SNS text messaging (SMS) and email endpoints: phone numbers, account SMS attributes,
the SMS sandbox, and the endpoint rules of ``sms``/``email``/``email-json`` subscriptions.

AWS docs: *Amazon SNS API Reference* › Publish (PhoneNumber), SetSMSAttributes, GetSMSAttributes,
CheckIfPhoneNumberIsOptedOut, ListPhoneNumbersOptedOut, OptInPhoneNumber,
CreateSMSSandboxPhoneNumber, VerifySMSSandboxPhoneNumber, ListSMSSandboxPhoneNumbers,
DeleteSMSSandboxPhoneNumber, GetSMSSandboxAccountStatus, ListOriginationNumbers; *Developer
Guide* › "Mobile text messaging (SMS)", "Email notifications". Error texts marked *AWS* were
recorded against the service (LocalStack's validated tests, SDK users' code).

Pure: no IO.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Final

from postroom.core.numbers import decimal_int
from postroom.errors import InvalidParameter, SnsValidationError

E164: Final = re.compile(r"\+?[1-9][0-9]{1,14}")
"""E.164: an optional ``+``, then up to 15 digits, the first not 0."""

SMS_ATTRIBUTES: Final = ("MonthlySpendLimit", "DeliveryStatusIAMRole", "DeliveryStatusSuccessSamplingRate",
                         "DefaultSenderID", "DefaultSMSType", "UsageReportS3Bucket")
"""SetSMSAttributes' names (API reference)."""
SMS_TYPES: Final = ("Promotional", "Transactional")
DEFAULT_SMS_ATTRIBUTES: Final = {"MonthlySpendLimit": "1"}
"""A new account's spend limit is USD 1 ("By default, the spend quota is set to 1.00 USD")."""
_SENDER_ID: Final = re.compile(r"(?=[A-Za-z0-9]{1,11}$)(?=.*[A-Za-z])[A-Za-z0-9]+")

SANDBOX_LANGUAGES: Final = ("en-US", "en-GB", "es-419", "es-ES", "de-DE", "fr-CA", "fr-FR", "it-IT", "ja-JP",
                            "pt-BR", "kr-KR", "zh-CN", "zh-TW")
"""CreateSMSSandboxPhoneNumber's ``LanguageCode`` values (API reference); en-US by default."""
SANDBOX_PENDING: Final = "Pending"
SANDBOX_VERIFIED: Final = "Verified"
OPTED_OUT: Final = "opted-out"
SANDBOX: Final = "sandbox"
PAGE: Final = 100
"""ListPhoneNumbersOptedOut answers up to 100 numbers a call."""
MAX_SMS_MESSAGE: Final = 1600
"""Characters SNS sends of one SMS message at most (split in parts of 140 bytes on the way)."""

_EMAIL: Final = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
_SEPARATOR: Final = re.compile(r"[-./]")
_SEPARATOR_RUN: Final = re.compile(r"[-./]{2,}|^[-./]|[-./]$")
"""Separators an sms subscription's number may be written with, and where they may not stand."""


def is_e164(phone: str | None) -> bool:
    return bool(phone) and E164.fullmatch(phone or "") is not None


def validate_publish_phone(phone: str) -> str:
    """Publish ``PhoneNumber``: E.164, else AWS "Invalid parameter: PhoneNumber Reason: <number> is not
    valid to publish to" (InvalidParameter)."""
    if not is_e164(phone):
        raise InvalidParameter(f"Invalid parameter: PhoneNumber Reason: {phone} is not valid to publish to")
    return phone if phone.startswith("+") else "+" + phone


def validate_sms_message(message: str) -> None:
    """Publish with ``PhoneNumber``: "The total size limit for a single SMS Publish action is 1,600
    characters" (API Reference › Publish, Message); a longer text is InvalidParameter. AWS's
    text is not recorded: the wording is moto's ("must be less than 1600", which its
    test_publish_bad_sms checks), 1,600 characters themselves being accepted as documented."""
    if len(message) > MAX_SMS_MESSAGE:
        raise InvalidParameter("Invalid parameter: Message Reason: SMS message must be less than 1600 characters")


def validate_lookup_phone(phone: str | None) -> str:
    """CheckIfPhoneNumberIsOptedOut / OptInPhoneNumber ``phoneNumber``: AWS "Invalid parameter:
    PhoneNumber Reason: input incorrectly formatted"."""
    if not is_e164(phone):
        raise InvalidParameter("Invalid parameter: PhoneNumber Reason: input incorrectly formatted")
    assert phone is not None
    return phone if phone.startswith("+") else "+" + phone


def validate_sms_endpoint(endpoint: str) -> str:
    """Subscribe ``Protocol=sms``: an E.164 number, which may be written with single ``-``, ``.``
    or ``/`` between its digits — AWS takes ``+63-123-456-7890`` (observed in production,
    getmoto/moto#2529; moto's test_subscribe_sms takes ``+15/55-123.4567``) — but not with two
    in a row nor at either end (moto's test_subscribe_bad_sms). Anything else is AWS's
    InvalidParameter "Invalid SMS endpoint: <endpoint>". The subscription keeps the endpoint as
    written; :func:`sms_destination` is the number it texts."""
    if _SEPARATOR_RUN.search(endpoint or "") or not is_e164(_SEPARATOR.sub("", endpoint or "")):
        raise InvalidParameter(f"Invalid SMS endpoint: {endpoint}")
    return endpoint


def sms_destination(endpoint: str) -> str:
    """The E.164 number (``+`` and digits) an ``sms`` subscription's endpoint names."""
    number = _SEPARATOR.sub("", endpoint)
    return number if number.startswith("+") else "+" + number


def validate_email_endpoint(endpoint: str) -> str:
    """Subscribe ``Protocol=email``/``email-json``: an email address (AWS "Invalid parameter: Email
    address")."""
    if _EMAIL.fullmatch(endpoint or "") is None:
        raise InvalidParameter("Invalid parameter: Email address")
    return endpoint


def validate_sms_attributes(attributes: Mapping[str, str] | None) -> dict[str, str]:
    """SetSMSAttributes' ``attributes``, each checked as the API reference describes. Unknown names
    and bad values are InvalidParameter (wording: "<name> is not a valid attribute", recorded by
    LocalStack; the value rules follow the reference)."""
    raw = dict(attributes or {})
    for name, value in raw.items():
        if name not in SMS_ATTRIBUTES:
            raise InvalidParameter(f"{name} is not a valid attribute")
        if not isinstance(value, str):
            raise InvalidParameter(f"Invalid parameter: {name}")
    if "DefaultSMSType" in raw and raw["DefaultSMSType"] not in SMS_TYPES:
        raise InvalidParameter("DefaultSMSType is invalid")
    sender = raw.get("DefaultSenderID")
    if sender is not None and _SENDER_ID.fullmatch(sender) is None:
        raise InvalidParameter("DefaultSenderID is not a valid attribute")
    rate = raw.get("DeliveryStatusSuccessSamplingRate")
    rate_value = decimal_int(rate) if rate is not None else None
    if rate is not None and (rate_value is None or rate != rate.strip() or rate_value > 100):
        raise InvalidParameter("DeliveryStatusSuccessSamplingRate is invalid")
    limit = raw.get("MonthlySpendLimit")
    if limit is not None and not limit.isdigit():
        raise InvalidParameter("MonthlySpendLimit is invalid")
    return raw


def selected_sms_attributes(stored: Mapping[str, str], names: list[str] | None) -> dict[str, str]:
    """GetSMSAttributes: every attribute set (with the defaults), or only those named."""
    everything = {**DEFAULT_SMS_ATTRIBUTES, **stored}
    if not names:
        return everything
    return {n: everything[n] for n in names if n in everything}


def validate_language(code: str | None) -> str:
    if code is None:
        return "en-US"
    if code not in SANDBOX_LANGUAGES:
        raise InvalidParameter(f"Invalid parameter: LanguageCode Reason: {code} is not a supported language code")
    return code


def validate_max_results(value: int | None, limit: int, parameter: str = "MaxResults") -> int:
    """ListSMSSandboxPhoneNumbers (1–100) and ListOriginationNumbers (1–30) ``MaxResults``."""
    if value is None:
        return limit
    if not 1 <= int(value) <= limit:
        raise SnsValidationError(f"1 validation error detected: Value '{value}' at '{parameter[0].lower()}"
                                 f"{parameter[1:]}' failed to satisfy constraint: Member must have value less than "
                                 f"or equal to {limit}")
    return int(value)


def sandbox_message(otp: str) -> str:
    """The SMS a sandbox destination number receives (postroom's wording)."""
    return f"Your Amazon SNS verification code is: {otp}"


def page_after(items: list[str], token: str | None, size: int = PAGE) -> tuple[list[str], str | None]:
    """A page of sorted ``items`` after ``token`` (the last item of the previous page)."""
    rest = [i for i in items if token is None or i > token]
    page = rest[:size]
    return page, (page[-1] if len(rest) > size else None)
