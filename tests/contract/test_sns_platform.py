"""Mobile push, SMS, data protection and the notification outbox, on every store: applications and
endpoints (one endpoint per token even when creates race), changes applied to the stored row,
SMS settings merged, the outbox written with a publish and its accounting in one transaction,
pushes resolved to the endpoint's token (nothing for a disabled one), and the outbox's bound."""

from __future__ import annotations

import asyncio
import json

import pytest

from postroom.core.model import ResourceKey
from postroom.core.sns import notifications as nt
from postroom.core.sns import sms
from postroom.core.sns.model import PublishPlan, PublishWriteSet, StaleSubscriptions, Subscription, Topic
from postroom.core.sns.platform import (
    PlatformApplication,
    PlatformEndpoint,
    application_arn,
    changed_endpoint,
    endpoint_arn,
    same_endpoint,
)
from postroom.errors import InvalidParameter, NotFound

from .conftest import T0

ACCOUNT = "000000000000"
REGION = "us-east-1"


def _app(name: str = "app", platform: str = "GCM") -> PlatformApplication:
    return PlatformApplication(application_arn(REGION, ACCOUNT, platform, name), ACCOUNT, REGION, name, platform,
                               {"Enabled": "true"}, {"PlatformCredential": "secret"}, T0)


def _endpoint(app: PlatformApplication, ident: str, token: str, **attrs: str) -> PlatformEndpoint:
    return PlatformEndpoint(endpoint_arn(app.arn, ident), app.arn, token, {"Enabled": "true", "Token": token, **attrs},
                            T0)


def nt_key(name: str) -> ResourceKey:
    return ResourceKey(ACCOUNT, REGION, name)


def _push(endpoint: str, message: str, topic_arn: str | None = None, sub_arn: str | None = None) -> nt.Notification:
    doc = nt.base_doc(nt.PUSH, nt.NOTIFICATION, f"m-{message}", message, T0)
    return nt.Notification(nt.PUSH, endpoint, doc, topic_arn, sub_arn)


def _sms(number: str, message: str) -> nt.Notification:
    return nt.Notification(nt.SMS, number, nt.base_doc(nt.SMS, nt.NOTIFICATION, f"m-{message}", message, T0))


async def test_applications(store):
    app = await store.put_application(_app())
    assert await store.get_application(app.arn) == app
    replaced = await store.put_application(PlatformApplication(
        app.arn, ACCOUNT, REGION, "app", "GCM", {"Enabled": "true", "EventDeliveryFailure": "x"}, {}, T0 + 5))
    assert replaced.attributes["EventDeliveryFailure"] == "x" and replaced.created_ms == T0, "same ARN: replaced"
    other = await store.put_application(_app("zzz"))
    assert [a.arn for a in await store.list_applications(ACCOUNT, REGION, None, 10)] == [app.arn, other.arn]
    assert [a.arn for a in await store.list_applications(ACCOUNT, REGION, app.arn, 10)] == [other.arn]
    assert await store.list_applications(ACCOUNT, "eu-west-1", None, 10) == []
    updated = await store.update_application(app.arn, lambda a: PlatformApplication(
        a.arn, a.account, a.region, a.name, a.platform, {**a.attributes, "SuccessFeedbackSampleRate": "5"},
        a.credentials, a.created_ms))
    assert (await store.get_application(app.arn)) == updated
    with pytest.raises(NotFound):
        await store.update_application(app.arn + "x", lambda a: a)
    endpoint = await store.create_endpoint(_endpoint(app, "e1", "tok"), lambda e: True)
    await store.delete_application(app.arn)
    assert await store.get_application(app.arn) is None
    assert await store.get_endpoint(endpoint.arn) is None, "an application's endpoints go with it"
    await store.delete_application(app.arn)


