"""Real SDK requests for the fuzzer (bench/fuzz.py): every SQS action over both wire protocols
(boto3's AWS JSON 1.0 client, and botocore speaking the query protocol with postroom's query
model), every SNS action and STS GetCallerIdentity, recorded as botocore sends them (its
``before-send`` event: method, path, headers, body, SigV4 signature included) while they run
against a live server, so that each request names queues, topics, subscriptions and receipt
handles that existed.

``setup_fixtures`` makes the state the requests refer to; the fuzzer calls it again from time to
time, because mutated requests delete queues, purge them and unsubscribe.
"""

from __future__ import annotations

import copy
import json
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import boto3
import botocore.session
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from postroom.protocol.models import merged_model_dict

ACCOUNT = "000000000000"
REGION = "us-east-1"
STD, FIFO, DLQ, SCRATCH = "fz-std", "fz-fifo.fifo", "fz-dlq", "fz-scratch"
TOPIC, FIFO_TOPIC = "fz-topic", "fz-topic.fifo"
POLICY = json.dumps({"Version": "2012-10-17", "Statement": [{
    "Effect": "Allow", "Principal": "*", "Action": "sqs:SendMessage", "Resource": "*"}]})
FILTER = json.dumps({"kind": ["order", {"prefix": "ord"}], "price": [{"numeric": [">", 0, "<=", 150]}],
                     "store": {"city": [{"anything-but": ["x"]}], "zip": [{"exists": True}]}})
DELIVERY = json.dumps({"healthyRetryPolicy": {"numRetries": 3, "minDelayTarget": 1, "maxDelayTarget": 2}})
ATTRS: dict[str, Any] = {
    "s": {"DataType": "String", "StringValue": "v ü"},
    "n": {"DataType": "Number", "StringValue": "12.5"},
    "b": {"DataType": "Binary", "BinaryValue": b"\x00\x01\xff"},
    "c": {"DataType": "String.custom", "StringValue": "c"},
}
SNS_ATTRS: dict[str, Any] = {
    "kind": {"DataType": "String", "StringValue": "order"},
    "price": {"DataType": "Number", "StringValue": "100"},
    "tags": {"DataType": "String.Array", "StringValue": '["a","b"]'},
    "bin": {"DataType": "Binary", "BinaryValue": b"\x01"},
}


@dataclass(frozen=True)
class Recorded:
    """One request as the SDK put it on the wire."""

    service: str  # "sqs-json" | "sqs-query" | "sns" | "sts"
    action: str
    method: str
    path: str  # with the query string
    headers: tuple[tuple[str, str], ...]
    body: bytes

    def to_json(self) -> dict[str, Any]:
        return {"service": self.service, "action": self.action, "method": self.method, "path": self.path,
                "headers": list(self.headers), "body": self.body.decode("latin-1")}

    @staticmethod
    def from_json(d: dict[str, Any]) -> Recorded:
        return Recorded(d["service"], d["action"], d["method"], d["path"],
                        tuple((k, v) for k, v in d["headers"]), d["body"].encode("latin-1"))


def _query_data_path() -> Path:
    """A botocore data path whose SQS model speaks the query protocol (postroom's overlay)."""
    model = copy.deepcopy(merged_model_dict())
    meta = model["metadata"]
    meta.update(protocol="query", protocols=["query"])
    for key in ("jsonVersion", "targetPrefix", "awsQueryCompatible"):
        meta.pop(key, None)
    root = Path(tempfile.mkdtemp(prefix="postroom-fuzz-models-"))
    path = root / "sqs" / "2012-11-05"
    path.mkdir(parents=True)
    (path / "service-2.json").write_text(json.dumps(model))
    return root


def _config() -> Config:
    return Config(retries={"max_attempts": 1}, connect_timeout=5, read_timeout=30,
                  parameter_validation=False)


class Clients:
    def __init__(self, endpoint: str) -> None:
        self.endpoint = endpoint
        kw: dict[str, Any] = {"endpoint_url": endpoint, "region_name": REGION, "aws_access_key_id": "AKIDFUZZ",
                              "aws_secret_access_key": "x", "config": _config()}
        self.sqs_json = boto3.session.Session().client("sqs", **kw)
        session = botocore.session.get_session()
        session.set_config_variable("data_path", str(_query_data_path()))
        self.sqs_query = session.create_client("sqs", **kw)
        assert self.sqs_query.meta.service_model.protocol == "query"
        self.sns = boto3.session.Session().client("sns", **kw)
        self.sts = boto3.session.Session().client("sts", **kw)

    def url(self, name: str) -> str:
        return f"{self.endpoint}/{ACCOUNT}/{name}"


