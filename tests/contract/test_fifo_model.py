"""Property-based test: the store's FIFO queue against a small reference model of AWS's
rules — strict order within a group; a group served only while its first message is
visible, groups in the order their first message became visible (as observed on AWS, see
``postroom.core.sqs.delivery_rules.fifo_group_run``); the five-minute deduplication window;
visibility timeouts; DeleteMessage with a handle no longer in flight refused ("The receipt
handle has expired"), ChangeMessageVisibility with it a no-op.

Hypothesis drives random sequences of sends, receives, deletes, visibility changes and
clock moves; after each receive the model checks that every message handed out was
eligible and that nothing eligible was withheld.
"""

from __future__ import annotations

import asyncio
import tempfile
from collections.abc import Coroutine
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from postroom.core.model import ResourceKey
from postroom.errors import InvalidParameterValue
from postroom.store.base import ReceiveRequest, Store, VisibilityChange
from postroom.store.sqlite.store import SqliteStore
from tests.pg import drop_schema, new_schema, pg_dsn, require_pg, with_schema

from .conftest import FIFO_ATTRS, T0, make_message

T = TypeVar("T")

WINDOW = 300_000
GROUPS = ["A", "B", "C"]


@dataclass
class ModelMessage:
    body: str
    group: str
    visible_at: int
    received: bool = False
    handle: str | None = None


