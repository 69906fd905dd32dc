"""Duplicates collapsed, order, fingerprint, partitions, checkpoint refusal — pure, no endpoint."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from postroom.recovery.checkpoint import CheckpointError, open_checkpoint, read
from postroom.recovery.model import Recovered
from postroom.recovery.plan import build_plan, partition_of


def rec(body: str, *, group: str | None = "g", mid: str | None = None, t: float | None = None,
        source: int = 0, line: int = 1, seq: int | None = None) -> Recovered:
    return Recovered(body, group, mid, None, t, seq, {}, source, line)


def test_duplicates_by_id_keep_the_earliest() -> None:
    plan = build_plan([rec("b", mid="1", t=5.0, source=1, line=9), rec("a", mid="1", t=4.0, source=2, line=1),
                       rec("c", mid="2", t=6.0)], "queue::q.fifo")
    assert [m.body for m in plan.messages] == ["a", "c"]
    assert plan.duplicates == 1


def test_duplicates_without_ids_by_group_and_body() -> None:
    plan = build_plan([rec("x", group="g1", line=1), rec("x", group="g2", line=2), rec("x", group="g1", line=3)],
                      "t")
    assert [(m.group, m.line) for m in plan.messages] == [("g1", 1), ("g2", 2)]
    assert plan.duplicates == 1


def test_order_by_time_then_position_or_by_sequence() -> None:
    found = [rec("late", mid="1", t=2.0, source=0, line=1), rec("tie-b", mid="2", t=1.0, source=1, line=1),
             rec("tie-a", mid="3", t=1.0, source=0, line=7)]
    assert [m.body for m in build_plan(found, "t").messages] == ["tie-a", "tie-b", "late"]
    by_seq = [rec("2", mid="a", seq=2, t=0.0), rec("1", mid="b", seq=1, t=9.0)]
    assert [m.body for m in build_plan(by_seq, "t").messages] == ["1", "2"]


def test_recovery_id_is_deterministic_and_the_fingerprint_tracks_input_and_target() -> None:
    a = build_plan([rec("x", mid="1"), rec("y", mid="2")], "queue::q")
    b = build_plan([rec("x", mid="1"), rec("y", mid="2")], "queue::q")
    assert [m.key for m in a.messages] == [m.key for m in b.messages]
    assert a.fingerprint == b.fingerprint
    assert build_plan([rec("x", mid="1")], "queue::q").fingerprint != a.fingerprint
    assert build_plan([rec("x", mid="1"), rec("y", mid="2")], "queue::other").fingerprint != a.fingerprint


@given(st.lists(st.tuples(st.sampled_from(["g0", "g1", "g2", "g3", "g4"]), st.integers(0, 10**6)), max_size=60),
       st.integers(1, 8))
def test_partitions_keep_each_group_in_one_partition_in_plan_order(items: list[tuple[str, int]], n: int) -> None:
    plan = build_plan([rec(f"b{i}", group=g, mid=str(i), t=float(t), line=i) for i, (g, t) in enumerate(items)], "t")
    parts = plan.partitions(n)
    assert sorted(i for p in parts for i in p) == list(range(len(plan.messages)))
    for p, indexes in enumerate(parts):
        assert indexes == sorted(indexes)
        assert all(partition_of(plan.messages[i], n) == p for i in indexes)


def test_checkpoint_is_tied_to_its_input(tmp_path: Path) -> None:
    path = tmp_path / "cp.json"
    cp = open_checkpoint(path, fingerprint="f1", target="queue::q", total=20, partitions=2, force=False)
    cp.advance(0, 10, 10, [])
    assert read(path).acked == [10, 0]  # type: ignore[union-attr]
    with pytest.raises(CheckpointError, match="input"):
        open_checkpoint(path, fingerprint="f2", target="queue::q", total=20, partitions=2, force=False)
    with pytest.raises(CheckpointError, match="target"):
        open_checkpoint(path, fingerprint="f1", target="queue::other", total=20, partitions=2, force=False)
    again = open_checkpoint(path, fingerprint="f1", target="queue::q", total=20, partitions=4, force=False)
    assert again.state.acked == [10, 0] and again.state.partitions == 2, "a resume keeps the partitioning"
    fresh = open_checkpoint(path, fingerprint="f2", target="queue::q", total=5, partitions=1, force=True)
    assert fresh.state.acked == [0]
    assert not list(tmp_path.glob("*.tmp")), "the temporary file is renamed over the checkpoint"
    path.write_text("{not json")
    with pytest.raises(CheckpointError, match="not a postroom recover checkpoint"):
        read(path)
