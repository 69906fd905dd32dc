"""Sending the plan: batches, concurrent senders that keep per-group order, retries, rate, checkpoint.

**Order.** Messages are split into partitions by a stable hash of their group; one sender thread
per partition sends its messages strictly in plan order, one batch at a time (SendMessageBatch /
PublishBatch enqueue a FIFO batch's entries in the order given). So every message of a group is
sent by one thread, after the previous one of that group was acknowledged: per-group order holds
with any number of senders.

**A message that fails for good** (the broker refuses it, or retries run out on that entry) is
recorded in the checkpoint with the reason and the run exits non-zero. On a FIFO target, the later
messages of its group are then not sent (recorded as failed too): delivering them would put them
ahead of the missing one. Other groups go on.

**The whole run stops** — checkpoint intact, resumable — on an error about the target itself
(queue gone, access denied) or when retries of a throttled / failing request run out; and on
Ctrl-C or SIGTERM, after each sender's batch in flight is acknowledged and checkpointed.
"""

from __future__ import annotations

import sys
import threading
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ClientError
from tqdm import tqdm

from postroom.recovery.checkpoint import Checkpoint, Failure
from postroom.recovery.model import Recovered
from postroom.recovery.plan import Plan
from postroom.recovery.ratelimit import RateLimiter
from postroom.recovery.retry import backoff, describe, is_retryable
from postroom.recovery.rules import MAX_BATCH_ENTRIES
from postroom.recovery.target import Target

CONTENT_ERRORS = frozenset({
    "InvalidMessageContents", "InvalidParameterValue", "InvalidParameterValueException", "InvalidParameter",
    "InvalidParameterException", "ValidationError", "ValidationException", "MessageTooLong",
    "BatchRequestTooLong", "InvalidAttributeName", "InvalidAttributeValue", "InvalidBatchEntryId",
})
"""Whole-batch refusals caused by one entry's content: the batch is re-sent one entry at a time to
find the culprit, instead of failing ten messages for one."""


@dataclass
class Outcome:
    sent: int = 0
    """Messages the broker acknowledged in this run."""
    failures: list[Failure] = field(default_factory=list)
    retries: int = 0
    aborted: str | None = None
    interrupted: bool = False


class Abort(Exception):
    pass