def arn(service: str, name: str) -> str:
    return f"arn:aws:{service}:{REGION}:{ACCOUNT}:{name}"


def _quiet(call: Callable[..., Any], **kw: Any) -> Any:
    try:
        return call(**kw)
    except (ClientError, BotoCoreError):
        return {}


def setup_fixtures(c: Clients, purge: bool = False) -> None:
    """The queues, topics and subscriptions the corpus names (idempotent)."""
    sqs = c.sqs_json
    _quiet(sqs.create_queue, QueueName=DLQ)
    _quiet(sqs.create_queue, QueueName=SCRATCH)
    _quiet(sqs.create_queue, QueueName=STD, Attributes={"VisibilityTimeout": "0"})
    _quiet(sqs.create_queue, QueueName=FIFO, Attributes={"FifoQueue": "true", "ContentBasedDeduplication": "true",
                                                         "VisibilityTimeout": "0"})
    for name in (STD, FIFO, DLQ, SCRATCH):
        if purge:
            _quiet(sqs.purge_queue, QueueUrl=c.url(name))
    _quiet(sqs.send_message, QueueUrl=c.url(STD), MessageBody="m", MessageAttributes=ATTRS)
    _quiet(sqs.send_message, QueueUrl=c.url(FIFO), MessageBody="m", MessageGroupId="g")
    _quiet(sqs.send_message, QueueUrl=c.url(DLQ), MessageBody="dead")
    topic = _quiet(c.sns.create_topic, Name=TOPIC).get("TopicArn", arn("sns", TOPIC))
    _quiet(c.sns.create_topic, Name=FIFO_TOPIC, Attributes={"FifoTopic": "true",
                                                            "ContentBasedDeduplication": "true"})
    _quiet(c.sns.subscribe, TopicArn=topic, Protocol="sqs", Endpoint=arn("sqs", STD),
           Attributes={"FilterPolicy": FILTER, "RawMessageDelivery": "true"})


def _handle(c: Clients, name: str) -> str:
    r = _quiet(c.sqs_json.receive_message, QueueUrl=c.url(name), MaxNumberOfMessages=1, VisibilityTimeout=0)
    msgs = r.get("Messages") or [{}]
    return str(msgs[0].get("ReceiptHandle", "AQEB" + "x" * 40))


