"""boto3 against a server with a credentials file: good keys work for SQS (JSON and query),
SNS and STS, with the file's account; wrong secrets, unknown keys, bad session tokens, skewed
clocks and expired presigned URLs fail with AWS's codes and statuses, and change nothing."""

from __future__ import annotations

import contextlib
import datetime
import threading
import time
import uuid
from collections.abc import Iterator
from unittest import mock

import botocore.auth
import pytest
import requests
from botocore.auth import SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

from tests.auth.conftest import ACCOUNT, GOOD, LIMITED, MAPPED, MAPPED_ACCOUNT, REGION, TEMP, AuthServer, client

SIGNATURE_MISMATCH = ("The request signature we calculated does not match the signature you provided. Check your "
                      "AWS Secret Access Key and signing method. Consult the service documentation for details.")
INVALID_TOKEN = "The security token included in the request is invalid."


def unique(prefix: str = "q") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def error(exc: pytest.ExceptionInfo[ClientError]) -> tuple[int, str, str]:
    r = exc.value.response
    return r["ResponseMetadata"]["HTTPStatusCode"], r["Error"]["Code"], r["Error"]["Message"]


@contextlib.contextmanager
def shifted_clock(seconds: float) -> Iterator[None]:
    """botocore signs with a clock ``seconds`` away from the real one."""
    real = botocore.auth.get_current_datetime

    def shifted() -> datetime.datetime:
        return real() + datetime.timedelta(seconds=seconds)

    with mock.patch.object(botocore.auth, "get_current_datetime", shifted):
        yield


# ---- good credentials ---------------------------------------------------------------------------

def test_good_key_works_for_sqs_sns_sts_with_the_files_account(auth_server: AuthServer) -> None:
    sqs = client(auth_server, "sqs")
    name = unique()
    url = sqs.create_queue(QueueName=name)["QueueUrl"]
    assert url.endswith(f"/{ACCOUNT}/{name}")
    sqs.send_message(QueueUrl=url, MessageBody="hello")
    assert [m["Body"] for m in sqs.receive_message(QueueUrl=url, WaitTimeSeconds=1)["Messages"]] == ["hello"]
    sns = client(auth_server, "sns")
    assert sns.create_topic(Name=unique("t"))["TopicArn"].startswith(f"arn:aws:sns:{REGION}:{ACCOUNT}:")
    assert client(auth_server, "sts").get_caller_identity()["Account"] == ACCOUNT


def test_a_twelve_digit_key_takes_the_account_the_file_gives_it(auth_server: AuthServer) -> None:
    assert client(auth_server, "sts", key=MAPPED).get_caller_identity()["Account"] == MAPPED_ACCOUNT
    url = client(auth_server, "sqs", key=MAPPED).create_queue(QueueName=unique())["QueueUrl"]
    assert f"/{MAPPED_ACCOUNT}/" in url


def test_region_comes_from_the_verified_scope(auth_server: AuthServer) -> None:
    sns = client(auth_server, "sns", region="eu-west-1")
    assert sns.create_topic(Name=unique("t"))["TopicArn"].startswith(f"arn:aws:sns:eu-west-1:{ACCOUNT}:")


def test_sqs_query_protocol_signed_by_botocore(auth_server: AuthServer) -> None:
    """The query protocol (form body), signed by botocore's own SigV4 signer."""
    name = unique()
    status, body = signed_query(auth_server, {"Action": "CreateQueue", "QueueName": name, "Version": "2012-11-05"})
    assert status == 200, body
    assert f"/{ACCOUNT}/{name}</QueueUrl>" in body


def signed_query(server: AuthServer, params: dict[str, str], key: tuple[str, ...] = GOOD,
                 path: str = "/") -> tuple[int, str]:
    request = AWSRequest(method="POST", url=server.endpoint + path, data=params,
                         headers={"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"})
    botocore.auth.SigV4Auth(Credentials(key[0], key[1]), "sqs", REGION).add_auth(request)
    prepared = request.prepare()
    r = requests.post(prepared.url, data=prepared.body, headers=dict(prepared.headers), timeout=10)
    return r.status_code, r.text


def test_session_token(auth_server: AuthServer) -> None:
    assert client(auth_server, "sts", key=TEMP, token=TEMP[2]).get_caller_identity()["Account"] == ACCOUNT
    for token in (None, "wrong-token"):
        with pytest.raises(ClientError) as exc:
            client(auth_server, "sqs", key=TEMP, token=token).list_queues()
        assert error(exc) == (403, "InvalidClientTokenId", INVALID_TOKEN)
    with pytest.raises(ClientError) as exc:  # a token where the key has none
        client(auth_server, "sns", token="unexpected").list_topics()
    assert error(exc) == (403, "InvalidClientTokenId", INVALID_TOKEN)


