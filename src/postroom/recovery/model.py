"""The records the recovery pipeline passes along."""

from __future__ import annotations

from dataclasses import dataclass, field

RECOVERY_ID_ATTRIBUTE = "postroom-recovery-id"
"""Message attribute on every recovered message: the same value on every run for the same logged
message, so a consumer's inbox (processed-message table) recognises a message it already handled,
long after the broker's 5-minute deduplication window has closed."""

ORIGINAL_ID_ATTRIBUTE = "postroom-original-message-id"
"""Message attribute carrying the message id found in the log (when the mapping has an id field),
for consumers whose inbox is keyed by the original MessageId."""

AttributeValue = tuple[str, str]
"""(DataType, StringValue) of one SQS/SNS message attribute: ``String`` or ``Number``."""


@dataclass(slots=True)
class Recovered:
    """One message found in a log line, before duplicates are collapsed."""

    body: str
    group: str | None
    original_id: str | None
    dedup_id: str | None
    time: float | None
    sequence: int | None
    attributes: dict[str, AttributeValue]
    source: int
    """Index of the input the line came from (inputs are numbered in the order they were read)."""
    line: int
    """1-based line number inside that input."""
    key: str = ""
    """What makes two log lines the same message; see :func:`postroom.recovery.plan.identity_key`."""


@dataclass(frozen=True, slots=True)
class Rejection:
    """A line that looked like a message but could not be turned into one."""

    source: str
    line: int
    reason: str
    text: str


@dataclass
class ScanStats:
    """How every line read was accounted for: lines == unrelated + rejected + filtered + found."""

    inputs: list[str] = field(default_factory=list)
    lines: int = 0
    unrelated: int = 0
    """Lines that are not messages at all (other log output); ignored, but counted."""
    rejected: int = 0
    """Lines that looked like messages but did not parse; each is in the reject file with a reason."""
    filtered_where: int = 0
    """Messages left out by a --where field filter."""
    filtered_window: int = 0
    """Messages outside --since/--until."""
    found: int = 0
    """Messages selected, duplicates included."""
    reject_reasons: dict[str, int] = field(default_factory=dict)

    def count_reject(self, reason: str) -> None:
        self.rejected += 1
        kind = reason.split(":", 1)[0]
        self.reject_reasons[kind] = self.reject_reasons.get(kind, 0) + 1