async def test_endpoints_one_per_token(store):
    app = await store.put_application(_app())
    first = await store.create_endpoint(_endpoint(app, "e1", "tok", CustomUserData="u"),
                                        lambda e: same_endpoint(e, {"Enabled": "true", "CustomUserData": "u"}))
    again = await store.create_endpoint(_endpoint(app, "e2", "tok", CustomUserData="u"),
                                        lambda e: same_endpoint(e, {"Enabled": "true", "CustomUserData": "u"}))
    assert again.arn == first.arn
    with pytest.raises(InvalidParameter, match="already exists with the same Token"):
        await store.create_endpoint(_endpoint(app, "e3", "tok"),
                                    lambda e: same_endpoint(e, {"Enabled": "true", "CustomUserData": "v"}))
    raced = await asyncio.gather(*(store.create_endpoint(_endpoint(app, f"r{i}", "raced"), lambda e: True)
                                   for i in range(8)))
    assert len({e.arn for e in raced}) == 1, "concurrent creates of one token make one endpoint"
    listed = await store.list_endpoints(app.arn, None, 10)
    assert sorted(e.token for e in listed) == ["raced", "tok"]
    missing = _app("missing")
    with pytest.raises(NotFound):
        await store.create_endpoint(_endpoint(missing, "x", "t"), lambda e: True)


async def test_endpoint_changes_apply_to_the_stored_row(store):
    app = await store.put_application(_app())
    endpoint = await store.create_endpoint(_endpoint(app, "e1", "tok"), lambda e: True)
    await asyncio.gather(store.update_endpoint(endpoint.arn, lambda e: changed_endpoint(e, {"CustomUserData": "a"})),
                         store.update_endpoint(endpoint.arn, lambda e: changed_endpoint(e, {"Enabled": "false"})))
    stored = await store.get_endpoint(endpoint.arn)
    assert stored is not None
    assert stored.attributes == {"Enabled": "false", "Token": "tok", "CustomUserData": "a"}, "both changes survive"
    await store.delete_endpoint(endpoint.arn)
    with pytest.raises(NotFound):
        await store.update_endpoint(endpoint.arn, lambda e: e)


async def test_sms_settings_and_numbers(store):
    assert await store.sms_settings(ACCOUNT, REGION) == {}
    await asyncio.gather(store.update_sms_settings(ACCOUNT, REGION, {"DefaultSMSType": "Transactional"}),
                         store.update_sms_settings(ACCOUNT, REGION, {"DefaultSenderID": "Shop"}))
    assert await store.sms_settings(ACCOUNT, REGION) == {"DefaultSMSType": "Transactional", "DefaultSenderID": "Shop"}
    assert await store.sms_settings(ACCOUNT, "eu-west-1") == {}
    await store.put_sms_number(ACCOUNT, REGION, sms.SANDBOX, "+15550001", "Pending", "123456", T0,
                               [_sms("+15550001", "code 123456")])
    assert await store.get_sms_number(ACCOUNT, REGION, sms.SANDBOX, "+15550001") == ("Pending", "123456")
    assert [e["message"] for e in await store.notifications(nt.SMS, "+15550001", 10)] == ["code 123456"]
    await store.put_sms_number(ACCOUNT, REGION, sms.SANDBOX, "+15550001", "Verified", None, T0)
    assert await store.sms_numbers(ACCOUNT, REGION, sms.SANDBOX) == [("+15550001", "Verified")]
    assert await store.sms_numbers(ACCOUNT, REGION, sms.OPTED_OUT) == []
    assert await store.delete_sms_number(ACCOUNT, REGION, sms.SANDBOX, "+15550001")
    assert not await store.delete_sms_number(ACCOUNT, REGION, sms.SANDBOX, "+15550001")


async def test_data_protection(store):
    topic, _ = await store.create_topic(nt_key("dp"), {}, {}, T0)
    assert await store.get_data_protection(topic) is None
    await store.put_data_protection(topic, '{"Name": "p"}')
    assert await store.get_data_protection(topic) == '{"Name": "p"}'
    await store.put_data_protection(topic, "")
    assert await store.get_data_protection(topic) is None


async def test_pushes_resolve_to_the_token(store):
    app = await store.put_application(_app())
    live = await store.create_endpoint(_endpoint(app, "live", "device-1", CustomUserData="u1"), lambda e: True)
    off = await store.create_endpoint(_endpoint(app, "off", "device-2"), lambda e: True)
    await store.update_endpoint(off.arn, lambda e: changed_endpoint(e, {"Enabled": "false"}))
    await store.add_notifications([_push(live.arn, "a"), _push(off.arn, "b"), _push(live.arn + "gone", "c")], T0)
    entries = await store.notifications(nt.PUSH, None, 10)
    assert [(e["destination"], e["message"], e["custom_user_data"], e["platform"]) for e in entries] == [
        ("device-1", "a", "u1", "GCM")], "a disabled or missing endpoint gets nothing"


