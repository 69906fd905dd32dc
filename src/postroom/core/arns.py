"""Amazon Resource Names of queues: ``arn:aws:sqs:<region>:<account>:<name>``."""

from __future__ import annotations

from dataclasses import dataclass

from postroom.core.model import ResourceKey
from postroom.errors import InvalidParameterValue


@dataclass(frozen=True)
class QueueArn:
    region: str
    account: str
    name: str

    def __str__(self) -> str:
        return f"arn:aws:sqs:{self.region}:{self.account}:{self.name}"

    @property
    def key(self) -> ResourceKey:
        return ResourceKey(self.account, self.region, self.name)


def parse_queue_arn(arn: str, what: str = "QueueArn") -> QueueArn:
    parts = arn.split(":")
    if len(parts) != 6 or parts[0] != "arn" or parts[2] != "sqs" or not parts[5]:
        raise InvalidParameterValue(f"Value {arn} for parameter {what} is invalid. Reason: Invalid ARN.")
    return QueueArn(parts[3], parts[4], parts[5])


def format_sequence_number(seq: int) -> str:
    """AWS's SequenceNumber is a 128-bit, 20-digit decimal that grows within a queue."""
    return str(10**19 + seq)
