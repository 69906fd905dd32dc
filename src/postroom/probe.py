"""Route probes: how `postroom verify --probe` proves that a topic → queue route delivers, without
handing a synthetic message to an application's handler.

A probe is an ordinary SNS publish carrying one message attribute, ``postroom-probe``, whose value
is a small JSON object: the probe's id, the topic it was published to, the queue it is meant for
(empty: every subscriber of the topic — verify publishes one probe per topic) and the URL of a
reply queue the verifier created for this run. The message body carries the same object under the
key ``postroom-probe``, so a receiver that did not ask for message attributes still recognises it.
It travels the real route — the real topic, the real subscription with its filter policy and raw
setting, the real queue — because a probe that took any other path would prove nothing about the
route.

Whoever receives it answers on the reply queue, naming the queue it read the probe from, and
deletes it:
- ``postroom.consumer`` does this before any handler sees the message, so applications built on it
  are never disturbed and the reply also proves a live consumer is attached;
- ``verify --probe --consume`` does it itself for queues with no consumer running (staging, CI).
Any other consumer sees a message with the ``postroom-probe`` attribute and should delete it.

With a raw subscription the attribute arrives as an SQS message attribute; otherwise it is inside
the SNS envelope's ``MessageAttributes``. :func:`probe_of` reads both, and the body form.

On FIFO topics a probe is published in its own message group, :data:`PROBE_GROUP`, with a unique
deduplication id, so it never waits behind — or holds up — an application's message groups.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from typing import Any

PROBE_ATTRIBUTE = "postroom-probe"
# A probe is published with this FIFO message group, so it never holds up an application's groups.
PROBE_GROUP = "postroom-probe"
# verify's temporary reply queues are named with this prefix (topology tools should ignore them).
REPLY_QUEUE_PREFIX = "postroom-probe-replies-"


@dataclass(frozen=True)
class Probe:
    id: str
    topic: str
    queue: str  # the queue the probe is meant for; "" = every subscriber of the topic
    reply_to: str

    @staticmethod
    def new(topic: str, reply_to: str, queue: str = "") -> Probe:
        return Probe(id=uuid.uuid4().hex, topic=topic, queue=queue, reply_to=reply_to)

    def encode(self) -> str:
        return json.dumps({"id": self.id, "topic": self.topic, "queue": self.queue, "reply_to": self.reply_to},
                          sort_keys=True, separators=(",", ":"))

    @staticmethod
    def decode(text: Any) -> Probe | None:
        try:
            d = json.loads(text) if isinstance(text, str) else text
            return Probe(id=str(d["id"]), topic=str(d["topic"]), queue=str(d["queue"]), reply_to=str(d["reply_to"]))
        except (ValueError, KeyError, TypeError):
            return None

    def body(self) -> str:
        """The message body: the probe object under ``postroom-probe``."""
        return json.dumps({PROBE_ATTRIBUTE: json.loads(self.encode())}, sort_keys=True, separators=(",", ":"))

    def publish_args(self, topic_arn: str) -> dict[str, Any]:
        """Keyword arguments for SNS ``Publish``. FIFO topics (ARN ends in ``.fifo``) need a message
        group (:data:`PROBE_GROUP`) and a deduplication id (the probe's id, unique per probe)."""
        args: dict[str, Any] = {
            "TopicArn": topic_arn, "Message": self.body(),
            "MessageAttributes": {PROBE_ATTRIBUTE: {"DataType": "String", "StringValue": self.encode()}},
        }
        if topic_arn.endswith(".fifo"):
            args["MessageGroupId"] = PROBE_GROUP
            args["MessageDeduplicationId"] = self.id
        return args


@dataclass(frozen=True)
class Reply:
    """A receiver's confirmation: which probe, read from which queue, by whom."""

    id: str
    queue: str
    received_by: str

    @staticmethod
    def decode(text: str) -> Reply | None:
        try:
            d = json.loads(text)
            return Reply(id=str(d["id"]), queue=str(d["queue"]), received_by=str(d["received_by"]))
        except (ValueError, KeyError, TypeError):
            return None


def _from_body(body: str) -> Probe | None:
    try:
        doc = json.loads(body)
    except ValueError:
        return None
    if not isinstance(doc, dict):
        return None
    if PROBE_ATTRIBUTE in doc:  # raw delivery: the body as published
        return Probe.decode(doc[PROBE_ATTRIBUTE])
    try:  # SNS envelope: attribute first, then the published body in Message
        return Probe.decode(str(doc["MessageAttributes"][PROBE_ATTRIBUTE]["Value"]))
    except (KeyError, TypeError):
        pass
    message = doc.get("Message")
    return _from_body(message) if isinstance(message, str) and PROBE_ATTRIBUTE in message else None


def probe_of(message: dict[str, Any]) -> Probe | None:
    """The probe carried by an SQS message as ReceiveMessage returns it (asked with
    ``MessageAttributeNames=["All"]`` or not), whether delivered raw or wrapped in an SNS envelope."""
    attrs = message.get("MessageAttributes") or {}
    if PROBE_ATTRIBUTE in attrs:
        found = Probe.decode(str(attrs[PROBE_ATTRIBUTE].get("StringValue", "")))
        if found is not None:
            return found
    body = message.get("Body", "")
    if not isinstance(body, str) or PROBE_ATTRIBUTE not in body:  # cheap test before parsing every body
        return None
    return _from_body(body)


def queue_name(queue: str) -> str:
    """A queue's name from its URL (or the name itself)."""
    return queue.rstrip("/").rsplit("/", 1)[-1]


def reply(sqs: Any, probe: Probe, received_by: str, queue: str | None = None) -> bool:
    """Confirm a probe's arrival on its reply queue. ``received_by`` names who took it (a
    consumer's name, or ``verify``); ``queue`` is the queue (name or URL) it was read from — pass it:
    a probe published to a topic reaches every subscriber, and only this says which route it
    travelled. Returns False when the reply queue is gone (the verify run that sent the probe has
    finished: the probe is stale and can simply be deleted)."""
    from botocore.exceptions import ClientError

    body = json.dumps({"id": probe.id, "queue": queue_name(queue) if queue else probe.queue,
                       "received_by": received_by}, sort_keys=True)
    try:
        sqs.send_message(QueueUrl=probe.reply_to, MessageBody=body)
    except ClientError as e:
        code = str(e.response.get("Error", {}).get("Code", ""))
        if "NonExistentQueue" in code or "QueueDoesNotExist" in code:
            return False
        raise
    return True
