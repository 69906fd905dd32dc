"""SNS mobile push: platform applications, platform endpoints, ``application`` subscriptions, and
publishing to endpoints — which postroom writes to its push outbox (``GET /_postroom/outbox/push``)
instead of sending to APNs/FCM.

AWS docs: *Amazon SNS API Reference* › CreatePlatformApplication, GetPlatformApplicationAttributes,
SetPlatformApplicationAttributes, ListPlatformApplications, DeletePlatformApplication,
CreatePlatformEndpoint, GetEndpointAttributes, SetEndpointAttributes,
ListEndpointsByPlatformApplication, DeleteEndpoint, Publish; *Developer Guide* › "Mobile push
notifications", "Publishing with platform-specific payloads". Error texts were recorded against AWS
(LocalStack's validated SNS tests; applications parsing "already exists with the same Token").
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
import requests
from botocore.exceptions import ClientError

from tests.api.conftest import Server
from tests.sns.conftest import assert_sns_error, new_topic, sub_counts, unique

GCM_ATTRS = {"PlatformCredential": "fcm-api-key"}
APNS_ATTRS = {"PlatformCredential": "private-key", "PlatformPrincipal": "certificate"}


def outbox(server: Server, kind: str, destination: str | None = None) -> list[dict[str, Any]]:
    params = {"destination": destination} if destination else {}
    r = requests.get(f"{server.endpoint}/_postroom/outbox/{kind}", params=params, timeout=10)
    assert r.status_code == 200, r.text
    found = r.json()
    assert isinstance(found, list)
    return found


def new_app(sns: Any, platform: str = "GCM", attrs: dict[str, str] | None = None) -> str:
    arn = sns.create_platform_application(Name=unique("app"), Platform=platform,
                                          Attributes=attrs if attrs is not None else GCM_ATTRS)
    return str(arn["PlatformApplicationArn"])


def new_endpoint(sns: Any, app_arn: str, **kwargs: Any) -> tuple[str, str]:
    token = kwargs.pop("Token", None) or unique("token")
    arn = sns.create_platform_endpoint(PlatformApplicationArn=app_arn, Token=token, **kwargs)["EndpointArn"]
    return str(arn), token


# ---- platform applications ---------------------------------------------------------------
def test_create_application_arn_and_attributes(sns: Any) -> None:
    """AWS: CreatePlatformApplication answers arn:aws:sns:<region>:<account>:app/<platform>/<name>;
    GetPlatformApplicationAttributes shows Enabled=true and the attributes set, never the
    PlatformCredential/PlatformPrincipal secrets."""
    name = unique("app")
    arn = sns.create_platform_application(Name=name, Platform="APNS", Attributes={
        **APNS_ATTRS, "SuccessFeedbackSampleRate": "50"})["PlatformApplicationArn"]
    assert re.fullmatch(rf"arn:aws:sns:us-east-1:\d{{12}}:app/APNS/{name}", arn)
    attrs = sns.get_platform_application_attributes(PlatformApplicationArn=arn)["Attributes"]
    assert attrs["Enabled"] == "true"
    assert attrs["SuccessFeedbackSampleRate"] == "50"
    assert "PlatformCredential" not in attrs and "PlatformPrincipal" not in attrs


@pytest.mark.parametrize(("platform", "attrs", "message"), [
    ("FOO", GCM_ATTRS, "Invalid parameter: Platform Reason: FOO is not supported"),
    ("GCM", {"EventEndpointCreated": "arn:aws:sns:us-east-1:000000000000:t"},
     "Invalid parameter: Attributes Reason: PlatformCredential attribute required"),
    ("APNS", {"PlatformCredential": "k"},
     "Invalid parameter: Attributes Reason: PlatformCredential attribute provided without PlatformPrincipal"),
    ("APNS", {"PlatformPrincipal": "c"},
     "Invalid parameter: Attributes Reason: PlatformPrincipal attribute provided without PlatformCredential"),
])
def test_create_application_validation(sns: Any, platform: str, attrs: dict[str, str], message: str) -> None:
    """AWS: an unsupported Platform is "Invalid parameter: Platform Reason: <p> is not supported"; FCM
    needs a PlatformCredential; APNS needs credential and principal together (texts recorded by
    LocalStack's AWS-validated tests). All InvalidParameter (400)."""
    with pytest.raises(ClientError) as exc:
        sns.create_platform_application(Name=unique("app"), Platform=platform, Attributes=attrs)
    assert_sns_error(exc, "InvalidParameter", 400, message)


def test_create_application_bad_name(sns: Any) -> None:
    """AWS: an application name allows letters, digits, '_', '-' and '.' only ("Invalid parameter:
    <name> Reason: must contain only characters 'a'-'z', 'A'-'Z', '0'-'9', '_', '-', and '.'")."""
    with pytest.raises(ClientError) as exc:
        sns.create_platform_application(Name="bad name!", Platform="GCM", Attributes=GCM_ATTRS)
    assert_sns_error(exc, "InvalidParameter", 400, "must contain only characters")


def test_set_and_list_and_delete_application(sns: Any) -> None:
    """SetPlatformApplicationAttributes changes the named attributes and keeps the others;
    ListPlatformApplications lists the application with its attributes; DeletePlatformApplication
    removes it and its endpoints (GetPlatformApplicationAttributes: NotFound "PlatformApplication
    does not exist"); deleting again succeeds (AWS's delete actions are idempotent)."""
    arn = new_app(sns)
    endpoint_arn, _ = new_endpoint(sns, arn)
    sns.set_platform_application_attributes(PlatformApplicationArn=arn,
                                            Attributes={"EventDeliveryFailure": "arn:aws:sns:us-east-1:1:x"})
    attrs = sns.get_platform_application_attributes(PlatformApplicationArn=arn)["Attributes"]
    assert attrs == {"Enabled": "true", "EventDeliveryFailure": "arn:aws:sns:us-east-1:1:x"}
    listed = {a["PlatformApplicationArn"]: a["Attributes"]
              for page in sns.get_paginator("list_platform_applications").paginate()
              for a in page["PlatformApplications"]}
    assert listed[arn] == attrs
    sns.delete_platform_application(PlatformApplicationArn=arn)
    with pytest.raises(ClientError) as exc:
        sns.get_platform_application_attributes(PlatformApplicationArn=arn)
    assert_sns_error(exc, "NotFound", 404, "PlatformApplication does not exist")
    with pytest.raises(ClientError) as exc:
        sns.get_endpoint_attributes(EndpointArn=endpoint_arn)
    assert_sns_error(exc, "NotFound", 404, "Endpoint does not exist")
    sns.delete_platform_application(PlatformApplicationArn=arn)


def test_list_applications_pages_by_15(sns: Any) -> None:
    """AWS: ListPlatformApplications answers up to 15 applications per call, with a NextToken for
    the rest; following the tokens lists every application once."""
    mine = {new_app(sns) for _ in range(17)}
    first = sns.list_platform_applications()
    assert len(first["PlatformApplications"]) <= 15
    assert "NextToken" in first
    seen = [a["PlatformApplicationArn"] for page in sns.get_paginator("list_platform_applications").paginate()
            for a in page["PlatformApplications"]]
    assert len(seen) == len(set(seen))
    assert mine <= set(seen)


# ---- platform endpoints ----------------------------------------------------------------------
def test_create_endpoint_is_idempotent_and_conflicts(sns: Any) -> None:
    """AWS: "CreatePlatformEndpoint is idempotent, so if the requester already owns an endpoint with
    the same device token and attributes, that endpoint's ARN is returned"; the same token with
    other attributes is InvalidParameter "Invalid parameter: Token Reason: Endpoint <arn> already
    exists with the same Token, but different attributes." (the text applications parse the ARN
    from). The endpoint ARN is …:endpoint/<platform>/<app>/<id>."""
    app = new_app(sns)
    token = unique("tok")
    arn, _ = new_endpoint(sns, app, Token=token, CustomUserData="user-1")
    assert re.fullmatch(rf"{app.replace(':app/', ':endpoint/')}/[0-9a-f-]+", arn)
    again, _ = new_endpoint(sns, app, Token=token, CustomUserData="user-1")
    assert again == arn
    with pytest.raises(ClientError) as exc:
        new_endpoint(sns, app, Token=token, CustomUserData="user-2")
    assert_sns_error(exc, "InvalidParameter", 400,
                     f"Invalid parameter: Token Reason: Endpoint {arn} already exists with the same Token, "
                     "but different attributes.")
    listed = sns.list_endpoints_by_platform_application(PlatformApplicationArn=app)["Endpoints"]
    assert [e["EndpointArn"] for e in listed] == [arn]


def test_disabled_endpoint_conflicts_with_plain_create(sns: Any) -> None:
    """An endpoint disabled (Enabled=false) differs from a create with the default Enabled=true, so
    the create is the Token conflict, as AWS answers for a disabled endpoint's token."""
    app = new_app(sns)
    arn, token = new_endpoint(sns, app)
    sns.set_endpoint_attributes(EndpointArn=arn, Attributes={"Enabled": "false"})
    with pytest.raises(ClientError) as exc:
        new_endpoint(sns, app, Token=token)
    assert_sns_error(exc, "InvalidParameter", 400, "already exists with the same Token")


def test_endpoint_attributes(sns: Any) -> None:
    """GetEndpointAttributes shows Enabled, Token and CustomUserData; SetEndpointAttributes changes
    the named ones; an unknown attribute name is InvalidParameter "Invalid parameter: Attributes
    Reason: Invalid attribute name: <name>"; DeleteEndpoint makes it NotFound "Endpoint does not
    exist", and is idempotent."""
    app = new_app(sns)
    arn, token = new_endpoint(sns, app, CustomUserData="hello")
    assert sns.get_endpoint_attributes(EndpointArn=arn)["Attributes"] == {
        "Enabled": "true", "Token": token, "CustomUserData": "hello"}
    sns.set_endpoint_attributes(EndpointArn=arn, Attributes={"Token": "new-token", "Enabled": "False"})
    assert sns.get_endpoint_attributes(EndpointArn=arn)["Attributes"] == {
        "Enabled": "false", "Token": "new-token", "CustomUserData": "hello"}
    with pytest.raises(ClientError) as exc:
        sns.set_endpoint_attributes(EndpointArn=arn, Attributes={"Colour": "red"})
    assert_sns_error(exc, "InvalidParameter", 400, "Invalid attribute name: Colour")
    sns.delete_endpoint(EndpointArn=arn)
    with pytest.raises(ClientError) as exc:
        sns.get_endpoint_attributes(EndpointArn=arn)
    assert_sns_error(exc, "NotFound", 404, "Endpoint does not exist")
    sns.delete_endpoint(EndpointArn=arn)


def test_create_endpoint_for_missing_application(sns: Any) -> None:
    """AWS: CreatePlatformEndpoint on an application that does not exist is NotFound (404)."""
    missing = "arn:aws:sns:us-east-1:000000000000:app/GCM/" + unique("none")
    with pytest.raises(ClientError) as exc:
        sns.create_platform_endpoint(PlatformApplicationArn=missing, Token="t")
    assert_sns_error(exc, "NotFound", 404, "PlatformApplication does not exist")


def test_apns_token_must_be_hex(sns: Any) -> None:
    """AWS: an Apple device token is at most 400 hexadecimal characters ("Invalid parameter: Token
    Reason: iOS device tokens must be no more than 400 hexadecimal characters")."""
    app = new_app(sns, "APNS_SANDBOX", APNS_ATTRS)
    with pytest.raises(ClientError) as exc:
        sns.create_platform_endpoint(PlatformApplicationArn=app, Token="z" * 64)
    assert_sns_error(exc, "InvalidParameter", 400, "iOS device tokens must be no more than 400 hexadecimal")
    assert sns.create_platform_endpoint(PlatformApplicationArn=app, Token="ab12" * 16)["EndpointArn"]


# ---- publishing to endpoints -------------------------------------------------------------------
def test_direct_publish_to_endpoint_goes_to_push_outbox(sns: Any, sns_server: Server) -> None:
    """Publish with TargetArn of an endpoint delivers to that device: the push outbox holds the
    device token, the message, its platform, the endpoint's CustomUserData and the MessageId."""
    app = new_app(sns)
    arn, token = new_endpoint(sns, app, CustomUserData="u-42")
    message_id = sns.publish(TargetArn=arn, Message="hello device", MessageAttributes={
        "k": {"DataType": "String", "StringValue": "v"}})["MessageId"]
    (entry,) = outbox(sns_server, "push", token)
    assert entry["message_id"] == message_id
    assert entry["message"] == "hello device"
    assert entry["platform"] == "GCM"
    assert entry["endpoint_arn"] == arn
    assert entry["custom_user_data"] == "u-42"
    assert entry["attributes"] == {"k": {"Type": "String", "Value": "v"}}
    assert entry["type"] == "Notification"


def test_direct_publish_json_structure_picks_platform_key(sns: Any, sns_server: Server) -> None:
    """AWS Developer Guide › "Publishing with platform-specific payloads": with
    MessageStructure=json an endpoint receives the entry named after its platform (GCM, APNS,
    APNS_SANDBOX …), else ``default``."""
    gcm, gcm_token = new_endpoint(sns, new_app(sns))
    apns, apns_token = new_endpoint(sns, new_app(sns, "APNS_SANDBOX", APNS_ATTRS), Token="ab" * 32)
    payload = {"default": "plain", "GCM": json.dumps({"notification": {"body": "for fcm"}}),
               "APNS": json.dumps({"aps": {"alert": "for production apns"}})}
    for target in (gcm, apns):
        sns.publish(TargetArn=target, Message=json.dumps(payload), MessageStructure="json")
    assert [e["message"] for e in outbox(sns_server, "push", gcm_token)] == [payload["GCM"]]
    assert [e["message"] for e in outbox(sns_server, "push", apns_token)] == ["plain"]


def test_publish_to_disabled_endpoint_is_endpoint_disabled(sns: Any, sns_server: Server) -> None:
    """AWS: Publish to an endpoint whose Enabled is false is EndpointDisabled "Endpoint is disabled"
    (400), and nothing is delivered; enabled again, it receives."""
    arn, token = new_endpoint(sns, new_app(sns))
    sns.set_endpoint_attributes(EndpointArn=arn, Attributes={"Enabled": "false"})
    with pytest.raises(ClientError) as exc:
        sns.publish(TargetArn=arn, Message="x")
    assert_sns_error(exc, "EndpointDisabled", 400, "Endpoint is disabled")
    assert outbox(sns_server, "push", token) == []
    sns.set_endpoint_attributes(EndpointArn=arn, Attributes={"Enabled": "true"})
    sns.publish(TargetArn=arn, Message="y")
    assert [e["message"] for e in outbox(sns_server, "push", token)] == ["y"]


def test_publish_to_missing_endpoint(sns: Any) -> None:
    """AWS: Publish to an endpoint ARN that names no endpoint is InvalidParameter "Invalid parameter:
    TargetArn Reason: No endpoint found for the target arn specified"."""
    app = new_app(sns)
    with pytest.raises(ClientError) as exc:
        sns.publish(TargetArn=app.replace(":app/", ":endpoint/") + "/0000", Message="x")
    assert_sns_error(exc, "InvalidParameter", 400, "No endpoint found for the target arn specified")


def test_application_subscription_fan_out(sns: Any, sns_server: Server) -> None:
    """Subscribe with Protocol=application and an endpoint ARN: confirmed at once (as SNS confirms
    mobile endpoints); a publish to the topic reaches the device with the platform's entry of a
    JSON structure, and is counted delivered. A disabled endpoint gets nothing, and the delivery
    counts as failed."""
    topic = new_topic(sns)
    live, live_token = new_endpoint(sns, new_app(sns))
    off, off_token = new_endpoint(sns, new_app(sns))
    sub_live = sns.subscribe(TopicArn=topic, Protocol="application", Endpoint=live)["SubscriptionArn"]
    sub_off = sns.subscribe(TopicArn=topic, Protocol="application", Endpoint=off)["SubscriptionArn"]
    assert sub_live.startswith(topic + ":")
    assert sns.get_subscription_attributes(SubscriptionArn=sub_live)["Attributes"]["PendingConfirmation"] == "false"
    sns.set_endpoint_attributes(EndpointArn=off, Attributes={"Enabled": "false"})
    message_id = sns.publish(TopicArn=topic, MessageStructure="json",
                             Message=json.dumps({"default": "d", "GCM": "g"}))["MessageId"]
    (entry,) = outbox(sns_server, "push", live_token)
    assert (entry["message"], entry["message_id"], entry["topic_arn"], entry["subscription_arn"]) == (
        "g", message_id, topic, sub_live)
    assert outbox(sns_server, "push", off_token) == []
    assert sub_counts(sns_server, sub_live)["delivered"] == 1
    assert sub_counts(sns_server, sub_off)["failed"] == 1


def test_application_subscription_needs_endpoint_arn(sns: Any) -> None:
    """AWS: Subscribe with Protocol=application and an endpoint that is not an endpoint ARN is
    InvalidParameter (recorded: "Invalid parameter: ApplicationEndpoint ARN")."""
    topic = new_topic(sns)
    with pytest.raises(ClientError) as exc:
        sns.subscribe(TopicArn=topic, Protocol="application", Endpoint="not-an-arn")
    assert_sns_error(exc, "InvalidParameter", 400, "ApplicationEndpoint ARN")