# ---- bad credentials ----------------------------------------------------------------------------

CALLS = {
    "sqs": lambda c: c.list_queues(),
    "sns": lambda c: c.list_topics(),
    "sts": lambda c: c.get_caller_identity(),
}


@pytest.mark.parametrize("service", sorted(CALLS))
def test_wrong_secret_is_signature_does_not_match(auth_server: AuthServer, service: str) -> None:
    with pytest.raises(ClientError) as exc:
        CALLS[service](client(auth_server, service, key=(GOOD[0], "not-the-secret")))
    assert error(exc) == (403, "SignatureDoesNotMatch", SIGNATURE_MISMATCH)


@pytest.mark.parametrize("service", sorted(CALLS))
def test_unknown_key_is_invalid_client_token_id(auth_server: AuthServer, service: str) -> None:
    with pytest.raises(ClientError) as exc:
        CALLS[service](client(auth_server, service, key=("AKIAUNKNOWNKEY000000", "whatever")))
    assert error(exc) == (403, "InvalidClientTokenId", INVALID_TOKEN)


def test_sqs_json_errors_carry_coral_types_and_the_query_code(auth_server: AuthServer) -> None:
    r = requests.post(auth_server.endpoint + "/", data=b"{}", timeout=10, headers={
        "X-Amz-Target": "AmazonSQS.ListQueues", "Content-Type": "application/x-amz-json-1.0"})
    assert r.status_code == 403
    assert r.json() == {"__type": "com.amazon.coral.service#MissingAuthenticationTokenException",
                        "message": "Request is missing Authentication Token"}
    assert r.headers["x-amzn-query-error"] == "MissingAuthenticationToken;Sender"
    with pytest.raises(ClientError) as exc:
        client(auth_server, "sqs", key=("AKIAUNKNOWNKEY000000", "x")).list_queues()
    assert exc.value.response["Error"]["QueryErrorCode"] == "UnrecognizedClientException"


def test_unsigned_and_malformed_requests(auth_server: AuthServer) -> None:
    r = requests.post(auth_server.endpoint + "/", data={"Action": "ListTopics", "Version": "2010-03-31"}, timeout=10)
    assert r.status_code == 403 and "<Code>MissingAuthenticationToken</Code>" in r.text, r.text
    assert 'xmlns="http://sns.amazonaws.com/doc/2010-03-31/"' in r.text
    r = requests.post(auth_server.endpoint + "/", data={"Action": "ListQueues", "Version": "2012-11-05"}, timeout=10,
                      headers={"Authorization": "AWS4-HMAC-SHA256 Credential=GOODKEY1234567890ABC/20250101/us-east-1/"
                                                "sqs/aws4_request", "X-Amz-Date": "20250101T000000Z"})
    assert r.status_code == 400 and "<Code>IncompleteSignature</Code>" in r.text, r.text
    assert "Authorization header requires 'Signature' parameter." in r.text
    r = requests.post(auth_server.endpoint + "/", data={"Action": "ListQueues"}, timeout=10,
                      headers={"Authorization": "AWS GOODKEY1234567890ABC:c2lnbmF0dXJl"})
    assert r.status_code == 400 and "Unsupported AWS 'algorithm': 'AWS'" in r.text, r.text


def test_rejected_requests_have_no_side_effect(auth_server: AuthServer) -> None:
    sqs, sns = client(auth_server, "sqs"), client(auth_server, "sns")
    bad_sqs = client(auth_server, "sqs", key=(GOOD[0], "wrong"))
    name = unique()
    with pytest.raises(ClientError):
        bad_sqs.create_queue(QueueName=name)
    with pytest.raises(ClientError) as exc:
        sqs.get_queue_url(QueueName=name)
    assert exc.value.response["Error"]["Code"] == "AWS.SimpleQueueService.NonExistentQueue"
    url = sqs.create_queue(QueueName=name)["QueueUrl"]
    with pytest.raises(ClientError):
        bad_sqs.send_message(QueueUrl=url, MessageBody="x")
    with pytest.raises(ClientError):
        client(auth_server, "sqs", key=("AKIAUNKNOWNKEY000000", "x")).purge_queue(QueueUrl=url)
    sqs.send_message(QueueUrl=url, MessageBody="kept")
    with shifted_clock(-3600), pytest.raises(ClientError):
        sqs.delete_queue(QueueUrl=url)
    attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"])["Attributes"]
    assert attrs["ApproximateNumberOfMessages"] == "1"
    topic = unique("t")
    with pytest.raises(ClientError):
        client(auth_server, "sns", key=(GOOD[0], "wrong")).create_topic(Name=topic)
    assert not [t for t in sns.list_topics()["Topics"] if t["TopicArn"].endswith(":" + topic)]


