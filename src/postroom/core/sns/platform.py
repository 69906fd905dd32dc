"""Amazon SNS mobile push: platform applications and endpoints, their ARNs and rules.

AWS docs: *Amazon SNS API Reference* › CreatePlatformApplication, SetPlatformApplicationAttributes,
CreatePlatformEndpoint, SetEndpointAttributes, Publish (TargetArn); *Amazon SNS Developer Guide*
› "Mobile push notifications", "Publishing with platform-specific payloads". Error texts marked
*AWS* were recorded against the service (LocalStack's snapshot-validated tests, SDK users'
code parsing them); the others follow SNS's ``Invalid parameter: <what> Reason: <why>`` style.

Pure: no IO. The store keeps what these functions decide.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

from postroom.core.numbers import decimal_int
from postroom.core.sns.validate import structured_message
from postroom.errors import InvalidParameter, NotFound

PLATFORMS: Final = ("ADM", "APNS", "APNS_SANDBOX", "APNS_VOIP", "APNS_VOIP_SANDBOX", "BAIDU", "GCM", "MACOS",
                    "MACOS_SANDBOX", "MPNS", "WNS")
"""The ``Platform`` values of CreatePlatformApplication (the API reference names ADM, APNS,
APNS_SANDBOX, GCM (FCM), BAIDU, MPNS and WNS; the VoIP and macOS variants are accepted too)."""

NO_PRINCIPAL: Final = ("GCM",)
"""Platforms whose credential is one value (FCM's API key or service JSON): "For GCM (Firebase
Cloud Messaging), there is no PlatformPrincipal"."""

SECRET_ATTRIBUTES: Final = ("PlatformCredential", "PlatformPrincipal")
"""Kept, never returned by GetPlatformApplicationAttributes (AWS does not show credentials)."""

APPLICATION_ATTRIBUTES: Final = (
    "PlatformCredential", "PlatformPrincipal", "EventEndpointCreated", "EventEndpointDeleted",
    "EventEndpointUpdated", "EventDeliveryFailure", "SuccessFeedbackRoleArn", "FailureFeedbackRoleArn",
    "SuccessFeedbackSampleRate", "ApplePlatformTeamID", "ApplePlatformBundleID", "AuthenticationMethod",
)
ENDPOINT_ATTRIBUTES: Final = ("CustomUserData", "Enabled", "Token")

MAX_NAME: Final = 256
MAX_TOKEN_BYTES: Final = 8192
MAX_APNS_TOKEN: Final = 400
MAX_CUSTOM_USER_DATA: Final = 2048
APPLICATIONS_PAGE: Final = 15
"""ListPlatformApplications answers up to 15 applications a call (API reference)."""
ENDPOINTS_PAGE: Final = 100
"""ListEndpointsByPlatformApplication answers up to 100 endpoints a call."""

_NAME: Final = re.compile(r"[A-Za-z0-9_.-]+")
_HEX: Final = re.compile(r"[0-9A-Fa-f]+")


@dataclass(frozen=True)
class PlatformApplication:
    arn: str
    account: str
    region: str
    name: str
    platform: str
    attributes: dict[str, str]
    """What GetPlatformApplicationAttributes shows (never the credentials)."""
    credentials: dict[str, str]
    created_ms: int


@dataclass(frozen=True)
class PlatformEndpoint:
    arn: str
    app_arn: str
    token: str
    attributes: dict[str, str]
    """``Enabled``, ``Token`` and ``CustomUserData`` (when set), as GetEndpointAttributes shows."""
    created_ms: int

    @property
    def enabled(self) -> bool:
        return self.attributes.get("Enabled", "true").lower() == "true"

    @property
    def platform(self) -> str:
        return endpoint_platform(self.arn)


# ---- ARNs ------------------------------------------------------------------------
def application_arn(region: str, account: str, platform: str, name: str) -> str:
    """``arn:aws:sns:<region>:<account>:app/<platform>/<name>``."""
    return f"arn:aws:sns:{region}:{account}:app/{platform}/{name}"