def _sqs_calls(c: Clients, sqs: Any) -> None:
    """Every SQS action once (or more, in its shapes); errors are fine, the request is what counts."""
    url, furl, dlq = c.url(STD), c.url(FIFO), c.url(DLQ)
    _quiet(sqs.create_queue, QueueName=STD, Attributes={"VisibilityTimeout": "0", "DelaySeconds": "0",
           "MaximumMessageSize": "262144", "MessageRetentionPeriod": "345600",
           "ReceiveMessageWaitTimeSeconds": "0", "Policy": POLICY,
           "RedrivePolicy": json.dumps({"deadLetterTargetArn": arn("sqs", DLQ), "maxReceiveCount": 1000})},
           tags={"team": "fuzz", "env": "t"})
    _quiet(sqs.create_queue, QueueName=FIFO, Attributes={"FifoQueue": "true", "ContentBasedDeduplication": "true",
           "DeduplicationScope": "messageGroup", "FifoThroughputLimit": "perMessageGroupId"})
    _quiet(sqs.get_queue_url, QueueName=STD, QueueOwnerAWSAccountId=ACCOUNT)
    _quiet(sqs.list_queues, QueueNamePrefix="fz", MaxResults=5)
    _quiet(sqs.list_queues, NextToken="abc", MaxResults=1)
    _quiet(sqs.get_queue_attributes, QueueUrl=url, AttributeNames=["All"])
    _quiet(sqs.get_queue_attributes, QueueUrl=furl, AttributeNames=["FifoQueue", "ApproximateNumberOfMessages"])
    _quiet(sqs.set_queue_attributes, QueueUrl=url, Attributes={"VisibilityTimeout": "0", "Policy": POLICY})
    _quiet(sqs.set_queue_attributes, QueueUrl=dlq, Attributes={"RedriveAllowPolicy": json.dumps(
        {"redrivePermission": "byQueue", "sourceQueueArns": [arn("sqs", STD)]})})
    _quiet(sqs.set_queue_attributes, QueueUrl=url, Attributes={"RedrivePolicy": json.dumps(
        {"deadLetterTargetArn": arn("sqs", DLQ), "maxReceiveCount": "1000"})})
    _quiet(sqs.tag_queue, QueueUrl=url, Tags={"a": "1", "b": "2"})
    _quiet(sqs.untag_queue, QueueUrl=url, TagKeys=["a", "zz"])
    _quiet(sqs.list_queue_tags, QueueUrl=url)
    _quiet(sqs.list_dead_letter_source_queues, QueueUrl=dlq, MaxResults=10)
    _quiet(sqs.add_permission, QueueUrl=url, Label="fz", AWSAccountIds=["111122223333"],
           Actions=["SendMessage", "ReceiveMessage"])
    _quiet(sqs.remove_permission, QueueUrl=url, Label="fz")
    _quiet(sqs.send_message, QueueUrl=url, MessageBody="hello <&> ü 🚀", DelaySeconds=0, MessageAttributes=ATTRS,
           MessageSystemAttributes={"AWSTraceHeader": {"DataType": "String", "StringValue": "Root=1-5-6"}})
    _quiet(sqs.send_message, QueueUrl=furl, MessageBody="f", MessageGroupId="g1", MessageDeduplicationId="d1")
    _quiet(sqs.send_message_batch, QueueUrl=url, Entries=[
        {"Id": "a", "MessageBody": "one", "MessageAttributes": ATTRS, "DelaySeconds": 0},
        {"Id": "b", "MessageBody": "two", "MessageGroupId": "fair"}])
    _quiet(sqs.send_message_batch, QueueUrl=furl, Entries=[
        {"Id": "a", "MessageBody": "one", "MessageGroupId": "g", "MessageDeduplicationId": "x1"},
        {"Id": "b", "MessageBody": "two", "MessageGroupId": "g"}])
    _quiet(sqs.receive_message, QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=0, WaitTimeSeconds=0,
           AttributeNames=["All"], MessageAttributeNames=["All"], MessageSystemAttributeNames=["SenderId"])
    _quiet(sqs.receive_message, QueueUrl=furl, MaxNumberOfMessages=2, VisibilityTimeout=0, WaitTimeSeconds=0,
           ReceiveRequestAttemptId="att-1", MessageAttributeNames=["s", "Custom.*"])
    h = _handle(c, STD)
    _quiet(sqs.change_message_visibility, QueueUrl=url, ReceiptHandle=h, VisibilityTimeout=0)
    _quiet(sqs.change_message_visibility_batch, QueueUrl=url, Entries=[
        {"Id": "a", "ReceiptHandle": h, "VisibilityTimeout": 0}, {"Id": "b", "ReceiptHandle": "bogus"}])
    _quiet(sqs.delete_message_batch, QueueUrl=url, Entries=[{"Id": "a", "ReceiptHandle": _handle(c, STD)},
                                                            {"Id": "b", "ReceiptHandle": "bogus"}])
    _quiet(sqs.delete_message, QueueUrl=url, ReceiptHandle=_handle(c, STD))
    task = _quiet(sqs.start_message_move_task, SourceArn=arn("sqs", DLQ), DestinationArn=arn("sqs", STD),
                  MaxNumberOfMessagesPerSecond=1)
    _quiet(sqs.list_message_move_tasks, SourceArn=arn("sqs", DLQ), MaxResults=5)
    _quiet(sqs.cancel_message_move_task, TaskHandle=task.get("TaskHandle", "eyJ0YXNrSWQiOiAieCJ9"))
    _quiet(sqs.purge_queue, QueueUrl=c.url(SCRATCH))
    _quiet(sqs.delete_queue, QueueUrl=c.url(SCRATCH))
    _quiet(c.sqs_json.create_queue, QueueName=SCRATCH)


