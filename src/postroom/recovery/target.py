"""Where recovered messages go: a queue (URL, name or ARN) or a topic (ARN).

FIFO-ness is read from the name, as AWS fixes it: FIFO queue and topic names end in ``.fifo``.
A FIFO target gets each message's MessageGroupId from the mapping and its recovery id as
MessageDeduplicationId; a standard target gets neither. Recovering into a topic publishes to it,
so its subscriptions deliver, each through its own filter policy.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlparse

from postroom.recovery.model import ORIGINAL_ID_ATTRIBUTE, RECOVERY_ID_ATTRIBUTE, Recovered
from postroom.recovery.rules import SNS_MAX_BYTES, SQS_MAX_BYTES, TargetRules, message_size


class TargetError(Exception):
    """A target that does not exist or cannot be used."""


@dataclass(frozen=True)
class TargetRef:
    kind: str  # "queue" | "topic"
    given: str
    name: str
    account: str | None = None

    @property
    def fifo(self) -> bool:
        return self.name.endswith(".fifo")

    @property
    def identity(self) -> str:
        """What the checkpoint is tied to: kind and name (not the endpoint: a queue reached through
        another URL is the same queue)."""
        return f"{self.kind}:{self.account or ''}:{self.name}"

    @property
    def rules(self) -> TargetRules:
        return TargetRules(fifo=self.fifo, max_bytes=SNS_MAX_BYTES if self.kind == "topic" else SQS_MAX_BYTES)


def parse_target(given: str) -> TargetRef:
    if given.startswith("arn:"):
        parts = given.split(":")
        if len(parts) != 6 or parts[2] not in ("sns", "sqs") or not parts[5]:
            raise TargetError(f"{given!r} is not an SNS topic ARN or an SQS queue ARN")
        return TargetRef("topic" if parts[2] == "sns" else "queue", given, parts[5], parts[4] or None)
    if given.startswith(("http://", "https://")):
        path = [p for p in urlparse(given).path.split("/") if p]
        if not path:
            raise TargetError(f"{given!r} is not a queue URL")
        return TargetRef("queue", given, path[-1], path[-2] if len(path) > 1 else None)
    if "/" in given or ":" in given or not given:
        raise TargetError(f"{given!r} is not a queue name, queue URL or ARN")
    return TargetRef("queue", given, given)


class Target:
    """A resolved target: sends one batch and reports per-entry outcomes."""

    def __init__(self, ref: TargetRef, client: Any) -> None:
        self.ref = ref
        self.client = client
        self.address = ""
        self.max_bytes = ref.rules.max_bytes

    def resolve(self) -> None:
        """Check the target exists (GetQueueUrl/GetQueueAttributes or GetTopicAttributes) and read a
        queue's MaximumMessageSize: a larger message fails before it is sent, so that on a FIFO queue
        the later messages of its group are held back instead of going out in the same batch."""
        from botocore.exceptions import ClientError

        try:
            if self.ref.kind == "topic":
                self.client.get_topic_attributes(TopicArn=self.ref.given)
                self.address = self.ref.given
            else:
                if self.ref.given.startswith(("http://", "https://")):
                    self.address = self.ref.given
                else:
                    kwargs = {"QueueName": self.ref.name}
                    if self.ref.account:
                        kwargs["QueueOwnerAWSAccountId"] = self.ref.account
                    self.address = self.client.get_queue_url(**kwargs)["QueueUrl"]
                attrs = self.client.get_queue_attributes(QueueUrl=self.address,
                                                         AttributeNames=["MaximumMessageSize"])["Attributes"]
                if "MaximumMessageSize" in attrs:
                    self.max_bytes = min(self.max_bytes, int(attrs["MaximumMessageSize"]))
        except ClientError as e:
            err = e.response.get("Error", {})
            raise TargetError(f"{self.ref.kind} {self.ref.given!r}: {err.get('Code')}: {err.get('Message')}") from None

    def entry(self, index: int, m: Recovered) -> dict[str, Any]:
        attributes = {name: {"DataType": t, "StringValue": v} for name, (t, v) in m.attributes.items()}
        attributes[RECOVERY_ID_ATTRIBUTE] = {"DataType": "String", "StringValue": m.key}
        if m.original_id is not None:
            attributes[ORIGINAL_ID_ATTRIBUTE] = {"DataType": "String", "StringValue": m.original_id}
        body_key = "Message" if self.ref.kind == "topic" else "MessageBody"
        entry: dict[str, Any] = {"Id": f"m{index}", body_key: m.body, "MessageAttributes": attributes}
        if self.ref.fifo:
            entry["MessageGroupId"] = m.group
            entry["MessageDeduplicationId"] = m.key
        return entry

    def entry_size(self, m: Recovered) -> int:
        extra = len(RECOVERY_ID_ATTRIBUTE) + 6 + len(m.key)
        if m.original_id is not None:
            extra += len(ORIGINAL_ID_ATTRIBUTE) + 6 + len(m.original_id.encode())
        return message_size(m.body, m.attributes) + extra

    def send_batch(self, entries: list[dict[str, Any]]) -> dict[str, Any]:
        """One SendMessageBatch / PublishBatch call; the response's Successful and Failed lists."""
        if self.ref.kind == "topic":
            result: dict[str, Any] = self.client.publish_batch(TopicArn=self.address,
                                                              PublishBatchRequestEntries=entries)
        else:
            result = self.client.send_message_batch(QueueUrl=self.address, Entries=entries)
        return result