def endpoint_arn(app_arn: str, endpoint_id: str) -> str:
    """``arn:aws:sns:<region>:<account>:endpoint/<platform>/<app name>/<id>``."""
    prefix, _, rest = app_arn.partition(":app/")
    return f"{prefix}:endpoint/{rest}/{endpoint_id}"


def is_endpoint_arn(arn: str | None) -> bool:
    """Whether a Publish ``TargetArn`` names a platform endpoint rather than a topic."""
    return bool(arn) and ":endpoint/" in (arn or "")


def _relative(arn: str | None, kind: str, parameter: str, slashes: int) -> list[str]:
    parts = (arn or "").split(":", 5)
    if len(parts) != 6 or parts[0] != "arn" or parts[2] != "sns" or not parts[3] or not parts[4]:
        raise InvalidParameter(f"Invalid parameter: {parameter} Reason: An ARN must have at least 6 elements, "
                               f"not {len((arn or '').split(':'))}")
    pieces = parts[5].split("/")
    if pieces[0] != kind or len(pieces) != slashes + 1 or not all(pieces):
        raise InvalidParameter(f"Invalid parameter: {parameter} Reason: Wrong number of slashes in relative portion "
                               "of the ARN.")
    return pieces


def check_application_arn(arn: str | None, parameter: str = "PlatformApplicationArn") -> None:
    """A platform application ARN (``…:app/<platform>/<name>``), else InvalidParameter."""
    _relative(arn, "app", parameter, 2)


def check_endpoint_arn(arn: str | None, parameter: str = "EndpointArn") -> None:
    """A platform endpoint ARN (``…:endpoint/<platform>/<app>/<id>``), else InvalidParameter."""
    _relative(arn, "endpoint", parameter, 3)


def endpoint_platform(arn: str) -> str:
    """The platform an endpoint ARN names (``GCM``, ``APNS`` …)."""
    return arn.partition(":endpoint/")[2].split("/")[0]


def application_of_endpoint(arn: str) -> str:
    """The application ARN an endpoint ARN belongs to."""
    prefix, _, rest = arn.partition(":endpoint/")
    return f"{prefix}:app/{rest.rsplit('/', 1)[0]}"


# ---- applications ------------------------------------------------------------------
def validate_application_name(name: str | None) -> None:
    """1–256 characters: letters, digits, ``_``, ``-`` and ``.`` (AWS "Invalid parameter: <name>
    Reason: must contain only characters 'a'-'z', 'A'-'Z', '0'-'9', '_', '-', and '.'")."""
    name = name or ""
    reason = ""
    if not name:
        reason = "cannot be empty"
    elif len(name) > MAX_NAME:
        reason = "must be at most 256 characters long"
    elif _NAME.fullmatch(name) is None:
        reason = "must contain only characters 'a'-'z', 'A'-'Z', '0'-'9', '_', '-', and '.'"
    if reason:
        raise InvalidParameter(f"Invalid parameter: {name} Reason: {reason}")


def validate_platform(platform: str | None) -> str:
    """AWS "Invalid parameter: Platform Reason: <platform> is not supported"."""
    if platform not in PLATFORMS:
        raise InvalidParameter(f"Invalid parameter: Platform Reason: {platform} is not supported")
    assert platform is not None
    return platform


def _check_names(attributes: Mapping[str, str], allowed: tuple[str, ...]) -> None:
    for key, value in attributes.items():
        if key not in allowed:
            raise InvalidParameter(f"Invalid parameter: Attributes Reason: Invalid attribute name: {key}")
        if not isinstance(value, str):
            raise InvalidParameter(f"Invalid parameter: Attributes Reason: Invalid value for attribute: {key}")


def _check_sample_rate(attributes: Mapping[str, str]) -> None:
    rate = attributes.get("SuccessFeedbackSampleRate")
    value = decimal_int(rate) if rate is not None else None
    if rate is not None and (value is None or rate != rate.strip() or not 0 <= value <= 100):
        raise InvalidParameter("Invalid parameter: Attributes Reason: SuccessFeedbackSampleRate must be an integer "
                               "between 0 and 100")