def _sns_calls(c: Clients) -> None:
    sns = c.sns
    topic, ftopic = arn("sns", TOPIC), arn("sns", FIFO_TOPIC)
    _quiet(sns.create_topic, Name=TOPIC, Attributes={"DisplayName": "fz", "DeliveryPolicy": DELIVERY},
           Tags=[{"Key": "k", "Value": "v"}])
    _quiet(sns.create_topic, Name=FIFO_TOPIC, Attributes={"FifoTopic": "true", "ContentBasedDeduplication": "true"})
    _quiet(sns.list_topics)
    _quiet(sns.get_topic_attributes, TopicArn=topic)
    _quiet(sns.set_topic_attributes, TopicArn=topic, AttributeName="DeliveryPolicy", AttributeValue=DELIVERY)
    _quiet(sns.set_topic_attributes, TopicArn=topic, AttributeName="Policy", AttributeValue=POLICY)
    sub = _quiet(sns.subscribe, TopicArn=topic, Protocol="sqs", Endpoint=arn("sqs", STD), ReturnSubscriptionArn=True,
                 Attributes={"FilterPolicy": FILTER, "FilterPolicyScope": "MessageAttributes",
                             "RawMessageDelivery": "true",
                             "RedrivePolicy": json.dumps({"deadLetterTargetArn": arn("sqs", DLQ)})})
    sub_arn = sub.get("SubscriptionArn", topic + ":00000000-0000-0000-0000-000000000000")
    http = _quiet(sns.subscribe, TopicArn=topic, Protocol="http", Endpoint="http://127.0.0.1:9/hook")
    _quiet(sns.subscribe, TopicArn=topic, Protocol="email", Endpoint="fuzz@example.com")
    _quiet(sns.subscribe, TopicArn=ftopic, Protocol="sqs", Endpoint=arn("sqs", FIFO))
    _quiet(sns.list_subscriptions)
    _quiet(sns.list_subscriptions_by_topic, TopicArn=topic)
    _quiet(sns.get_subscription_attributes, SubscriptionArn=sub_arn)
    _quiet(sns.set_subscription_attributes, SubscriptionArn=sub_arn, AttributeName="FilterPolicy",
           AttributeValue=json.dumps({"body": {"kind": ["order"]}, "$or": [{"a": ["1"]}, {"b": [{"suffix": "z"}]}]}))
    _quiet(sns.set_subscription_attributes, SubscriptionArn=sub_arn, AttributeName="FilterPolicyScope",
           AttributeValue="MessageBody")
    _quiet(sns.publish, TopicArn=topic, Message='{"kind":"order","price":10}', Subject="s",
           MessageAttributes=SNS_ATTRS)
    _quiet(sns.publish, TopicArn=topic, MessageStructure="json",
           Message=json.dumps({"default": "d", "sqs": "q", "http": "h", "email": "e"}))
    _quiet(sns.publish, TopicArn=ftopic, Message="f", MessageGroupId="g", MessageDeduplicationId="d")
    _quiet(sns.publish_batch, TopicArn=topic, PublishBatchRequestEntries=[
        {"Id": "a", "Message": "one", "MessageAttributes": SNS_ATTRS}, {"Id": "b", "Message": "two", "Subject": "s"}])
    _quiet(sns.publish_batch, TopicArn=ftopic, PublishBatchRequestEntries=[
        {"Id": "a", "Message": "one", "MessageGroupId": "g"}])
    _quiet(sns.confirm_subscription, TopicArn=topic, Token="0" * 64, AuthenticateOnUnsubscribe="true")
    _quiet(sns.tag_resource, ResourceArn=topic, Tags=[{"Key": "a", "Value": "1"}])
    _quiet(sns.untag_resource, ResourceArn=topic, TagKeys=["a"])
    _quiet(sns.list_tags_for_resource, ResourceArn=topic)
    _quiet(sns.add_permission, TopicArn=topic, Label="fz", AWSAccountId=["111122223333"], ActionName=["Publish"])
    _quiet(sns.remove_permission, TopicArn=topic, Label="fz")
    _quiet(sns.put_data_protection_policy, ResourceArn=topic, DataProtectionPolicy=json.dumps({
        "Name": "p", "Version": "2021-06-01", "Statement": []}))
    _quiet(sns.get_data_protection_policy, ResourceArn=topic)
    app = _quiet(sns.create_platform_application, Name="fz-app", Platform="GCM",
                 Attributes={"PlatformCredential": "key"}).get("PlatformApplicationArn", arn("sns", "app/GCM/fz-app"))
    _quiet(sns.get_platform_application_attributes, PlatformApplicationArn=app)
    _quiet(sns.set_platform_application_attributes, PlatformApplicationArn=app,
           Attributes={"SuccessFeedbackSampleRate": "50"})
    _quiet(sns.list_platform_applications)
    ep = _quiet(sns.create_platform_endpoint, PlatformApplicationArn=app, Token="tok-1", CustomUserData="u",
                Attributes={"Enabled": "true"}).get("EndpointArn", arn("sns", "endpoint/GCM/fz-app/x"))
    _quiet(sns.get_endpoint_attributes, EndpointArn=ep)
    _quiet(sns.set_endpoint_attributes, EndpointArn=ep, Attributes={"CustomUserData": "v"})
    _quiet(sns.list_endpoints_by_platform_application, PlatformApplicationArn=app)
    _quiet(sns.publish, TargetArn=ep, Message="push")
    _quiet(sns.publish, PhoneNumber="+15555550100", Message="sms")
    _quiet(sns.delete_endpoint, EndpointArn=ep)
    _quiet(sns.delete_platform_application, PlatformApplicationArn=app + "-gone")
    _quiet(sns.set_sms_attributes, attributes={"DefaultSMSType": "Transactional"})
    _quiet(sns.get_sms_attributes, attributes=["DefaultSMSType"])
    _quiet(sns.check_if_phone_number_is_opted_out, phoneNumber="+15555550100")
    _quiet(sns.list_phone_numbers_opted_out)
    _quiet(sns.opt_in_phone_number, phoneNumber="+15555550100")
    _quiet(sns.create_sms_sandbox_phone_number, PhoneNumber="+15555550101", LanguageCode="en-US")
    _quiet(sns.verify_sms_sandbox_phone_number, PhoneNumber="+15555550101", OneTimePassword="123456")
    _quiet(sns.list_sms_sandbox_phone_numbers, MaxResults=5)
    _quiet(sns.delete_sms_sandbox_phone_number, PhoneNumber="+15555550101")
    _quiet(sns.get_sms_sandbox_account_status)
    _quiet(sns.list_origination_numbers, MaxResults=5)
    _quiet(sns.unsubscribe, SubscriptionArn=http.get("SubscriptionArn", sub_arn))
    _quiet(sns.create_topic, Name="fz-scratch-topic")
    _quiet(sns.delete_topic, TopicArn=arn("sns", "fz-scratch-topic"))
    _quiet(c.sts.get_caller_identity)


