"""Several real postroom processes sharing one PostgreSQL (issue #3).

``nodes`` starts three nodes on a fresh schema of the machine's PostgreSQL
(``POSTROOM_TEST_PG_DSN``). ``private_pg`` runs a throw-away PostgreSQL cluster of its
own (initdb in a temp dir, another port) for tests that restart PostgreSQL, so they never
disturb other tests sharing the machine's server.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.api.conftest import Server, make_client
from tests.pg import drop_schema, new_schema, require_pg, with_schema

PG_BIN = Path("/usr/lib/postgresql") / (sorted(os.listdir("/usr/lib/postgresql"))[-1]
                                        if os.path.isdir("/usr/lib/postgresql") else "15") / "bin"


class Cluster:
    def __init__(self, dsn: str) -> None:
        self.dsn = dsn
        self.nodes: list[Server] = []
        self.root = Path(tempfile.mkdtemp(prefix="postroom-nodes-"))

    def start_node(self) -> Server:
        node = Server(self.root / f"node{len(self.nodes)}", ("--store", self.dsn))
        node.start()
        self.nodes.append(node)
        return node

    def client(self, i: int) -> Any:
        return make_client(self.nodes[i].endpoint)

    def stop(self) -> None:
        for node in self.nodes:
            if node.proc is not None and node.proc.poll() is None:
                node.stop()
        shutil.rmtree(self.root, ignore_errors=True)


@pytest.fixture
def cluster_factory() -> Iterator[Callable[[str], Cluster]]:
    made: list[Cluster] = []

    def make(dsn: str) -> Cluster:
        c = Cluster(dsn)
        made.append(c)
        return c

    yield make
    for c in made:
        c.stop()


@pytest.fixture
def nodes(cluster_factory: Callable[[str], Cluster]) -> Iterator[Cluster]:
    dsn = require_pg()
    schema = new_schema()
    cluster = cluster_factory(with_schema(dsn, schema))
    for _ in range(3):
        cluster.start_node()
    yield cluster
    cluster.stop()
    drop_schema(dsn, schema)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class PrivatePostgres:
    """A PostgreSQL cluster owned by one test: started, restarted and removed by it."""

    def __init__(self) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="postroom-pg-"))
        self.port = _free_port()
        self.data = self.dir / "data"
        shutil.chown(self.dir, "postgres", "postgres")
        self._pg("initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres", "--no-sync")
        self.dsn = f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _pg(self, tool: str, *args: str) -> None:
        subprocess.run(["runuser", "-u", "postgres", "--", str(PG_BIN / tool), *args], check=True,
                       capture_output=True, timeout=120)

    def start(self) -> None:
        self._pg("pg_ctl", "-D", str(self.data), "-l", str(self.dir / "log"), "-w", "-o",
                 f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1", "start")

    def stop(self, mode: str = "fast") -> None:
        self._pg("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "stop")

    def remove(self) -> None:
        try:
            self.stop("immediate")
        except subprocess.CalledProcessError:
            pass
        shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture
def private_pg() -> Iterator[PrivatePostgres]:
    if not (PG_BIN / "initdb").exists() or shutil.which("runuser") is None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"PostgreSQL binaries not found in {PG_BIN}")
        pytest.skip(f"PostgreSQL binaries not found in {PG_BIN}")
    pg = PrivatePostgres()
    pg.start()
    yield pg
    pg.remove()


def wait_until(check: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)