class FifoQueueMachine(RuleBasedStateMachine):
    backend = "sqlite"

    def __init__(self) -> None:
        super().__init__()
        self.loop = asyncio.new_event_loop()
        self.dir = tempfile.TemporaryDirectory()
        self.schema: str | None = None
        self.store: Store
        if self.backend == "sqlite":
            self.store = SqliteStore(Path(self.dir.name) / "m.db")
        else:
            from postroom.store.postgres.store import PostgresStore

            self.schema = new_schema()
            self.store = self.run(PostgresStore.open(with_schema(pg_dsn(), self.schema)))
        self.now = T0
        self.messages: list[ModelMessage] = []  # queued or in flight, in send order
        self.dedup: dict[str, int] = {}  # dedup id -> expiry
        self.counter = 0
        key = ResourceKey("1", "us-east-1", "m.fifo")
        self.queue = self.run(self.store.create_queue(key, dict(FIFO_ATTRS), {}, T0, None))[0]

    def run(self, coro):  # type: ignore[no-untyped-def]
        return self.loop.run_until_complete(coro)

    def teardown(self) -> None:
        self.run(self.store.close())
        self.loop.close()
        self.dir.cleanup()
        if self.schema:
            drop_schema(pg_dsn(), self.schema)

    @initialize()
    def start(self) -> None:
        pass

    def eligible_heads(self) -> dict[str, list[ModelMessage]]:
        """Per group whose first message is visible, its run of visible messages from the
        first on, the groups in the order a receive serves them: by when their first
        message became visible, then by arrival."""
        firsts: list[tuple[int, int, str]] = []
        runs: dict[str, list[ModelMessage]] = {}
        for g in GROUPS:
            run = []
            for m in (m for m in self.messages if m.group == g):
                if m.visible_at > self.now:
                    break
                run.append(m)
            if run:
                runs[g] = run
                firsts.append((run[0].visible_at, self.messages.index(run[0]), g))
        return {g: runs[g] for _, _, g in sorted(firsts)}

    @rule(group=st.sampled_from(GROUPS), dedup=st.integers(0, 5))
    def send(self, group: str, dedup: int) -> None:
        self.counter += 1
        body = f"{group}-{self.counter}"
        dedup_id = f"d{dedup}"
        (result,) = self.run(self.store.send(self.queue, [make_message(body, group, dedup_id)], self.now, WINDOW))
        expected_dup = self.dedup.get(dedup_id, 0) > self.now
        assert result.duplicate == expected_dup
        if not expected_dup:
            self.dedup[dedup_id] = self.now + WINDOW
            self.messages.append(ModelMessage(body, group, self.now))

    @rule(n=st.integers(1, 10), vis=st.sampled_from([0, 1_000, 30_000]))
    def receive(self, n: int, vis: int) -> None:
        heads = self.eligible_heads()
        req = ReceiveRequest(max_messages=n, visibility_ms=vis, now_ms=self.now, retention_ms=10**12)
        got = self.run(self.store.receive(self.queue, req)).messages
        if not heads:
            assert got == []
            return
        # Group after group in the order they became available, each as far as it goes.
        expected = [m.body for run in heads.values() for m in run][:n]
        assert [sm.body for sm in got] == expected
        by_body = {m.body: m for m in self.messages}
        for sm in got:
            m = by_body[sm.body]
            m.received, m.visible_at, m.handle = True, self.now + vis, sm.receipt_handle

    @rule(groups=st.tuples(st.sampled_from(GROUPS), st.sampled_from(GROUPS)),
          dedups=st.tuples(st.integers(0, 5), st.integers(0, 5)))
    def concurrent_sends(self, groups: tuple[str, str], dedups: tuple[int, int]) -> None:
        """Two sends at once: each gets its own sequence number; with one dedup id, exactly
        one of them is stored and the other answers with its MessageId. (With one dedup id
        both go to one group, so whichever wins, the model's shape is the same.)"""
        if dedups[0] == dedups[1]:
            groups = (groups[0], groups[0])
        bodies = []
        for g in groups:
            self.counter += 1
            bodies.append(f"{g}-{self.counter}")
        sends = [self.store.send(self.queue, [make_message(b, g, f"d{d}")], self.now, WINDOW)
                 for b, g, d in zip(bodies, groups, dedups, strict=True)]
        results = [r for (r,) in self.run(_together(*sends))]
        stored: list[tuple[int, str, str]] = []
        for result, body, group, dedup in zip(results, bodies, groups, dedups, strict=True):
            dedup_id = f"d{dedup}"
            if self.dedup.get(dedup_id, 0) > self.now:
                assert result.duplicate
            elif not result.duplicate:
                stored.append((int(result.sequence_number or 0), body, group))
        if dedups[0] == dedups[1] and self.dedup.get(f"d{dedups[0]}", 0) <= self.now:
            assert [r.duplicate for r in results].count(False) == 1, "one dedup id stores one message"
            assert results[0].message_id == results[1].message_id
        for dedup in dedups:
            if self.dedup.get(f"d{dedup}", 0) <= self.now:
                self.dedup[f"d{dedup}"] = self.now + WINDOW
        assert len({seq for seq, _, _ in stored}) == len(stored), "sequence numbers are unique"
        for _seq, body, group in sorted(stored):
            self.messages.append(ModelMessage(body, group, self.now))

    @rule(n=st.integers(1, 10))
    def concurrent_receives(self, n: int) -> None:
        """Two receives at once (on PostgreSQL: two connections): no message is handed out
        twice, a group is served by one of them only, in order, from its head. The two
        requests are alike, so what they take together does not depend on which runs first;
        everything received is then released again (and must be releasable)."""
        ns = (n, n)
        heads = self.eligible_heads()
        reqs = [ReceiveRequest(max_messages=n, visibility_ms=30_000, now_ms=self.now, retention_ms=10**12)
                for n in ns]
        outcomes = self.run(_together(*(self.store.receive(self.queue, r) for r in reqs)))
        got = [o.messages for o in outcomes]
        bodies = [sm.body for batch in got for sm in batch]
        assert len(bodies) == len(set(bodies)), "a message was handed out twice"
        for batch, n in zip(got, ns, strict=True):
            assert len(batch) <= n
        available = sum(len(r) for r in heads.values())
        assert len(bodies) >= min(min(ns), available), "the first receive to run serves what it can"
        by_body = {m.body: m for m in self.messages}
        for g in {by_body[b].group for b in bodies}:
            holders = [i for i, batch in enumerate(got) if any(sm.group_id == g for sm in batch)]
            assert len(holders) == 1, f"group {g} was handed to two receives at once"
            taken = [sm.body for sm in got[holders[0]] if sm.group_id == g]
            assert taken == [m.body for m in heads[g][: len(taken)]], "order within a group"
        releases = [VisibilityChange(sm.body, sm.receipt_handle, 0) for batch in got for sm in batch]
        if releases:
            errors = self.run(self.store.change_visibility(self.queue, releases, self.now))
            assert errors == [None] * len(releases), "every message just received is in flight"
        for batch in got:
            for sm in batch:
                m = by_body[sm.body]
                m.received, m.visible_at, m.handle = True, self.now, sm.receipt_handle

    @precondition(lambda self: any(m.handle for m in self.messages))
    @rule(data=st.data())
    def delete(self, data: st.DataObject) -> None:
        m = data.draw(st.sampled_from([m for m in self.messages if m.handle]))
        (err,) = self.run(self.store.delete(self.queue, [("e", m.handle or "")], self.now))
        if m.visible_at > self.now:
            assert err is None
            self.messages.remove(m)
        else:
            assert isinstance(err, InvalidParameterValue), "the receipt handle has expired"

    @precondition(lambda self: any(m.handle for m in self.messages))
    @rule(data=st.data())
    def release(self, data: st.DataObject) -> None:
        m = data.draw(st.sampled_from([m for m in self.messages if m.handle]))
        (err,) = self.run(self.store.change_visibility(self.queue, [VisibilityChange("e", m.handle or "", 0)],
                                                       self.now))
        assert err is None, "an old handle is no error either"
        if m.visible_at > self.now:
            m.visible_at = self.now

    @rule(ms=st.sampled_from([1, 999, 1_000, 30_000, 300_000]))
    def advance(self, ms: int) -> None:
        self.now += ms

    @invariant()
    def counts_agree(self) -> None:
        counts = self.run(self.store.counts(self.queue, self.now))
        in_flight = sum(1 for m in self.messages if m.received and m.visible_at > self.now)
        assert counts.in_flight == in_flight
        assert counts.visible + counts.in_flight + counts.delayed == len(self.messages)


async def _together(*calls: Coroutine[Any, Any, T]) -> list[T]:
    return list(await asyncio.gather(*calls))


class PostgresFifoQueueMachine(FifoQueueMachine):
    backend = "postgres"


FifoQueueMachine.TestCase.settings = settings(max_examples=60, stateful_step_count=40, deadline=None)
PostgresFifoQueueMachine.TestCase.settings = settings(max_examples=25, stateful_step_count=30, deadline=None)
TestSqliteFifoQueueModel = FifoQueueMachine.TestCase


class TestPostgresFifoQueueModel(PostgresFifoQueueMachine.TestCase):  # type: ignore[misc,valid-type]
    def setUp(self) -> None:
        require_pg()
