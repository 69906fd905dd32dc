"""SNS mobile push, SMS and data-protection handlers: wire params -> ``PlatformService`` -> wire result.

Registered in ``sns_handlers.SNS_HANDLERS``; Publish delegates here for ``PhoneNumber`` and for a
``TargetArn`` naming a platform endpoint (:func:`direct_publish`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any

from postroom.core.sns.platform import is_endpoint_arn
from postroom.errors import InvalidParameter
from postroom.service.context import RequestContext
from postroom.service.sns_platform import PlatformService

if TYPE_CHECKING:
    from postroom.service.sns import PublishInput, SnsService

Params = Mapping[str, Any]
Result = dict[str, Any]
Handler = Callable[["SnsService", RequestContext, Params], Awaitable[Result]]


def _svc(s: SnsService) -> PlatformService:
    return PlatformService(s)


def is_direct(p: Params) -> bool:
    """Whether a Publish goes to a phone number or a platform endpoint rather than a topic."""
    return bool(p.get("PhoneNumber")) or is_endpoint_arn(p.get("TargetArn"))


async def direct_publish(s: SnsService, ctx: RequestContext, p: Params, message: PublishInput) -> Result:
    """Publish with ``PhoneNumber`` or an endpoint's ``TargetArn``. Only one target may be named."""
    named = [k for k in ("TopicArn", "TargetArn", "PhoneNumber") if p.get(k)]
    if len(named) > 1:
        raise InvalidParameter(f"Invalid parameter: {named[-1]} Reason: only one of TopicArn, TargetArn and "
                               "PhoneNumber may be given")
    if p.get("PhoneNumber"):
        return {"MessageId": await _svc(s).publish_to_phone(ctx, p["PhoneNumber"], message)}
    return {"MessageId": await _svc(s).publish_to_endpoint(ctx, p["TargetArn"], message)}


# ---- platform applications -------------------------------------------------------------
async def create_platform_application(s: SnsService, ctx: RequestContext, p: Params) -> Result:
    app = await _svc(s).create_application(ctx, p["Name"], p["Platform"], p.get("Attributes"))
    return {"PlatformApplicationArn": app.arn}


async def get_platform_application_attributes(s: SnsService, ctx: RequestContext, p: Params) -> Result:
    return {"Attributes": dict((await _svc(s).application(ctx, p["PlatformApplicationArn"])).attributes)}


async def set_platform_application_attributes(s: SnsService, ctx: RequestContext, p: Params) -> Result:
    await _svc(s).set_application_attributes(ctx, p["PlatformApplicationArn"], p.get("Attributes"))
    return {}


async def list_platform_applications(s: SnsService, ctx: RequestContext, p: Params) -> Result:
    apps, token = await _svc(s).list_applications(ctx, p.get("NextToken"))
    out: Result = {"PlatformApplications": [{"PlatformApplicationArn": a.arn, "Attributes": dict(a.attributes)}
                                            for a in apps]}
    if token:
        out["NextToken"] = token
    return out


async def delete_platform_application(s: SnsService, ctx: RequestContext, p: Params) -> Result:
    await _svc(s).delete_application(ctx, p["PlatformApplicationArn"])
    return {}


# ---- platform endpoints ------------------------------------------------------------------
async def create_platform_endpoint(s: SnsService, ctx: RequestContext, p: Params) -> Result:
    arn = await _svc(s).create_endpoint(ctx, p["PlatformApplicationArn"], p["Token"], p.get("CustomUserData"),
                                        p.get("Attributes"))
    return {"EndpointArn": arn}


async def get_endpoint_attributes(s: SnsService, ctx: RequestContext, p: Params) -> Result:
    return {"Attributes": dict((await _svc(s).endpoint(ctx, p["EndpointArn"])).attributes)}


async def set_endpoint_attributes(s: SnsService, ctx: RequestContext, p: Params) -> Result:
    await _svc(s).set_endpoint_attributes(ctx, p["EndpointArn"], p.get("Attributes"))
    return {}


async def list_endpoints_by_platform_application(s: SnsService, ctx: RequestContext, p: Params) -> Result:
    endpoints, token = await _svc(s).list_endpoints(ctx, p["PlatformApplicationArn"], p.get("NextToken"))
    out: Result = {"Endpoints": [{"EndpointArn": e.arn, "Attributes": dict(e.attributes)} for e in endpoints]}
    if token:
        out["NextToken"] = token
    return out


async def delete_endpoint(s: SnsService, ctx: RequestContext, p: Params) -> Result:
    await _svc(s).delete_endpoint(ctx, p["EndpointArn"])
    return {}


# ---- SMS -------------------------------------------------------------------------------------
async def set_sms_attributes(s: SnsService, ctx: RequestContext, p: Params) -> Result:
    await _svc(s).set_sms_attributes(ctx, p.get("attributes"))
    return {}


