"""From found messages to the exact, ordered list that will be sent.

**Identity.** Two log lines are the same message when they carry the same original message id
(``--id-field``); failing that, the same original deduplication id (``--dedup-field``); failing that,
the same group and body. The recovery id is a SHA-256 of that identity, so it is the same on every
run over any logs that contain the message: it is the FIFO ``MessageDeduplicationId`` (the broker
drops a re-send within its 5-minute window) and the ``postroom-recovery-id`` attribute (the
consumer's inbox drops a re-send at any time).

**Order.** By ``--sequence-field`` when given; otherwise by the time field, then by position (input
order, line number); without a time field, by position alone. Of several lines that are the same
message, the first in that order is kept; the others are counted as duplicates collapsed.

**Fingerprint.** A hash of the target and of every message's recovery id and group, in order:
the checkpoint is tied to it, so a resume with different input or a different target is refused.
"""

from __future__ import annotations

import hashlib
import zlib
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

from postroom.identity import identity
from postroom.recovery.model import Recovered


def identity_key(m: Recovered) -> tuple[str, str]:
    """What identifies a logged message: its original id, else its deduplication id, else its
    group and body — as ``(kind, value)`` for :func:`postroom.identity.identity`."""
    if m.original_id is not None:
        return ("id", m.original_id)
    if m.dedup_id is not None:
        return ("dedup", m.dedup_id)
    return ("content", (m.group or "") + "\0" + m.body)


def recovery_id(key: tuple[str, str]) -> str:
    return identity(*key)


@dataclass
class Plan:
    messages: list[Recovered]
    """In send order; ``key`` holds each message's recovery id."""
    duplicates: int = 0
    duplicate_examples: list[tuple[Recovered, Recovered]] = field(default_factory=list)
    """(kept, dropped) pairs, a few, for the report."""
    groups: Counter[str] = field(default_factory=Counter)
    first_time: float | None = None
    last_time: float | None = None
    target: str = ""
    fingerprint: str = ""

    def partitions(self, count: int) -> list[list[int]]:
        """Message indexes per sender: every message of one group in one partition, in order."""
        parts: list[list[int]] = [[] for _ in range(count)]
        for i, m in enumerate(self.messages):
            parts[partition_of(m, count)].append(i)
        return parts


def partition_of(m: Recovered, count: int) -> int:
    """A stable hash (crc32, not Python's per-process ``hash``) so a resume partitions identically."""
    if count == 1:
        return 0
    basis = m.group if m.group is not None else m.key
    return zlib.crc32(basis.encode("utf-8", "surrogatepass")) % count


def build_plan(found: Sequence[Recovered], target: str) -> Plan:
    for m in found:
        m.key = recovery_id(identity_key(m))
    if any(m.sequence is not None for m in found):
        ordered = sorted(found, key=lambda m: (m.sequence, m.source, m.line))
    elif any(m.time is not None for m in found):
        ordered = sorted(found, key=lambda m: (m.time, m.source, m.line))
    else:
        ordered = sorted(found, key=lambda m: (m.source, m.line))
    plan = Plan(messages=[], target=target)
    kept: dict[str, Recovered] = {}
    digest = hashlib.sha256(b"postroom-recover/1\0" + target.encode() + b"\0")
    for m in ordered:
        first = kept.get(m.key)
        if first is not None:
            plan.duplicates += 1
            if len(plan.duplicate_examples) < 5:
                plan.duplicate_examples.append((first, m))
            continue
        kept[m.key] = m
        plan.messages.append(m)
        if m.group is not None:
            plan.groups[m.group] += 1
        if m.time is not None:
            if plan.first_time is None or m.time < plan.first_time:
                plan.first_time = m.time
            if plan.last_time is None or m.time > plan.last_time:
                plan.last_time = m.time
        digest.update(f"{m.key}\0{m.group or ''}\n".encode("utf-8", "surrogatepass"))
    plan.fingerprint = digest.hexdigest()
    return plan