def _check_credentials(platform: str, attributes: Mapping[str, str]) -> None:
    """AWS: FCM needs a PlatformCredential and takes no principal; every other platform needs
    the pair ("PlatformCredential attribute provided without PlatformPrincipal" and the
    reverse, recorded by LocalStack's validated tests)."""
    credential = "PlatformCredential" in attributes
    principal = "PlatformPrincipal" in attributes
    if principal and not credential:
        raise InvalidParameter(
            "Invalid parameter: Attributes Reason: PlatformPrincipal attribute provided without PlatformCredential")
    if not credential:
        raise InvalidParameter("Invalid parameter: Attributes Reason: PlatformCredential attribute required")
    if platform not in NO_PRINCIPAL and not principal:
        raise InvalidParameter(
            "Invalid parameter: Attributes Reason: PlatformCredential attribute provided without PlatformPrincipal")


def new_application_attributes(platform: str, attributes: Mapping[str, str] | None) -> tuple[dict[str, str],
                                                                                           dict[str, str]]:
    """CreatePlatformApplication's ``Attributes`` split into (shown attributes, credentials).
    A new application is ``Enabled``."""
    raw = dict(attributes or {})
    _check_names(raw, APPLICATION_ATTRIBUTES)
    _check_credentials(platform, raw)
    _check_sample_rate(raw)
    shown = {"Enabled": "true"}
    shown.update({k: v for k, v in raw.items() if k not in SECRET_ATTRIBUTES})
    return shown, {k: v for k, v in raw.items() if k in SECRET_ATTRIBUTES}


def changed_application(app: PlatformApplication, attributes: Mapping[str, str] | None) -> PlatformApplication:
    """SetPlatformApplicationAttributes: the named attributes replaced, the others kept. A
    principal needs a credential, on FCM too."""
    raw = dict(attributes or {})
    if not raw:
        raise InvalidParameter("Invalid parameter: Attributes Reason: no value for required parameter")
    _check_names(raw, APPLICATION_ATTRIBUTES)
    _check_sample_rate(raw)
    shown = dict(app.attributes)
    secrets = dict(app.credentials)
    for key, value in raw.items():
        (secrets if key in SECRET_ATTRIBUTES else shown)[key] = value
    if app.platform in NO_PRINCIPAL and "PlatformPrincipal" in raw:
        raise InvalidParameter("Invalid parameter: Attributes Reason: PlatformPrincipal is not applicable to GCM")
    return PlatformApplication(app.arn, app.account, app.region, app.name, app.platform, shown, secrets,
                               app.created_ms)


def application_not_found() -> NotFound:
    return NotFound("PlatformApplication does not exist")


def endpoint_not_found() -> NotFound:
    return NotFound("Endpoint does not exist")


# ---- endpoints ---------------------------------------------------------------------
def validate_token(platform: str, token: str | None) -> str:
    """CreatePlatformEndpoint's ``Token``: required; at most 8192 bytes (AWS "Invalid parameter:
    Token Reason: must be at most 8192 bytes long in UTF-8 encoding"); an Apple device token is
    hexadecimal, at most 400 characters (AWS "… iOS device tokens must be no more than 400
    hexadecimal characters")."""
    if not token:
        raise InvalidParameter("Invalid parameter: Token Reason: cannot be empty")
    if len(token.encode("utf-8", "surrogatepass")) > MAX_TOKEN_BYTES:
        raise InvalidParameter("Invalid parameter: Token Reason: must be at most 8192 bytes long in UTF-8 encoding")
    if platform.startswith(("APNS", "MACOS")) and (len(token) > MAX_APNS_TOKEN or _HEX.fullmatch(token) is None):
        raise InvalidParameter(
            "Invalid parameter: Token Reason: iOS device tokens must be no more than 400 hexadecimal characters")
    return token