async def get_sms_attributes(s: SnsService, ctx: RequestContext, p: Params) -> Result:
    return {"attributes": await _svc(s).sms_attributes(ctx, p.get("attributes"))}


async def check_if_phone_number_is_opted_out(s: SnsService, ctx: RequestContext, p: Params) -> Result:
    return {"isOptedOut": await _svc(s).is_opted_out(ctx, p["phoneNumber"])}


async def list_phone_numbers_opted_out(s: SnsService, ctx: RequestContext, p: Params) -> Result:
    numbers, token = await _svc(s).opted_out(ctx, p.get("nextToken"))
    out: Result = {"phoneNumbers": numbers}
    if token:
        out["nextToken"] = token
    return out


async def opt_in_phone_number(s: SnsService, ctx: RequestContext, p: Params) -> Result:
    await _svc(s).opt_in(ctx, p["phoneNumber"])
    return {}


async def create_sms_sandbox_phone_number(s: SnsService, ctx: RequestContext, p: Params) -> Result:
    await _svc(s).create_sandbox_number(ctx, p["PhoneNumber"], p.get("LanguageCode"))
    return {}


async def verify_sms_sandbox_phone_number(s: SnsService, ctx: RequestContext, p: Params) -> Result:
    await _svc(s).verify_sandbox_number(ctx, p["PhoneNumber"], p["OneTimePassword"])
    return {}


async def list_sms_sandbox_phone_numbers(s: SnsService, ctx: RequestContext, p: Params) -> Result:
    numbers, token = await _svc(s).sandbox_numbers(ctx, p.get("NextToken"), p.get("MaxResults"))
    out: Result = {"PhoneNumbers": [{"PhoneNumber": n, "Status": st} for n, st in numbers]}
    if token:
        out["NextToken"] = token
    return out


async def delete_sms_sandbox_phone_number(s: SnsService, ctx: RequestContext, p: Params) -> Result:
    await _svc(s).delete_sandbox_number(ctx, p["PhoneNumber"])
    return {}


async def get_sms_sandbox_account_status(s: SnsService, ctx: RequestContext, p: Params) -> Result:
    """postroom sends no SMS, so no account of it is held in the sandbox."""
    return {"IsInSandbox": False}


async def list_origination_numbers(s: SnsService, ctx: RequestContext, p: Params) -> Result:
    return {"PhoneNumbers": _svc(s).origination_numbers(p.get("MaxResults")).numbers}


# ---- data protection ----------------------------------------------------------------------
async def put_data_protection_policy(s: SnsService, ctx: RequestContext, p: Params) -> Result:
    await _svc(s).put_data_protection_policy(ctx, p["ResourceArn"], p["DataProtectionPolicy"])
    return {}


async def get_data_protection_policy(s: SnsService, ctx: RequestContext, p: Params) -> Result:
    return {"DataProtectionPolicy": await _svc(s).data_protection_policy(ctx, p["ResourceArn"])}


PLATFORM_HANDLERS: dict[str, Handler] = {
    "CreatePlatformApplication": create_platform_application,
    "GetPlatformApplicationAttributes": get_platform_application_attributes,
    "SetPlatformApplicationAttributes": set_platform_application_attributes,
    "ListPlatformApplications": list_platform_applications,
    "DeletePlatformApplication": delete_platform_application,
    "CreatePlatformEndpoint": create_platform_endpoint,
    "GetEndpointAttributes": get_endpoint_attributes,
    "SetEndpointAttributes": set_endpoint_attributes,
    "ListEndpointsByPlatformApplication": list_endpoints_by_platform_application,
    "DeleteEndpoint": delete_endpoint,
    "SetSMSAttributes": set_sms_attributes,
    "GetSMSAttributes": get_sms_attributes,
    "CheckIfPhoneNumberIsOptedOut": check_if_phone_number_is_opted_out,
    "ListPhoneNumbersOptedOut": list_phone_numbers_opted_out,
    "OptInPhoneNumber": opt_in_phone_number,
    "CreateSMSSandboxPhoneNumber": create_sms_sandbox_phone_number,
    "VerifySMSSandboxPhoneNumber": verify_sms_sandbox_phone_number,
    "ListSMSSandboxPhoneNumbers": list_sms_sandbox_phone_numbers,
    "DeleteSMSSandboxPhoneNumber": delete_sms_sandbox_phone_number,
    "GetSMSSandboxAccountStatus": get_sms_sandbox_account_status,
    "ListOriginationNumbers": list_origination_numbers,
    "PutDataProtectionPolicy": put_data_protection_policy,
    "GetDataProtectionPolicy": get_data_protection_policy,
}
