"""Reading the live topology of an SNS/SQS endpoint through the public APIs only.

What is read, with which calls:
- queues: ``ListQueues`` (paginated), then per queue ``GetQueueAttributes(All)`` and
  ``ListQueueTags``;
- topics: ``ListTopics`` (paginated), then per topic ``GetTopicAttributes`` and
  ``ListTagsForResource``;
- subscriptions: ``ListSubscriptions`` (paginated, the whole account and region), then per
  confirmed subscription ``GetSubscriptionAttributes`` (raw delivery, filter policy and scope,
  redrive policy, and ReplayPolicy/ReplayStatus where the endpoint has message archiving).

The per-resource calls run on a thread pool (boto3 clients are thread-safe; sessions are not, so
the clients are built once up front): a few dozen resources read in a fraction of a second
against a local endpoint instead of one round trip after another.

Normalisation into :mod:`postroom.topology.model`: RedrivePolicy becomes ``dlq`` (the dead-letter
queue's *name*) and ``max_receive_count``; RedriveAllowPolicy's source ARNs become names; JSON
attributes are held canonical; an ``sqs`` subscription's endpoint (a queue ARN) becomes the queue's
name. Only attributes a file can declare (``QUEUE_ATTRIBUTES`` / ``TOPIC_ATTRIBUTES``) are kept;
read-only counters and timestamps are not, so they never show up as changes. Empty values are
dropped (moto returns ``DeliveryPolicy: ""`` for a topic that has none; AWS omits the key).

A resource deleted between the listing and its per-resource calls (``NonExistentQueue`` /
``NotFound``) is left out: it is not live any more.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from botocore.exceptions import ClientError

from postroom.awsclient import AwsTarget
from postroom.probe import REPLY_QUEUE_PREFIX
from postroom.topology.model import (
    QUEUE_ATTRIBUTES,
    TOPIC_ATTRIBUTES,
    Queue,
    RedriveAllow,
    Subscription,
    Topic,
    Topology,
    canonical_json,
)

# Attributes whose values are JSON documents: held canonical so that formatting is not a change.
JSON_ATTRIBUTES: frozenset[str] = frozenset({"Policy", "ArchivePolicy", "DeliveryPolicy", "TracingConfig"})
_NOT_FOUND = frozenset({"AWS.SimpleQueueService.NonExistentQueue", "QueueDoesNotExist", "NotFound",
                        "NotFoundException", "ResourceNotFoundException", "ResourceNotFound"})
WORKERS = 16

T = TypeVar("T")

_clients: dict[tuple[AwsTarget, str], Any] = {}
_clients_lock = threading.Lock()


def client(aws: AwsTarget, service: str) -> Any:
    """A boto3 client for the target, made once per process and service. Building one costs far
    more than the calls of a whole read (botocore parses its endpoint and service data for every new
    session); clients are thread-safe, so the thread pool and later commands share them."""
    with _clients_lock:
        made = _clients.get((aws, service))
        if made is None:
            made = _clients[(aws, service)] = aws.client(service, max_pool_connections=WORKERS + 4)
        return made


def name_of_arn(arn: str) -> str:
    """The resource name at the end of an SQS/SNS ARN (``arn:aws:sqs:region:account:name``)."""
    return arn.rsplit(":", 1)[-1]


def name_of_queue_url(url: str) -> str:
    """AWS queue URLs end in ``/<account>/<name>``."""
    return url.rstrip("/").rsplit("/", 1)[-1]


def is_not_found(error: ClientError) -> bool:
    return str(error.response.get("Error", {}).get("Code", "")) in _NOT_FOUND


def normalise_value(name: str, value: str) -> str:
    """AWS's string value in the one spelling a plan compares: canonical JSON for JSON attributes,
    lower-case booleans (AWS answers ``true``/``false``; YAML and hand-written files say ``True``)."""
    if name in JSON_ATTRIBUTES and value.strip():
        try:
            return canonical_json(value)
        except ValueError:
            return value
    if value in ("True", "False", "TRUE", "FALSE"):
        return value.lower()
    return value


def keep_attributes(raw: dict[str, str], allowed: tuple[str, ...]) -> dict[str, str]:
    out: dict[str, str] = {}
    for key in allowed:
        value = raw.get(key)
        if value is None or value == "":
            continue
        out[key] = normalise_value(key, str(value))
    return out


def parse_redrive(value: str | None) -> tuple[str | None, int | None]:
    """A RedrivePolicy JSON string → (dead-letter queue name, maxReceiveCount)."""
    if not value:
        return None, None
    try:
        doc = json.loads(value)
    except ValueError:
        return None, None
    arn = doc.get("deadLetterTargetArn")
    count = doc.get("maxReceiveCount")
    return (name_of_arn(arn) if arn else None), (int(count) if count is not None else None)


def parse_redrive_allow(value: str | None) -> RedriveAllow | None:
    if not value:
        return None
    try:
        doc = json.loads(value)
    except ValueError:
        return None
    sources = tuple(sorted(name_of_arn(a) for a in doc.get("sourceQueueArns") or []))
    return RedriveAllow(permission=str(doc.get("redrivePermission", "allowAll")), sources=sources)


def _quiet(call: Callable[[], T]) -> T | None:
    """Run a per-resource call; ``None`` when the resource disappeared meanwhile."""
    try:
        return call()
    except ClientError as e:
        if is_not_found(e):
            return None
        raise


def _read_queue(sqs: Any, url: str) -> Queue | None:
    attrs = _quiet(lambda: sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"]).get("Attributes", {}))
    if attrs is None:
        return None
    tags = _quiet(lambda: sqs.list_queue_tags(QueueUrl=url).get("Tags") or {}) or {}
    dlq, count = parse_redrive(attrs.get("RedrivePolicy"))
    depth = sum(int(attrs.get(k, 0) or 0) for k in (
        "ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible", "ApproximateNumberOfMessagesDelayed"))
    return Queue(name=name_of_queue_url(url), attributes=keep_attributes(attrs, QUEUE_ATTRIBUTES), dlq=dlq,
                 max_receive_count=count, redrive_allow=parse_redrive_allow(attrs.get("RedriveAllowPolicy")),
                 tags=dict(tags), depth=depth, url=url, arn=attrs.get("QueueArn"))


def _read_topic(sns: Any, arn: str) -> Topic | None:
    attrs = _quiet(lambda: sns.get_topic_attributes(TopicArn=arn).get("Attributes", {}))
    if attrs is None:
        return None
    tag_list = _quiet(lambda: sns.list_tags_for_resource(ResourceArn=arn).get("Tags") or []) or []
    return Topic(name=name_of_arn(arn), attributes=keep_attributes(attrs, TOPIC_ATTRIBUTES),
                 tags={t["Key"]: t["Value"] for t in tag_list}, arn=arn)


def _subscription_from(listed: dict[str, Any], attrs: dict[str, str]) -> Subscription:
    protocol = str(listed.get("Protocol", attrs.get("Protocol", "")))
    endpoint = str(listed.get("Endpoint", attrs.get("Endpoint", "")))
    if protocol == "sqs":
        endpoint = name_of_arn(endpoint)
    policy = attrs.get("FilterPolicy")
    replay = attrs.get("ReplayPolicy")
    dlq, _ = parse_redrive(attrs.get("RedrivePolicy"))
    arn = str(listed.get("SubscriptionArn", ""))
    if not arn.startswith("arn:"):
        arn = "PendingConfirmation"
    return Subscription(
        topic=name_of_arn(str(listed["TopicArn"])), protocol=protocol, endpoint=endpoint,
        raw=str(attrs.get("RawMessageDelivery", "false")).lower() == "true",
        filter_policy=canonical_json(policy) if policy and policy.strip() else None,
        filter_scope=str(attrs.get("FilterPolicyScope") or "MessageAttributes"),
        dlq=dlq, arn=arn, replay_status=attrs.get("ReplayStatus") or None,
        replay_policy=canonical_json(replay) if replay and replay.strip() else None)


def _read_subscription(sns: Any, listed: dict[str, Any]) -> Subscription | None:
    arn = str(listed.get("SubscriptionArn", ""))
    attrs: dict[str, str] = {}
    if arn.startswith("arn:"):
        got = _quiet(lambda: sns.get_subscription_attributes(SubscriptionArn=arn).get("Attributes", {}))
        if got is None:
            return None
        attrs = got
    return _subscription_from(listed, attrs)


def _list_queue_urls(sqs: Any) -> list[str]:
    urls: list[str] = []
    for page in sqs.get_paginator("list_queues").paginate(PaginationConfig={"PageSize": 1000}):
        urls.extend(page.get("QueueUrls") or [])
    return urls


def _list_topic_arns(sns: Any) -> list[str]:
    return [t["TopicArn"] for page in sns.get_paginator("list_topics").paginate() for t in page.get("Topics") or []]


def _list_subscriptions(sns: Any) -> list[dict[str, Any]]:
    return [s for page in sns.get_paginator("list_subscriptions").paginate() for s in page.get("Subscriptions") or []]


def read_live(aws: AwsTarget) -> Topology:
    """Every queue, topic and subscription the credentials can see in the target's region, with
    queue depth, URLs and ARNs, and subscriptions' replay status. Probe reply queues
    (``postroom-probe-replies-*``) of running verify or watch rounds are temporary, never part
    of the topology (they would show as drift)."""
    sqs, sns = client(aws, "sqs"), client(aws, "sns")
    with ThreadPoolExecutor(WORKERS) as pool:
        listed_urls = pool.submit(_list_queue_urls, sqs)
        listed_topics = pool.submit(_list_topic_arns, sns)
        listed_subs = pool.submit(_list_subscriptions, sns)
        queue_futures = [pool.submit(_read_queue, sqs, url) for url in listed_urls.result()
                         if not name_of_queue_url(url).startswith(REPLY_QUEUE_PREFIX)]
        topic_futures = [pool.submit(_read_topic, sns, arn) for arn in listed_topics.result()]
        sub_futures = [pool.submit(_read_subscription, sns, s) for s in listed_subs.result()]
        queues = [q for q in (f.result() for f in queue_futures) if q is not None]
        topics = [t for t in (f.result() for f in topic_futures) if t is not None]
        subs = [s for s in (f.result() for f in sub_futures) if s is not None]
    return Topology(queues={q.name: q for q in sorted(queues, key=lambda q: q.name)},
                    topics={t.name: t for t in sorted(topics, key=lambda t: t.name)},
                    subscriptions={s.key: s for s in sorted(subs, key=lambda s: s.key)})