def _check_endpoint_values(attributes: Mapping[str, str]) -> None:
    data = attributes.get("CustomUserData")
    if data is not None and len(data.encode("utf-8", "surrogatepass")) > MAX_CUSTOM_USER_DATA:
        raise InvalidParameter("Invalid parameter: Attributes Reason: Invalid value for attribute: CustomUserData: "
                               "must be at most 2048 bytes long in UTF-8 encoding")
    enabled = attributes.get("Enabled")
    if enabled is not None and enabled.lower() not in ("true", "false"):
        raise InvalidParameter("Invalid parameter: Attributes Reason: Invalid value for attribute: Enabled: "
                               "must be one of true, false")


def new_endpoint_attributes(platform: str, token: str, custom_user_data: str | None,
                            attributes: Mapping[str, str] | None) -> dict[str, str]:
    """CreatePlatformEndpoint's endpoint attributes: ``Enabled`` (default true), ``Token``, and
    ``CustomUserData`` (the parameter, or the attribute of that name, which takes precedence)."""
    raw = dict(attributes or {})
    _check_names(raw, ENDPOINT_ATTRIBUTES)
    token = validate_token(platform, raw.get("Token", token))
    if custom_user_data is not None:
        raw.setdefault("CustomUserData", custom_user_data)
    _check_endpoint_values(raw)
    out = {"Enabled": raw.get("Enabled", "true").lower(), "Token": token}
    if "CustomUserData" in raw:
        out["CustomUserData"] = raw["CustomUserData"]
    return out


def same_endpoint(existing: PlatformEndpoint, wanted: Mapping[str, str]) -> bool:
    """AWS: "The CreatePlatformEndpoint action is idempotent, so if the requester already owns an
    endpoint with the same device token and attributes, that endpoint's ARN is returned". The
    attributes compared are those the request sets: Enabled (true unless given) and
    CustomUserData when given. A disabled endpoint therefore conflicts with a plain re-create."""
    return all(existing.attributes.get(k) == v for k, v in wanted.items())


def conflict(existing: PlatformEndpoint) -> InvalidParameter:
    """AWS "Invalid parameter: Token Reason: Endpoint <arn> already exists with the same Token, but
    different attributes." (applications parse the ARN out of it)."""
    return InvalidParameter(f"Invalid parameter: Token Reason: Endpoint {existing.arn} already exists with the same "
                            "Token, but different attributes.")


def changed_endpoint(endpoint: PlatformEndpoint, attributes: Mapping[str, str] | None) -> PlatformEndpoint:
    """SetEndpointAttributes: the named attributes replaced (Enabled lower-cased), the rest kept."""
    raw = dict(attributes or {})
    if not raw:
        raise InvalidParameter("Invalid parameter: Attributes Reason: no value for required parameter")
    _check_names(raw, ENDPOINT_ATTRIBUTES)
    _check_endpoint_values(raw)
    updated = dict(endpoint.attributes)
    for key, value in raw.items():
        updated[key] = value.lower() if key == "Enabled" else value
    token = validate_token(endpoint.platform, updated["Token"])
    return PlatformEndpoint(endpoint.arn, endpoint.app_arn, token, updated, endpoint.created_ms)


# ---- publishing --------------------------------------------------------------------
def message_for_platform(message: str, structure: str | None, platform: str) -> str | None:
    """What an endpoint of ``platform`` receives: the published message, or with
    ``MessageStructure=json`` the entry named after the platform (``GCM``, ``APNS``,
    ``APNS_SANDBOX`` …), else the ``default`` entry; ``None`` when there is neither."""
    if structure != "json":
        return message
    entries = structured_message(message)
    return entries.get(platform, entries.get("default"))


def direct_message(message: str, structure: str | None, platform: str) -> str:
    """Publish with ``TargetArn`` of an endpoint: the platform's entry or ``default`` must be there
    (AWS answers "Invalid parameter: Message Structure - No default entry in JSON message body")."""
    chosen = message_for_platform(message, structure, platform)
    if chosen is None:
        raise InvalidParameter("Invalid parameter: Message Structure - No default entry in JSON message body")
    return chosen
