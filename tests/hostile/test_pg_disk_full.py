"""PostgreSQL out of space: sends answer 503 ServiceUnavailable (SDKs retry it), nothing
acknowledged is lost, and writes succeed again by themselves once space returns.

The PostgreSQL here is a private cluster of this test (``tests.multinode``'s ``private_pg``),
whose database keeps its tables in a tablespace on an 8 MiB tmpfs: a full tablespace is the
"could not extend file … No space left on device" error (SQLSTATE 53100, disk_full) an operator
meets when a data volume fills, without touching the shared test server. (A full WAL volume is
different: PostgreSQL itself stops, and restarts once space returns.)
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from botocore.exceptions import ClientError

from tests.api.conftest import Server, _shutdown, make_client
from tests.hostile.full_disk import error_of, mounted_tmpfs, receive_all
from tests.multinode.conftest import PrivatePostgres, private_pg  # noqa: F401 - the fixture

SIZE = "8m"


@pytest.fixture
def small_tablespace(private_pg: PrivatePostgres) -> Iterator[Path]:  # noqa: F811 - the fixture
    with mounted_tmpfs(SIZE, "postroom-pgfull-") as mnt:
        try:
            space = mnt / "ts"
            space.mkdir()
            shutil.chown(space, "postgres", "postgres")
            with psycopg.connect(private_pg.dsn, autocommit=True) as conn:
                conn.execute(f"CREATE TABLESPACE small LOCATION '{space}'")
                conn.execute("ALTER DATABASE postgres SET default_tablespace = small")
            yield mnt
        finally:
            private_pg.remove()  # before the unmount: the cluster holds files in the tablespace






def test_postgres_out_of_space_is_503_loses_nothing_and_recovers(private_pg: PrivatePostgres,  # noqa: F811
                                                                  small_tablespace: Path, tmp_path: Path) -> None:
    filler = small_tablespace / "filler"
    srv = Server(tmp_path / "data", ("--store", private_pg.dsn))
    srv.start()  # the migrations create every table in the small tablespace
    try:
        sqs = make_client(srv.endpoint)
        url = sqs.create_queue(QueueName="full")["QueueUrl"]
        free = shutil.disk_usage(small_tablespace).free
        filler.write_bytes(b"\0" * max(free - 2 * 1024 * 1024, 0))  # leave ~2 MiB, given back later
        acked: dict[str, str] = {}
        failures: list[tuple[int, str]] = []
        for i in range(2000):
            body = f"{i:06d} " + os.urandom(10_000).hex()  # random: TOAST cannot compress it away
            try:
                acked[sqs.send_message(QueueUrl=url, MessageBody=body)["MessageId"]] = body
            except ClientError as exc:
                failures.append(error_of(exc))
                if len(failures) >= 5:
                    break
        assert failures, "the tablespace never filled up"
        assert set(failures) == {(503, "ServiceUnavailable")}, failures
        assert acked, "nothing was acknowledged before the disk filled"
        assert srv.proc is not None and srv.proc.poll() is None, "the server died"

        filler.unlink()  # space returns
        after: dict[str, str] = {}
        for i in range(20):  # no restart: the next sends just work
            body = f"after {i}"
            after[sqs.send_message(QueueUrl=url, MessageBody=body)["MessageId"]] = body
        got = receive_all(sqs, url)
        assert {k: got.get(k) for k in acked} == acked, "an acknowledged message was lost"
        assert {k: got.get(k) for k in after} == after
        assert len(got) == len(acked) + len(after), "a failed send was stored after all"
    finally:
        if srv.proc is not None and srv.proc.poll() is None:
            _shutdown(srv)
