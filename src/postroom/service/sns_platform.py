"""Amazon SNS mobile push, SMS, email confirmations and data protection policies.

Nothing here leaves postroom: a push, a text message or an email SNS would send is written to
the notification outbox (``postroom.core.sns.notifications``) in the transaction that decides it,
and read back at ``GET /_postroom/outbox/<sms|email|push>`` or with ``postroom outbox``.
Rules (validation, defaults, AWS's errors) are in ``core/sns_platform.py``, ``core/sms.py`` and
``core/data_protection.py``.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from postroom.core.sns import data_protection, sms
from postroom.core.sns import notifications as nt
from postroom.core.sns import platform as sp
from postroom.core.sns.message_attributes import parse_publish_attributes
from postroom.core.sns.model import Subscription, Topic
from postroom.core.sns.validate import check_publish_size, publish_size, validate_message, validate_subject
from postroom.errors import (
    EndpointDisabled,
    InvalidParameter,
    OptedOut,
    ResourceNotFound,
    UserError,
    VerificationFailed,
)
from postroom.service.context import RequestContext

if TYPE_CHECKING:
    from postroom.service.sns import PublishInput, SnsService


@dataclass(frozen=True)
class OriginationNumbers:
    numbers: list[dict[str, Any]]
    next_token: str | None = None


def _page_index(token: str | None) -> str | None:
    return token or None


class PlatformService:
    """Built per request from the SNS service it extends (it holds no state of its own)."""

    def __init__(self, sns: SnsService) -> None:
        self.sns = sns
        self.store = sns.store
        self.clock = sns.clock

    # ---- platform applications ----------------------------------------------------
    async def create_application(self, ctx: RequestContext, name: str, platform: str,
                                 attributes: Mapping[str, str] | None) -> sp.PlatformApplication:
        sp.validate_application_name(name)
        platform = sp.validate_platform(platform)
        shown, credentials = sp.new_application_attributes(platform, attributes)
        arn = sp.application_arn(ctx.region, ctx.account, platform, name)
        return await self.store.put_application(sp.PlatformApplication(
            arn, ctx.account, ctx.region, name, platform, shown, credentials, self.clock.now_ms()))

    async def application(self, ctx: RequestContext, arn: str | None) -> sp.PlatformApplication:
        sp.check_application_arn(arn)
        assert arn is not None
        app = await self.store.get_application(arn)
        if app is None or app.account != ctx.account:
            raise sp.application_not_found()
        return app

    async def set_application_attributes(self, ctx: RequestContext, arn: str,
                                         attributes: Mapping[str, str] | None) -> None:
        app = await self.application(ctx, arn)
        sp.changed_application(app, attributes)  # bad input fails here, before any write
        await self.store.update_application(app.arn, lambda current: sp.changed_application(current, attributes))

    async def list_applications(self, ctx: RequestContext,
                                token: str | None) -> tuple[list[sp.PlatformApplication], str | None]:
        page = await self.store.list_applications(ctx.account, ctx.region, _page_index(token),
                                                  sp.APPLICATIONS_PAGE + 1)
        more = len(page) > sp.APPLICATIONS_PAGE
        page = page[:sp.APPLICATIONS_PAGE]
        return page, (page[-1].arn if more else None)

    async def delete_application(self, ctx: RequestContext, arn: str) -> None:
        """AWS: deleting an application that does not exist succeeds; its endpoints go with it."""
        sp.check_application_arn(arn)
        await self.store.delete_application(arn)

    # ---- platform endpoints -------------------------------------------------------
    async def create_endpoint(self, ctx: RequestContext, app_arn: str, token: str,
                              custom_user_data: str | None, attributes: Mapping[str, str] | None) -> str:
        app = await self.application(ctx, app_arn)
        attrs = sp.new_endpoint_attributes(app.platform, token, custom_user_data, attributes)
        wanted = {"Enabled": attrs["Enabled"]}
        if "CustomUserData" in attrs:
            wanted["CustomUserData"] = attrs["CustomUserData"]
        endpoint = sp.PlatformEndpoint(sp.endpoint_arn(app.arn, self.sns.settings.new_id()), app.arn,
                                       attrs["Token"], attrs, self.clock.now_ms())
        saved = await self.store.create_endpoint(endpoint, lambda existing: sp.same_endpoint(existing, wanted))
        return saved.arn

    async def endpoint(self, ctx: RequestContext, arn: str | None) -> sp.PlatformEndpoint:
        sp.check_endpoint_arn(arn)
        assert arn is not None
        found = await self.store.get_endpoint(arn)
        if found is None:
            raise sp.endpoint_not_found()
        return found

    async def set_endpoint_attributes(self, ctx: RequestContext, arn: str,
                                      attributes: Mapping[str, str] | None) -> None:
        current = await self.endpoint(ctx, arn)
        sp.changed_endpoint(current, attributes)  # bad input fails here, before any write
        await self.store.update_endpoint(current.arn, lambda e: sp.changed_endpoint(e, attributes))

    async def list_endpoints(self, ctx: RequestContext, app_arn: str,
                             token: str | None) -> tuple[list[sp.PlatformEndpoint], str | None]:
        app = await self.application(ctx, app_arn)
        page = await self.store.list_endpoints(app.arn, _page_index(token), sp.ENDPOINTS_PAGE + 1)
        more = len(page) > sp.ENDPOINTS_PAGE
        page = page[:sp.ENDPOINTS_PAGE]
        return page, (page[-1].arn if more else None)

    async def delete_endpoint(self, ctx: RequestContext, arn: str) -> None:
        """AWS: DeleteEndpoint is idempotent; the endpoint's subscriptions stay."""
        sp.check_endpoint_arn(arn)
        await self.store.delete_endpoint(arn)

    # ---- direct publish ---------------------------------------------------------------
    def _checked(self, p: PublishInput) -> tuple[str, dict[str, tuple[str, str | bytes]]]:
        validate_message(p.message or "")
        assert p.message is not None
        if p.subject is not None:
            validate_subject(p.subject)
        if p.structure is not None and p.structure != "json":
            raise InvalidParameter("Invalid parameter: MessageStructure")
        attrs = dict(parse_publish_attributes(p.attributes))
        check_publish_size(publish_size(p.message, p.subject, attrs))
        if p.dedup_id is not None:
            raise InvalidParameter(
                "Invalid parameter: MessageDeduplicationId Reason: The request includes MessageDeduplicationId "
                "parameter that is not valid for this topic type")
        return p.message, attrs

    async def publish_to_endpoint(self, ctx: RequestContext, target_arn: str, p: PublishInput) -> str:
        """Publish with ``TargetArn`` of an endpoint. AWS: an unknown endpoint is "Invalid parameter:
        TargetArn Reason: No endpoint found for the target arn specified"; a disabled one is
        EndpointDisabled "Endpoint is disabled"."""
        message, attrs = self._checked(p)
        sp.check_endpoint_arn(target_arn, "TargetArn")
        endpoint = await self.store.get_endpoint(target_arn)
        if endpoint is None:
            raise InvalidParameter(
                "Invalid parameter: TargetArn Reason: No endpoint found for the target arn specified")
        if not endpoint.enabled:
            raise EndpointDisabled("Endpoint is disabled")
        body = sp.direct_message(message, p.structure, endpoint.platform)
        message_id = self.sns.settings.new_id()
        now = self.clock.now_ms()
        doc = nt.base_doc(nt.PUSH, nt.NOTIFICATION, message_id, body, now, attrs, protocol="application")
        await self.store.add_notifications([nt.Notification(nt.PUSH, endpoint.arn, doc)], now)
        return message_id

    async def publish_to_phone(self, ctx: RequestContext, phone: str, p: PublishInput) -> str:
        """Publish with ``PhoneNumber`` (E.164). A number that opted out gets nothing (SNS does not
        send to it); the publish still answers a MessageId."""
        number = sms.validate_publish_phone(phone)
        message, attrs = self._checked(p)
        if p.structure == "json":
            chosen = sp.message_for_platform(message, "json", "sms")
            if chosen is None:
                raise InvalidParameter("Invalid parameter: Message Structure - No default entry in JSON message body")
            message = chosen
        sms.validate_sms_message(message)
        message_id = self.sns.settings.new_id()
        now = self.clock.now_ms()
        if await self.store.get_sms_number(ctx.account, ctx.region, sms.OPTED_OUT, number) is None:
            settings = await self.store.sms_settings(ctx.account, ctx.region)
            doc = nt.base_doc(nt.SMS, nt.NOTIFICATION, message_id, message, now, attrs, protocol="sms",
                              **nt.sms_details(attrs, settings))
            await self.store.add_notifications([nt.Notification(nt.SMS, number, doc)], now)
        return message_id

    # ---- SMS settings and opt-outs ------------------------------------------------------
    async def set_sms_attributes(self, ctx: RequestContext, attributes: Mapping[str, str] | None) -> None:
        values = sms.validate_sms_attributes(attributes)
        await self.store.update_sms_settings(ctx.account, ctx.region, values)

    async def sms_attributes(self, ctx: RequestContext, names: list[str] | None) -> dict[str, str]:
        return sms.selected_sms_attributes(await self.store.sms_settings(ctx.account, ctx.region), names)

    async def is_opted_out(self, ctx: RequestContext, phone: str) -> bool:
        number = sms.validate_lookup_phone(phone)
        return await self.store.get_sms_number(ctx.account, ctx.region, sms.OPTED_OUT, number) is not None

    async def opted_out(self, ctx: RequestContext, token: str | None) -> tuple[list[str], str | None]:
        numbers = [n for n, _ in await self.store.sms_numbers(ctx.account, ctx.region, sms.OPTED_OUT)]
        return sms.page_after(numbers, token)

    async def opt_in(self, ctx: RequestContext, phone: str) -> None:
        """AWS: opting a number in succeeds whether or not it had opted out (once in 30 days on AWS;
        postroom does not hold that limit)."""
        number = sms.validate_lookup_phone(phone)
        await self.store.delete_sms_number(ctx.account, ctx.region, sms.OPTED_OUT, number)

    async def opt_out(self, account: str, region: str, phone: str) -> None:
        """What a recipient replying STOP does (postroom's admin API stands in for the handset)."""
        number = sms.validate_lookup_phone(phone)
        await self.store.put_sms_number(account, region, sms.OPTED_OUT, number, "OptedOut", None,
                                        self.clock.now_ms())

    # ---- the SMS sandbox ------------------------------------------------------------------
    async def create_sandbox_number(self, ctx: RequestContext, phone: str, language: str | None) -> None:
        """Adds a destination number, Pending until verified; the one-time password goes to the
        number by SMS — here, to the SMS outbox."""
        number = sms.validate_publish_phone(phone)
        sms.validate_language(language)
        if await self.store.get_sms_number(ctx.account, ctx.region, sms.OPTED_OUT, number) is not None:
            raise OptedOut("Phone number is opted out")
        existing = await self.store.get_sms_number(ctx.account, ctx.region, sms.SANDBOX, number)
        if existing is not None and existing[0] == sms.SANDBOX_VERIFIED:
            raise UserError("Phone number is already verified")
        otp = f"{secrets.randbelow(1_000_000):06d}"
        now = self.clock.now_ms()
        doc = nt.base_doc(nt.SMS, nt.SANDBOX_VERIFICATION, self.sns.settings.new_id(), sms.sandbox_message(otp), now,
                          protocol="sms", one_time_password=otp)
        await self.store.put_sms_number(ctx.account, ctx.region, sms.SANDBOX, number, sms.SANDBOX_PENDING, otp, now,
                                        [nt.Notification(nt.SMS, number, doc)])

    async def verify_sandbox_number(self, ctx: RequestContext, phone: str, otp: str) -> None:
        number = sms.validate_publish_phone(phone)
        found = await self.store.get_sms_number(ctx.account, ctx.region, sms.SANDBOX, number)
        if found is None:
            raise ResourceNotFound("Can't find the phone number in the sandbox")
        status, secret = found
        if status == sms.SANDBOX_VERIFIED:
            return
        if not otp or otp != secret:
            raise VerificationFailed("Invalid one-time password (OTP)")
        await self.store.put_sms_number(ctx.account, ctx.region, sms.SANDBOX, number, sms.SANDBOX_VERIFIED, None,
                                        self.clock.now_ms())

    async def sandbox_numbers(self, ctx: RequestContext, token: str | None,
                              max_results: int | None) -> tuple[list[tuple[str, str]], str | None]:
        size = sms.validate_max_results(max_results, 100)
        found = dict(await self.store.sms_numbers(ctx.account, ctx.region, sms.SANDBOX))
        page, nxt = sms.page_after(sorted(found), token, size)
        return [(n, found[n]) for n in page], nxt

    async def delete_sandbox_number(self, ctx: RequestContext, phone: str) -> None:
        number = sms.validate_publish_phone(phone)
        if not await self.store.delete_sms_number(ctx.account, ctx.region, sms.SANDBOX, number):
            raise ResourceNotFound("Can't find the phone number in the sandbox")

    def origination_numbers(self, max_results: int | None) -> OriginationNumbers:
        """postroom owns no origination numbers (toll-free numbers, 10DLC, short codes)."""
        sms.validate_max_results(max_results, 30)
        return OriginationNumbers([])

    # ---- data protection ---------------------------------------------------------------
    async def _topic(self, ctx: RequestContext, arn: str | None) -> Topic:
        if not arn or len(arn.split(":")) != 6:
            raise InvalidParameter("Invalid parameter: ResourceArn")
        return await self.sns.topic(ctx, arn)

    async def put_data_protection_policy(self, ctx: RequestContext, arn: str, policy: str) -> None:
        topic = await self._topic(ctx, arn)
        await self.store.put_data_protection(topic, data_protection.validate_policy(policy))

    async def data_protection_policy(self, ctx: RequestContext, arn: str) -> str:
        topic = await self._topic(ctx, arn)
        return await self.store.get_data_protection(topic) or ""

    # ---- the outbox -----------------------------------------------------------------------
    async def outbox(self, kind: str, destination: str | None, limit: int) -> list[dict[str, object]]:
        return await self.store.notifications(kind, destination, limit)


def email_confirmation(topic: Topic, sub: Subscription, subscribe_url: str, envelope_json: str, message_id: str,
                       now_ms: int) -> nt.Notification:
    """The outbox entry of an email subscription's confirmation: for ``email`` SNS's text with the
    SubscribeURL, for ``email-json`` the SubscriptionConfirmation envelope HTTP endpoints get. The
    entry carries ``subscribe_url`` and ``token``: visit the URL, or call ConfirmSubscription."""
    if sub.protocol == "email":
        body = nt.confirmation_body(topic.arn, topic.attributes.get("DisplayName", ""), subscribe_url)
    else:
        body = envelope_json
    doc = nt.base_doc(nt.EMAIL, nt.CONFIRMATION, message_id, body, now_ms, protocol=sub.protocol,
                      subject=nt.CONFIRMATION_SUBJECT, topic_arn=topic.arn, subscription_arn=sub.arn,
                      subscribe_url=subscribe_url, token=sub.token)
    return nt.Notification(nt.EMAIL, sub.endpoint, doc)