class Sender:
    def __init__(self, target: Target, plan: Plan, checkpoint: Checkpoint, inputs: list[str], *,
                 rate: float | None = None, max_retries: int = 8, progress: bool = False) -> None:
        self.target = target
        self.plan = plan
        self.checkpoint = checkpoint
        self.inputs = inputs
        self.limiter = RateLimiter(rate)
        self.max_retries = max_retries
        self.stop = threading.Event()
        self.outcome = Outcome()
        self._lock = threading.Lock()
        state = checkpoint.state
        self.parts = plan.partitions(state.partitions)
        self.bar = tqdm(total=state.total, initial=state.done, unit="msg", unit_scale=True, smoothing=0.05,
                        disable=not progress, file=sys.stderr, dynamic_ncols=True)
        failed_groups: dict[str, str] = {}
        if target.ref.fifo:
            for f in state.failures:
                if f.group is not None:
                    failed_groups.setdefault(f.group, f.recovery_id)
        self.failed_groups = failed_groups

    def run(self) -> Outcome:
        # Completion is tracked with events, not Thread.join: with join, a SIGINT test run exited with one
        # batch sent but not checkpointed (an interrupted join is not a reliable "finished" signal);
        # Event.wait is safe to interrupt and to wait on again.
        finished = [threading.Event() for _ in self.parts]
        threads = [threading.Thread(target=self._worker, args=(p, finished[p]), name=f"recover-sender-{p}",
                                    daemon=True) for p in range(len(self.parts))]
        for t in threads:
            t.start()
        try:
            for done in finished:
                while not done.wait(0.2):
                    pass
        except KeyboardInterrupt:
            self.outcome.interrupted = True
            self.stop.set()
            for done in finished:
                while not done.wait(0.2):
                    pass
        finally:
            self.bar.close()
        if not self.outcome.aborted and not self.outcome.interrupted:
            self.checkpoint.finish()
        return self.outcome

    # -- one partition ------------------------------------------------------------------------
    def _worker(self, p: int, finished: threading.Event) -> None:
        try:
            self._send_partition(p)
        except Abort as e:
            self._abort(str(e))
        except Exception as e:  # anything unexpected stops the run, resumably
            self._abort(f"unexpected {describe(e)}")
        finally:
            finished.set()

    def _abort(self, reason: str) -> None:
        with self._lock:
            if self.outcome.aborted is None:
                self.outcome.aborted = reason
        self.stop.set()

    def _send_partition(self, p: int) -> None:
        indexes = self.parts[p]
        position = self.checkpoint.state.acked[p]
        messages = self.plan.messages
        limit = self.target.ref.rules.max_bytes
        while position < len(indexes) and not self.stop.is_set():
            batch: list[Recovered] = []
            skipped: list[Failure] = []
            size = 0
            end = position
            while end < len(indexes) and len(batch) < MAX_BATCH_ENTRIES:
                m = messages[indexes[end]]
                if m.group is not None and m.group in self.failed_groups:
                    skipped.append(self._failure(m, f"not sent: an earlier message of group {m.group!r} failed "
                                                    f"(recovery id {self.failed_groups[m.group]})"))
                    end += 1
                    continue
                entry_size = self.target.entry_size(m)
                if entry_size > self.target.max_bytes:
                    skipped.append(self._failure(m, f"too large for the target: {entry_size} bytes with attributes "
                                                    f"(MaximumMessageSize {self.target.max_bytes})"))
                    if self.target.ref.fifo and m.group is not None:
                        self.failed_groups.setdefault(m.group, m.key)
                    end += 1
                    continue
                if batch and size + entry_size > limit:
                    break
                batch.append(m)
                size += entry_size
                end += 1
            sent, failures = self._send(batch) if batch else (0, [])
            if sent is None:  # stopped while retrying: this batch is not recorded, a resume re-sends it
                return
            failures = failures + skipped
            for f in failures:
                if self.target.ref.fifo and f.group is not None:
                    self.failed_groups.setdefault(f.group, f.recovery_id)
            self.checkpoint.advance(p, end, sent, failures)
            with self._lock:
                self.outcome.sent += sent
                self.outcome.failures.extend(failures)
            self.bar.update(end - position)
            position = end

    def _failure(self, m: Recovered, reason: str) -> Failure:
        return Failure(m.key, m.group, self.inputs[m.source], m.line, reason)

    def _send(self, batch: list[Recovered]) -> tuple[int | None, list[Failure]]:
        """Send until every entry is acknowledged or failed for good; (acknowledged, failures), or
        (None, []) when the run is stopping."""
        self.limiter.acquire(len(batch), self.stop)
        pending = list(batch)
        sent = 0
        failures: list[Failure] = []
        attempt = 0
        while pending:
            if self.stop.is_set() and attempt > 0:
                return None, []
            entries = [self.target.entry(i, m) for i, m in enumerate(pending)]
            try:
                result = self.target.send_batch(entries)
            except Exception as e:
                if is_retryable(e) and attempt < self.max_retries:
                    attempt += 1
                    self._count_retry()
                    self.stop.wait(backoff(attempt))
                    continue
                code = e.response.get("Error", {}).get("Code") if isinstance(e, ClientError) else None
                if code in CONTENT_ERRORS:
                    if len(pending) == 1:
                        return sent, [*failures, self._failure(pending[0], describe(e))]
                    for m in pending:
                        one_sent, one_failed = self._send([m])
                        if one_sent is None:
                            return None, []
                        sent += one_sent
                        failures.extend(one_failed)
                    return sent, failures
                if is_retryable(e):
                    raise Abort(f"giving up after {attempt} retries: {describe(e)}") from None
                raise Abort(describe(e)) from None
            failed: dict[str, dict[str, Any]] = {f["Id"]: f for f in result.get("Failed", [])}
            sent += len(result.get("Successful", []))
            retry: list[Recovered] = []
            for i, m in enumerate(pending):
                f = failed.get(f"m{i}")
                if f is None:
                    continue
                if not f.get("SenderFault") and attempt < self.max_retries:
                    retry.append(m)
                    continue
                reason = f"{f.get('Code')}: {f.get('Message')}"
                if self.target.ref.fifo and any(later.group == m.group and f"m{j}" not in failed
                                                for j, later in enumerate(pending[i + 1:], i + 1)):
                    reason += (f" (later messages of group {m.group!r} in the same batch were accepted: "
                               "that group's order is broken)")
                failures.append(self._failure(m, reason))
            pending = retry
            if pending:
                attempt += 1
                self._count_retry()
                self.stop.wait(backoff(attempt))
        return sent, failures

    def _count_retry(self) -> None:
        with self._lock:
            self.outcome.retries += 1
