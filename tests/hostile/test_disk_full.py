"""Disk full (SQLite): with the data dir on a small tmpfs that fills up, sends answer 503
ServiceUnavailable (AWS's error for a temporary failure of the server, which SDKs retry),
nothing acknowledged is lost, and writes succeed again by themselves once space is freed,
without a restart.

Needs root (to mount a tmpfs); skips with the reason otherwise. PostgreSQL running out of
space: test_pg_disk_full.py, on a private cluster.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from botocore.exceptions import ClientError

from tests.api.conftest import Server, _shutdown, make_client
from tests.hostile.full_disk import error_of, mounted_tmpfs, receive_all

SIZE = "8m"








@pytest.fixture
def small_disk() -> Iterator[Path]:
    with mounted_tmpfs(SIZE, "postroom-full-") as mnt:
        yield mnt


def test_disk_full_is_503_loses_nothing_and_recovers_by_itself(small_disk: Path) -> None:
    filler = small_disk / "filler"
    filler.write_bytes(b"\0" * (3 * 1024 * 1024))  # space the test gives back later
    srv = Server(small_disk / "data")
    srv.start()
    try:
        sqs = make_client(srv.endpoint)
        url = sqs.create_queue(QueueName="full")["QueueUrl"]
        acked: dict[str, str] = {}
        failures: list[tuple[int, str]] = []
        for i in range(2000):
            body = f"{i:06d} " + "x" * 20_000
            try:
                acked[sqs.send_message(QueueUrl=url, MessageBody=body)["MessageId"]] = body
            except ClientError as exc:
                failures.append(error_of(exc))
                if len(failures) >= 5:
                    break
        assert failures, "the disk never filled up"
        assert set(failures) == {(503, "ServiceUnavailable")}, failures
        assert len(acked) > 10
        # batches and SNS-style writes fail the same way, whole
        with pytest.raises(ClientError) as err:
            sqs.send_message_batch(QueueUrl=url, Entries=[{"Id": str(i), "MessageBody": "y" * 20_000}
                                                          for i in range(10)])
        assert error_of(err.value) == (503, "ServiceUnavailable")
        assert srv.proc is not None and srv.proc.poll() is None, "the server died"

        filler.unlink()  # space returns
        after = {}
        for i in range(20):  # no restart: the next sends just work
            body = f"after {i}"
            after[sqs.send_message(QueueUrl=url, MessageBody=body)["MessageId"]] = body
        got = receive_all(sqs, url)
        assert {k: got.get(k) for k in acked} == acked, "an acknowledged message was lost"
        assert {k: got.get(k) for k in after} == after
        assert len(got) == len(acked) + len(after), "a failed send was stored after all"
        assert srv.stop() == 0
        srv.start()  # and the store opens cleanly afterwards
        assert sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessagesNotVisible"])[
            "Attributes"]["ApproximateNumberOfMessagesNotVisible"] == str(len(got))
    finally:
        if srv.proc is not None and srv.proc.poll() is None:
            _shutdown(srv)
        os.sync()