# ---- clock skew -----------------------------------------------------------------------------------

@pytest.mark.parametrize("service", sorted(CALLS))
def test_clock_skew_within_15_minutes_is_accepted(auth_server: AuthServer, service: str) -> None:
    for seconds in (-14 * 60, 14 * 60):
        with shifted_clock(seconds):
            CALLS[service](client(auth_server, service))


@pytest.mark.parametrize("service", sorted(CALLS))
def test_clock_skew_beyond_15_minutes_is_refused(auth_server: AuthServer, service: str) -> None:
    with shifted_clock(-16 * 60), pytest.raises(ClientError) as exc:
        CALLS[service](client(auth_server, service))
    status, code, message = error(exc)
    assert (status, code) == (403, "SignatureDoesNotMatch")
    assert message.startswith("Signature expired: ") and " is now earlier than " in message
    assert message.endswith(" - 15 min.)")
    with shifted_clock(16 * 60), pytest.raises(ClientError) as exc:
        CALLS[service](client(auth_server, service))
    status, code, message = error(exc)
    assert (status, code) == (403, "SignatureDoesNotMatch")
    assert message.startswith("Signature not yet current: ") and message.endswith(" + 15 min.)")


# ---- presigned URLs -----------------------------------------------------------------------------

def presign_sqs(server: AuthServer, params: dict[str, str], expires: int = 300, key: tuple[str, ...] = GOOD) -> str:
    """A presigned SQS query-protocol URL, made by botocore's own SigV4QueryAuth (SQS's current
    botocore model is JSON-only, so generate_presigned_url cannot make one)."""
    request = AWSRequest(method="GET", url=server.endpoint + "/", params={**params, "Version": "2012-11-05"})
    token = key[2] if len(key) > 2 else None
    SigV4QueryAuth(Credentials(key[0], key[1], token), "sqs", REGION, expires=expires).add_auth(request)
    return str(request.prepare().url)


def test_presigned_sqs_get_queue_url(auth_server: AuthServer) -> None:
    name = unique()
    client(auth_server, "sqs").create_queue(QueueName=name)
    url = presign_sqs(auth_server, {"Action": "GetQueueUrl", "QueueName": name})
    assert "X-Amz-Signature=" in url and "Authorization" not in url
    r = requests.get(url, timeout=10)
    assert r.status_code == 200, r.text
    assert f"/{ACCOUNT}/{name}</QueueUrl>" in r.text
    tampered = url.replace(f"QueueName={name}", f"QueueName={name}x")
    r = requests.get(tampered, timeout=10)
    assert r.status_code == 403 and "<Code>SignatureDoesNotMatch</Code>" in r.text, r.text
    r = requests.get(presign_sqs(auth_server, {"Action": "GetQueueUrl", "QueueName": name},
                                 key=(GOOD[0], "wrong")), timeout=10)
    assert r.status_code == 403 and "<Code>SignatureDoesNotMatch</Code>" in r.text, r.text


def test_presigned_with_session_token(auth_server: AuthServer) -> None:
    r = requests.get(presign_sqs(auth_server, {"Action": "ListQueues"}, key=TEMP), timeout=10)
    assert r.status_code == 200, r.text
    assert "X-Amz-Security-Token" in presign_sqs(auth_server, {"Action": "ListQueues"}, key=TEMP)


def test_presigned_sns_list_topics(auth_server: AuthServer) -> None:
    sns = client(auth_server, "sns")
    arn = sns.create_topic(Name=unique("t"))["TopicArn"]
    url = sns.generate_presigned_url("list_topics", Params={}, ExpiresIn=300, HttpMethod="GET")
    r = requests.get(url, timeout=10)
    assert r.status_code == 200, r.text
    assert arn in r.text


def test_presigned_url_expires(auth_server: AuthServer) -> None:
    with shifted_clock(-120):  # signed two minutes ago, good for one
        url = presign_sqs(auth_server, {"Action": "ListQueues"}, expires=60)
    r = requests.get(url, timeout=10)
    assert r.status_code == 400, r.text
    assert "<Code>RequestExpired</Code>" in r.text and "Request has expired." in r.text
    with shifted_clock(-120):  # the same age, good for five
        url = presign_sqs(auth_server, {"Action": "ListQueues"}, expires=300)
    assert requests.get(url, timeout=10).status_code == 200
    with shifted_clock(16 * 60):  # from the future
        url = presign_sqs(auth_server, {"Action": "ListQueues"}, expires=300)
    r = requests.get(url, timeout=10)
    assert r.status_code == 403 and "Signature not yet current" in r.text, r.text