async def test_publish_writes_outbox_and_counts_in_one_transaction(store):
    topic, _ = await store.create_topic(nt_key("fan"), {}, {}, T0)
    app = await store.put_application(_app())
    live = await store.create_endpoint(_endpoint(app, "live", "device-1"), lambda e: True)
    off = await store.create_endpoint(_endpoint(app, "off", "device-2", Enabled="false"), lambda e: True)
    s_live = await store.subscribe(topic, Subscription("s1", topic.arn, ACCOUNT, "application", live.arn, {}, True),
                                   T0)
    s_off = await store.subscribe(topic, Subscription("s2", topic.arn, ACCOUNT, "application", off.arn, {}, True), T0)
    s_sms = await store.subscribe(topic, Subscription("s3", topic.arn, ACCOUNT, "sms", "+15550002", {}, True), T0)
    plan = PublishPlan(message_id="m1", notifications=[
        _push(live.arn, "hi", topic.arn, s_live.arn), _push(off.arn, "hi", topic.arn, s_off.arn),
        nt.Notification(nt.SMS, "+15550002", nt.base_doc(nt.SMS, nt.NOTIFICATION, "m1", "hi", T0), topic.arn,
                        s_sms.arn)])
    subset = await store.subscriptions_of(topic)
    await store.publish(PublishWriteSet(topic, subset.version, True, [plan]), T0, 300_000)
    assert [e["message_id"] for e in await store.notifications(nt.PUSH, "device-1", 10)] == ["m-hi"]
    assert await store.notifications(nt.PUSH, "device-2", 10) == []
    assert [e["destination"] for e in await store.notifications(nt.SMS, "+15550002", 10)] == ["+15550002"]
    _topics, subs = await store.sns_counts()
    assert subs[s_live.arn].delivered == 1 and subs[s_sms.arn].delivered == 1
    assert subs[s_off.arn].failed == 1 and subs[s_off.arn].delivered == 0
    stale = PublishWriteSet(topic, subset.version - 1, True, [PublishPlan(message_id="m2", notifications=[
        _sms("+15550002", "never")])])
    with pytest.raises(StaleSubscriptions):  # nothing of the write set is written
        await store.publish(stale, T0, 300_000)
    assert [e["message"] for e in await store.notifications(nt.SMS, "+15550002", 10)] == ["hi"]


async def test_outbox_is_bounded_and_ordered(store):
    batch = [_sms(f"+1555{i % 3}", f"msg-{i}") for i in range(nt.OUTBOX_KEEP + 5)]
    for start in range(0, len(batch), 100):
        await store.add_notifications(batch[start:start + 100], T0)
    await store.add_notifications([_push("arn:aws:sns:us-east-1:0:endpoint/GCM/a/gone", "x")], T0)
    kept = await store.notifications(nt.SMS, None, 5_000)
    assert len(kept) == nt.OUTBOX_KEEP
    assert kept[0]["message"] == "msg-5" and kept[-1]["message"] == f"msg-{nt.OUTBOX_KEEP + 4}", "newest last"
    assert [e["id"] for e in kept] == sorted(e["id"] for e in kept)
    newest = await store.notifications(nt.SMS, None, 2)
    assert [e["message"] for e in newest] == [f"msg-{nt.OUTBOX_KEEP + 3}", f"msg-{nt.OUTBOX_KEEP + 4}"]
    mine = await store.notifications(nt.SMS, "+15551", 5_000)
    assert mine and all(e["destination"] == "+15551" for e in mine)
    assert json.loads(json.dumps(kept[0]))["kind"] == "sms"


async def test_topic_is_a_topic(store):
    """Data protection is keyed by the topic's id: a new topic of the same name has none."""
    topic, _ = await store.create_topic(nt_key("again"), {}, {}, T0)
    await store.put_data_protection(topic, '{"Name": "p"}')
    await store.delete_topic(topic.key)
    fresh, created = await store.create_topic(nt_key("again"), {}, {}, T0)
    assert created and isinstance(fresh, Topic)
    assert await store.get_data_protection(fresh) is None
