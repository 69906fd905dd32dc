"""The checkpoint file: how far a recovery got, durable, tied to its input.

**What it records.** The plan's fingerprint (target + every message's recovery id and group, in
order), the number of senders (partitions), and per partition how many messages the broker has
acknowledged (each partition sends its messages strictly in order, so "the first n" is exact), plus
the messages that failed for good and whether the recovery completed. It is kept after completion:
a re-run with the same input and target sends nothing unless ``--force``.

**When it is written.** Only after a batch is acknowledged, and a sender does not send its next
batch until the checkpoint holding the previous one is on disk: written to a temporary file,
fsync'd, renamed over the old one, and the directory fsync'd — so a crash leaves the old or the new
checkpoint, never a torn one. Concurrent senders' updates are written together (group commit: one
fsync for whatever acknowledgements arrived meanwhile).

**What a kill can leave behind.** Each sender has at most one batch that the broker may have
accepted but the checkpoint does not record (sent, then killed before the acknowledgement was
written). A resume sends those again: at most ``partitions × 10`` messages. On a FIFO target the
deterministic MessageDeduplicationId makes the broker drop them if the resume comes within its
5-minute window; otherwise — and always on standard queues and topics, which have no broker
deduplication — the consumer recognises them by the ``postroom-recovery-id`` attribute.
"""

from __future__ import annotations

import json
import os
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

FORMAT = "postroom-recover-checkpoint/1"


class CheckpointError(Exception):
    """A checkpoint that belongs to another recovery, or cannot be read or written."""


@dataclass
class Failure:
    recovery_id: str
    group: str | None
    source: str
    line: int
    reason: str

    def to_json(self) -> dict[str, Any]:
        return {"recovery_id": self.recovery_id, "group": self.group, "source": self.source, "line": self.line,
                "reason": self.reason}


@dataclass
class State:
    fingerprint: str
    target: str
    total: int
    partitions: int
    acked: list[int]
    sent: int = 0
    failures: list[Failure] = field(default_factory=list)
    complete: bool = False
    started: float = field(default_factory=time.time)
    runs: int = 0

    @property
    def done(self) -> int:
        return sum(self.acked)

    def to_json(self) -> dict[str, Any]:
        return {"format": FORMAT, "fingerprint": self.fingerprint, "target": self.target, "total": self.total,
                "partitions": self.partitions, "acked": self.acked, "done": self.done, "sent": self.sent,
                "failed": [f.to_json() for f in self.failures], "complete": self.complete,
                "started": self.started, "updated": time.time(), "runs": self.runs}

    @classmethod
    def from_json(cls, doc: dict[str, Any]) -> State:
        return cls(fingerprint=doc["fingerprint"], target=doc["target"], total=int(doc["total"]),
                   partitions=int(doc["partitions"]), acked=[int(n) for n in doc["acked"]], sent=int(doc["sent"]),
                   failures=[Failure(**f) for f in doc.get("failed", [])], complete=bool(doc["complete"]),
                   started=float(doc.get("started", 0)), runs=int(doc.get("runs", 0)))


def read(path: Path) -> State | None:
    try:
        text = path.read_text()
    except FileNotFoundError:
        return None
    except OSError as e:
        raise CheckpointError(f"cannot read checkpoint {path}: {e}") from None
    try:
        doc = json.loads(text)
        if doc.get("format") != FORMAT:
            raise ValueError(f"format {doc.get('format')!r}")
        return State.from_json(doc)
    except (ValueError, KeyError, TypeError) as e:
        raise CheckpointError(f"{path} is not a postroom recover checkpoint ({e}); "
                              "remove it or choose another --checkpoint") from None


def open_checkpoint(path: Path, *, fingerprint: str, target: str, total: int, partitions: int,
                    force: bool) -> Checkpoint:
    """The checkpoint to continue from: the existing one if it belongs to this recovery, a new one
    if there is none (or ``force``). A checkpoint of another input or target is refused."""
    state = None if force else read(path)
    if state is not None and (state.fingerprint != fingerprint or state.target != target):
        what = "target" if state.target != target else "input (messages, order or groups)"
        raise CheckpointError(
            f"checkpoint {path} belongs to another recovery: its {what} differs "
            f"({state.done:,} of {state.total:,} messages to {state.target} were done). Resume with the same "
            "inputs, options and target, or use another --checkpoint, or --force to start over.")
    if state is None:
        state = State(fingerprint=fingerprint, target=target, total=total, partitions=partitions,
                      acked=[0] * partitions)
    state.runs += 1
    checkpoint = Checkpoint(path, state)
    checkpoint.flush()
    return checkpoint


class Checkpoint:
    """Thread-safe, durable progress; :meth:`advance` returns once the update is on disk."""

    def __init__(self, path: Path, state: State) -> None:
        self.path = path
        self.state = state
        self._lock = threading.Lock()
        self._cond = threading.Condition(self._lock)
        self._version = 0
        self._durable = 0
        self._writing = False

    def advance(self, partition: int, acked: int, sent: int, failures: list[Failure]) -> None:
        with self._cond:
            self.state.acked[partition] = acked
            self.state.sent += sent
            self.state.failures.extend(failures)
            self._version += 1
            self._wait_durable(self._version)

    def finish(self) -> None:
        with self._cond:
            self.state.complete = self.state.done == self.state.total
            self._version += 1
            self._wait_durable(self._version)

    def flush(self) -> None:
        with self._cond:
            self._version += 1
            self._wait_durable(self._version)

    def _wait_durable(self, version: int) -> None:
        while self._durable < version:
            if self._writing:
                self._cond.wait()
                continue
            self._writing = True
            target, doc = self._version, self.state.to_json()
            self._cond.release()
            written = False
            try:
                write_atomic(self.path, json.dumps(doc, indent=1))
                written = True
            finally:
                self._cond.acquire()
                self._writing = False
                if written:
                    self._durable = max(self._durable, target)
                self._cond.notify_all()


def write_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    try:
        with open(tmp, "w") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
        fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
    except OSError as e:
        raise CheckpointError(f"cannot write checkpoint {path}: {e}") from None