# ---- allowed actions ----------------------------------------------------------------------------

def test_allowed_actions(auth_server: AuthServer) -> None:
    sqs, sns = client(auth_server, "sqs", key=LIMITED), client(auth_server, "sns", key=LIMITED)
    sqs.list_queues()
    sns.list_topics()
    name = unique()
    with pytest.raises(ClientError) as exc:
        sqs.create_queue(QueueName=name)
    status, code, message = error(exc)
    assert (status, code) == (403, "AccessDenied")
    assert message == (f"User: arn:aws:iam::{ACCOUNT}:user/postroom is not authorized to perform: sqs:CreateQueue "
                       "because no identity-based policy allows the sqs:CreateQueue action")
    with pytest.raises(ClientError) as exc:
        sns.create_topic(Name=unique("t"))
    assert error(exc)[:2] == (403, "AuthorizationError")
    with pytest.raises(ClientError):
        client(auth_server, "sqs").get_queue_url(QueueName=name)  # nothing was created


# ---- long polls, SNS links, what stays open --------------------------------------------------------

def test_long_poll_under_auth(auth_server: AuthServer) -> None:
    sqs = client(auth_server, "sqs")
    url = sqs.create_queue(QueueName=unique())["QueueUrl"]
    timer = threading.Timer(1.0, lambda: client(auth_server, "sqs").send_message(QueueUrl=url, MessageBody="late"))
    timer.start()
    started = time.monotonic()
    try:
        got = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=10).get("Messages", [])
    finally:
        timer.join()
    assert [m["Body"] for m in got] == ["late"]
    assert 0.8 < time.monotonic() - started < 9


def test_health_metrics_and_certificate_stay_open(auth_server: AuthServer) -> None:
    r = requests.get(auth_server.endpoint + "/health", timeout=10)
    assert r.status_code == 200 and r.json() == {"status": "ok", "auth": "sigv4"}
    assert requests.get(auth_server.endpoint + "/metrics", timeout=10).status_code == 200
    cert = requests.get(auth_server.endpoint + "/_postroom/sns/SimpleNotificationService-postroom.pem", timeout=10)
    assert cert.status_code == 200 and b"BEGIN CERTIFICATE" in cert.content


def test_sns_http_delivery_and_unsigned_links_under_auth(auth_server: AuthServer) -> None:
    import json

    from tests.sns.receiver import Receiver

    sns = client(auth_server, "sns")
    topic = sns.create_topic(Name=unique("t"))["TopicArn"]
    receiver = Receiver()
    try:
        sns.subscribe(TopicArn=topic, Protocol="http", Endpoint=receiver.url())
        [(_, _, body, _)] = receiver.wait_for("SubscriptionConfirmation")
        confirmation = json.loads(body)
        # the SubscribeURL works unsigned, as on AWS
        r = requests.get(confirmation["SubscribeURL"], timeout=10)
        assert r.status_code == 200, r.text
        sns.publish(TopicArn=topic, Message="hello")
        [(_, _, body, _)] = receiver.wait_for("Notification")
        notification = json.loads(body)
        assert notification["Message"] == "hello"
        # so does the UnsubscribeURL
        r = requests.get(notification["UnsubscribeURL"], timeout=10)
        assert r.status_code == 200, r.text
        assert sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"] == []
    finally:
        receiver.close()
    # other actions do not work unsigned, not even over GET
    r = requests.get(auth_server.endpoint + "/", params={"Action": "ListTopics"}, timeout=10)
    assert r.status_code == 403 and "MissingAuthenticationToken" in r.text


def test_scope_must_name_the_service(auth_server: AuthServer) -> None:
    """A query request for SNS signed for SQS: the scope does not fit."""
    request = AWSRequest(method="POST", url=auth_server.endpoint + "/",
                         data={"Action": "ListTopics", "Version": "2010-03-31"},
                         headers={"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"})
    botocore.auth.SigV4Auth(Credentials(*GOOD), "sqs", REGION).add_auth(request)
    prepared = request.prepare()
    r = requests.post(prepared.url, data=prepared.body, headers=dict(prepared.headers), timeout=10)
    assert r.status_code == 403, r.text
    assert "Credential should be scoped to correct service: 'sns'." in r.text
