"""Store contract for the SQS message semantics of issue #13 ("Fidelity"), on every engine.
The AWS behaviour each test pins is cited in its docstring and, black-box, in
tests/api/test_message_semantics.py."""

from __future__ import annotations

import base64

from postroom.errors import InvalidParameterValue
from postroom.store import receipts
from postroom.store.base import ReceiveRequest, VisibilityChange

from .conftest import T0, make_message


def req(n: int = 10, now: int = T0, vis: int = 30_000) -> ReceiveRequest:
    return ReceiveRequest(max_messages=n, visibility_ms=vis, now_ms=now, retention_ms=345_600_000)


def _messages(*bodies: str) -> list:
    """One message per body, in the group named by its prefix ("a1" is in group "a")."""
    return [make_message(b, b[0]) for b in bodies]


async def _bodies(store, q, **kw: int) -> list[str]:
    return [m.body for m in (await store.receive(q, req(**kw))).messages]


async def test_fifo_groups_come_in_the_order_their_first_message_became_visible(store, new_queue):
    """AWS (LocalStack, AWS-validated test_fifo_receive_message_visibility_timeout_shared_in_group):
    a group whose first message's timeout ran out is served after a group that was waiting
    all along; the locked group's unreceived messages stay locked meanwhile."""
    q = await new_queue("order", fifo=True)
    await store.send(q, _messages("a1", "a2", "a3", "b1", "c1"), T0, 300_000)
    assert await _bodies(store, q, n=2) == ["a1", "a2"]
    assert await _bodies(store, q, n=1, now=T0 + 1) == ["b1"]
    assert await _bodies(store, q, now=T0 + 30_001, vis=0) == ["c1", "a1", "a2", "a3", "b1"]


async def test_fifo_group_is_served_from_a_first_message_visible_again(store, new_queue):
    """AWS (LocalStack, AWS-validated test_fifo_message_group_visibility_after_terminate_visibility_timeout):
    ChangeMessageVisibility to 0 on a group's first message makes the group available from
    it while its second message is still in flight; the run stops before that message."""
    q = await new_queue("cmv", fifo=True)
    await store.send(q, _messages("a1", "a2", "b1"), T0, 300_000)
    first = (await store.receive(q, req(n=2))).messages
    assert [m.body for m in first] == ["a1", "a2"]
    assert await store.change_visibility(q, [VisibilityChange("x", first[0].receipt_handle, 0)], T0 + 1) == [None]
    assert await _bodies(store, q, now=T0 + 2) == ["b1", "a1"]


async def test_fifo_delete_with_an_expired_or_superseded_handle_fails_and_keeps_the_message(store, new_queue):
    """AWS (SQS Developer Guide, "Troubleshoot Amazon SQS API errors"): on a FIFO queue a
    handle whose visibility timeout ran out — or that a later receive superseded — cannot
    delete: InvalidParameterValue "… Reason: The receipt handle has expired."."""
    q = await new_queue("expired", fifo=True)
    await store.send(q, _messages("a1"), T0, 300_000)
    (m,) = (await store.receive(q, req(vis=1_000))).messages
    (err,) = await store.delete(q, [("x", m.receipt_handle)], T0 + 1_000)
    assert isinstance(err, InvalidParameterValue)
    assert str(err) == receipts.expired(m.receipt_handle).args[0]
    (again,) = (await store.receive(q, req(now=T0 + 1_000))).messages
    (err,) = await store.delete(q, [("x", m.receipt_handle)], T0 + 1_001)
    assert isinstance(err, InvalidParameterValue)
    assert await store.delete(q, [("y", again.receipt_handle)], T0 + 1_001) == [None]
    assert await store.delete(q, [("y", again.receipt_handle)], T0 + 1_002) == [None], "gone already: no error"


