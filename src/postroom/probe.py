"""Route probes: how `postroom verify --probe` proves that a topic → queue route delivers, without
handing a synthetic message to an application's handler.

A probe is an ordinary SNS publish carrying one message attribute, ``postroom-probe``, whose value
is a small JSON object: the probe's id, the route it tests (topic and queue names) and the URL of
a reply queue the verifier created for this run. It travels the real route — the real topic, the
real subscription with its filter policy and raw setting, the real queue — because a probe that
took any other path would prove nothing about the route.

Whoever receives it answers on the reply queue and deletes it:
- ``postroom.consumer`` does this before any handler sees the message, so applications built on it
  are never disturbed and the reply also proves a live consumer is attached;
- ``verify --probe --consume`` does it itself for queues with no consumer running (staging, CI).

With a raw subscription the attribute arrives as an SQS message attribute; otherwise it is inside
the SNS envelope's ``MessageAttributes``. :func:`probe_of` reads both.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

PROBE_ATTRIBUTE = "postroom-probe"
# A probe is published with this FIFO message group, so it never holds up an application's groups.
PROBE_GROUP = "postroom-probe"


@dataclass(frozen=True)
class Probe:
    id: str
    topic: str
    queue: str
    reply_to: str

    def encode(self) -> str:
        return json.dumps({"id": self.id, "topic": self.topic, "queue": self.queue, "reply_to": self.reply_to},
                          sort_keys=True, separators=(",", ":"))

    @staticmethod
    def decode(text: str) -> Probe | None:
        try:
            d = json.loads(text)
            return Probe(id=str(d["id"]), topic=str(d["topic"]), queue=str(d["queue"]), reply_to=str(d["reply_to"]))
        except (ValueError, KeyError, TypeError):
            return None


def probe_of(message: dict[str, Any]) -> Probe | None:
    """The probe carried by an SQS message as ReceiveMessage returns it (asked with
    ``MessageAttributeNames=["All"]``), whether delivered raw or wrapped in an SNS envelope."""
    attrs = message.get("MessageAttributes") or {}
    if PROBE_ATTRIBUTE in attrs:
        return Probe.decode(str(attrs[PROBE_ATTRIBUTE].get("StringValue", "")))
    body = message.get("Body", "")
    if PROBE_ATTRIBUTE not in body:  # cheap test before parsing every body as JSON
        return None
    try:
        envelope = json.loads(body)
        value = envelope["MessageAttributes"][PROBE_ATTRIBUTE]["Value"]
    except (ValueError, KeyError, TypeError):
        return None
    return Probe.decode(str(value))


def reply(sqs: Any, probe: Probe, received_by: str) -> None:
    """Confirm a probe's arrival on its reply queue. ``received_by`` names who took it
    (a consumer's name, or ``verify``)."""
    sqs.send_message(QueueUrl=probe.reply_to,
                     MessageBody=json.dumps({"id": probe.id, "queue": probe.queue, "received_by": received_by}))