def record(endpoint: str) -> list[Recorded]:
    """Run every action against ``endpoint`` and return the requests as the SDKs sent them."""
    c = Clients(endpoint)
    setup_fixtures(c)
    out: list[Recorded] = []

    def capture(service: str) -> Callable[..., None]:
        def before_send(request: Any, **_: Any) -> None:
            parts = urlsplit(request.url)
            path = parts.path + ("?" + parts.query if parts.query else "")
            body = request.body or b""
            if not isinstance(body, bytes):
                body = body.encode() if isinstance(body, str) else b"".join(body)
            headers = tuple((str(k), v.decode() if isinstance(v, bytes) else str(v))
                            for k, v in request.headers.items())
            action = _action(service, headers, body)
            out.append(Recorded(service, action, request.method, path, headers, body))
        return before_send

    for client, service in ((c.sqs_json, "sqs-json"), (c.sqs_query, "sqs-query"), (c.sns, "sns"), (c.sts, "sts")):
        client.meta.events.register("before-send", capture(service))
    _sqs_calls(c, c.sqs_json)
    _sqs_calls(c, c.sqs_query)
    _sns_calls(c)
    return out


def _action(service: str, headers: tuple[tuple[str, str], ...], body: bytes) -> str:
    for k, v in headers:
        if k.lower() == "x-amz-target":
            return v.rpartition(".")[2]
    from urllib.parse import parse_qs
    return parse_qs(body.decode("utf-8", "replace")).get("Action", ["?"])[0]
