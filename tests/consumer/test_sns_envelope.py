"""SNS envelopes through real topics and subscriptions: unwrapped the same for raw and non-raw
delivery (postroom and moto); on postroom, signatures (SignatureVersion 1 and 2) verified against the
certificate postroom serves at SigningCertURL, a tampered envelope and an untrusted certificate host
refused (the handler never sees them, the message stays for the redrive policy)."""

from __future__ import annotations

import json
import threading
import uuid
from typing import Any

import pytest

from postroom.consumer import Consumer, Hooks, Message, SignatureError, SnsVerifier, from_sqs, parse_envelope
from tests.consumer.conftest import new_queue, queue_arn, receive_all
from tests.endpoints import Endpoint

ATTRS = {"kind": {"DataType": "String", "StringValue": "order"}, "amount": {"DataType": "Number", "StringValue": "42"}}


def _subscribed(sns: Any, sqs: Any, topic: str, *, raw: bool, fifo: bool = False) -> str:
    url = new_queue(sqs, "raw" if raw else "env", fifo=fifo)
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn(sqs, url),
                  Attributes={"RawMessageDelivery": "true"} if raw else {})
    return url


def _consume(sqs: Any, url: str, verifier: SnsVerifier | None = None, n: int = 1) -> tuple[list[Message], Consumer]:
    got: list[Message] = []
    lock = threading.Lock()

    def handler(m: Message) -> None:
        with lock:
            got.append(m)

    consumer = Consumer(url, handler, client=sqs, wait_time=1, verifier=verifier, hooks=Hooks())
    consumer.run(max_messages=n, idle_timeout=3, install_signal_handlers=False)
    return got, consumer


def test_raw_and_enveloped_deliveries_look_the_same(endpoint: Endpoint) -> None:
    sns, sqs = endpoint.client("sns"), endpoint.client("sqs")
    topic = sns.create_topic(Name=f"t-{uuid.uuid4().hex[:8]}")["TopicArn"]
    raw_url = _subscribed(sns, sqs, topic, raw=True)
    env_url = _subscribed(sns, sqs, topic, raw=False)
    body = json.dumps({"order": 7, "note": "naïve ✓"})
    published = sns.publish(TopicArn=topic, Message=body, Subject="orders", MessageAttributes=ATTRS)["MessageId"]

    [raw], _ = _consume(sqs, raw_url)
    [env], _ = _consume(sqs, env_url)
    for m in (raw, env):
        assert m.body == body
        assert m.string_attribute("kind") == "order" and m.string_attribute("amount") == "42"
        assert m.attributes["amount"].data_type == "Number"
    assert raw.sns is None and raw.raw_body == body
    assert env.sns is not None and env.raw_body != body
    assert env.sns.topic_arn == topic and env.sns.message_id == published and env.sns.subject == "orders"
    assert not env.replayed and not env.recovered


@pytest.mark.parametrize("version", ["1", "2"])
def test_signature_verified_against_postroom_certificate(postroom_endpoint: Endpoint, version: str) -> None:
    sns, sqs = postroom_endpoint.client("sns"), postroom_endpoint.client("sqs")
    topic = sns.create_topic(Name=f"signed-{uuid.uuid4().hex[:8]}",
                             Attributes={"SignatureVersion": version})["TopicArn"]
    url = _subscribed(sns, sqs, topic, raw=False)
    sns.publish(TopicArn=topic, Message="genuine", MessageAttributes=ATTRS)
    verifier = SnsVerifier.for_endpoint(postroom_endpoint.url)
    [m], consumer = _consume(sqs, url, verifier)
    assert m.body == "genuine" and m.sns is not None and m.sns.signature_version == version
    assert consumer.stats.rejected == 0
    verifier.verify(m.sns)  # and once more explicitly: no exception

    # the same bytes with the message changed: refused, not handed to the handler, not deleted
    document = json.loads(m.raw_body)
    document["Message"] = "forged"
    tampered = from_sqs(url, {"MessageId": "x", "ReceiptHandle": "x", "Body": json.dumps(document)})
    assert tampered.sns is not None
    with pytest.raises(SignatureError):
        verifier.verify(tampered.sns)
    sqs.send_message(QueueUrl=url, MessageBody=json.dumps(document))
    got, consumer = _consume(sqs, url, verifier)
    assert got == [] and consumer.stats.rejected == 1 and consumer.stats.deleted == 0

    # a genuine envelope, but a verifier that does not trust postroom's host: refused too
    with pytest.raises(SignatureError, match="not trusted"):
        SnsVerifier().verify(m.sns)


def test_fifo_topic_envelope_is_unsigned_and_keeps_the_group(postroom_endpoint: Endpoint) -> None:
    sns, sqs = postroom_endpoint.client("sns"), postroom_endpoint.client("sqs")
    topic = sns.create_topic(Name=f"f-{uuid.uuid4().hex[:8]}.fifo",
                             Attributes={"FifoTopic": "true"})["TopicArn"]
    url = _subscribed(sns, sqs, topic, raw=False, fifo=True)
    for i in range(3):
        sns.publish(TopicArn=topic, Message=f"e{i}", MessageGroupId="g1", MessageDeduplicationId=f"d{i}")
    got, _ = _consume(sqs, url, SnsVerifier.for_endpoint(postroom_endpoint.url), n=3)
    assert [m.body for m in got] == ["e0", "e1", "e2"]
    assert all(m.group_id == "g1" and m.sns is not None and m.sns.sequence_number and not m.sns.signed for m in got)
    assert [m.dedup_id for m in got] == ["d0", "d1", "d2"]
    # require_signature refuses FIFO envelopes too (AWS does not sign them)
    assert got[0].sns is not None
    with pytest.raises(SignatureError):
        SnsVerifier.for_endpoint(postroom_endpoint.url, require_signature=True).verify(got[0].sns)
    assert receive_all(sqs, url) == []


def test_envelope_recognition_is_strict() -> None:
    assert parse_envelope('{"Type": "Notification", "Message": "x"}') is None  # no MessageId / TopicArn
    assert parse_envelope('{"Type": "Order", "MessageId": "1", "TopicArn": "a", "Message": "x"}') is None
    assert parse_envelope("not json {") is None
    replayed = parse_envelope(json.dumps({"Type": "Notification", "MessageId": "1", "TopicArn": "arn:t.fifo",
                                          "Message": "x", "Replayed": True}))
    assert replayed is not None and replayed.replayed


def test_certificate_url_allow_list() -> None:
    v = SnsVerifier(hosts=["127.0.0.1:9700"], allow_http=True)
    v.check_cert_url("https://sns.eu-west-1.amazonaws.com/SimpleNotificationService-abc.pem")
    v.check_cert_url("http://127.0.0.1:9700/_postroom/sns/SimpleNotificationService-postroom.pem")
    for bad in ("http://sns.eu-west-1.amazonaws.com/x.pem",       # AWS's hosts only over HTTPS
                "https://sns.eu-west-1.amazonaws.com.evil.io/x.pem",
                "https://evil.io/sns.us-east-1.amazonaws.com/x.pem",
                "http://127.0.0.1:9701/x.pem",                     # another port
                "http://127.0.0.1:9700/x.txt"):                    # not a .pem
        with pytest.raises(SignatureError):
            v.check_cert_url(bad)
    with pytest.raises(SignatureError, match="HTTPS"):
        SnsVerifier(hosts=["certs.internal"]).check_cert_url("http://certs.internal/a.pem")