async def test_change_visibility_of_a_gone_message_is_invalid_and_of_an_old_handle_a_no_op(store, new_queue):
    """AWS (LocalStack, AWS-validated test_change_visibility_on_deleted_message_raises_invalid_parameter_value;
    localstack#9632): a handle of a deleted message is InvalidParameterValue "… Message does
    not exist or is not available for visibility timeout change."; a handle superseded by
    a later receive answers OK and leaves that receive's timeout as it is."""
    q = await new_queue("cmv-gone")
    await store.send(q, [make_message("x")], T0, 300_000)
    (old,) = (await store.receive(q, req(vis=1_000))).messages
    (new,) = (await store.receive(q, req(now=T0 + 1_000))).messages
    assert await store.change_visibility(q, [VisibilityChange("x", old.receipt_handle, 0)], T0 + 1_001) == [None]
    assert (await store.counts(q, T0 + 1_001)).in_flight == 1
    assert await store.delete(q, [("x", new.receipt_handle)], T0 + 1_001) == [None]
    (err,) = await store.change_visibility(q, [VisibilityChange("x", new.receipt_handle, 0)], T0 + 1_002)
    assert isinstance(err, InvalidParameterValue)
    assert str(err) == receipts.gone(new.receipt_handle).args[0]


async def test_purge_forgets_deduplication_ids(store, new_queue):
    """AWS (LocalStack, AWS-validated test_purge_queue_clears_fifo_deduplication_cache)."""
    q = await new_queue("purge", fifo=True)
    (first,) = await store.send(q, [make_message("one", "g", dedup="d")], T0, 300_000)
    await store.purge(q, T0 + 1, None)
    (second,) = await store.send(q, [make_message("two", "g", dedup="d")], T0 + 2, 300_000)
    assert not second.duplicate and second.message_id != first.message_id
    assert await _bodies(store, q, now=T0 + 3) == ["two"]


async def test_a_handle_of_the_older_format_still_matches_its_own_receive(store, new_queue):
    """Handles issued before the MessageId was part of them ("PR1") stay usable across an
    upgrade for the receive they came from — and only for it."""
    q = await new_queue("pr1")
    await store.send(q, [make_message("x")], T0, 300_000)
    (m,) = (await store.receive(q, req())).messages
    row_id, token, message_id = receipts.decode(m.receipt_handle, q.queue_id)
    assert message_id == m.message_id

    def old_format(tok: str) -> str:
        return base64.urlsafe_b64encode(f"PR1:{q.queue_id}:{row_id}:{tok}".encode()).decode().rstrip("=")

    assert await store.delete(q, [("x", old_format("0" * 16))], T0) == [None]
    assert (await store.counts(q, T0)).in_flight == 1, "another receive's token deletes nothing"
    assert await store.delete(q, [("x", old_format(token))], T0) == [None]
    assert (await store.counts(q, T0)).in_flight == 0


async def test_a_fifo_queue_deduplicates_in_the_scope_it_was_created_with(store, new_queue):
    """AWS (observed; LocalStack's AWS-validated high-throughput FIFO tests, localstack#10324
    and #10887): SetQueueAttributes may change DeduplicationScope, and the new value is
    reported, but the queue keeps deduplicating in the scope it was created with."""
    from postroom.core.model import QueueChange

    def switch(to: str):
        return lambda q: QueueChange(attributes={**q.attributes, "DeduplicationScope": to})

    by_queue = await new_queue("scope-q", fifo=True)
    by_queue = await store.update_queue(by_queue.key, switch("messageGroup"), T0)
    assert by_queue.attributes["DeduplicationScope"] == "messageGroup"
    first, second = await store.send(by_queue, [make_message("a", "A", dedup="d"), make_message("b", "B", dedup="d")],
                                     T0, 300_000)
    assert second.duplicate and second.message_id == first.message_id

    by_group = await new_queue("scope-g", fifo=True, DeduplicationScope="messageGroup",
                               FifoThroughputLimit="perMessageGroupId")
    by_group = await store.update_queue(by_group.key, switch("queue"), T0)
    results = await store.send(by_group, [make_message("a", "A", dedup="d")], T0, 300_000)
    results += await store.send(by_group, [make_message("b", "B", dedup="d"), make_message("c", "B", dedup="d")],
                                T0, 300_000)
    assert [r.duplicate for r in results] == [False, False, True]
