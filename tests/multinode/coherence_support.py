"""Helpers for the cross-node cache-coherence tests (``test_cache_coherence.py``).

Nothing here reaches into a node: the tests speak SQS/SNS over HTTP to real nodes, and
the only outside interference is ``terminate_listener``, which cuts a PostgreSQL
connection owned by one node process the test itself started.
"""

from __future__ import annotations

import os
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import urlsplit

import boto3
from botocore.config import Config

from tests.api.conftest import REGION, Server

# Like tests.api/tests.sns's clients (one attempt, no retries), with a connection pool big
# enough for the worker threads that share one client per node.
_CONFIG = Config(retries={"max_attempts": 1}, read_timeout=60, connect_timeout=5, max_pool_connections=32)


def client(service: str, endpoint: str) -> Any:
    return boto3.session.Session().client(service, endpoint_url=endpoint, region_name=REGION,
                                          aws_access_key_id="x", aws_secret_access_key="x", config=_CONFIG)


def at_once(*calls: Callable[[], Any]) -> list[Any]:
    """Run the calls on threads of their own, released together; returns each call's result,
    or the exception it raised."""
    barrier = threading.Barrier(len(calls))
    out: list[Any] = [None] * len(calls)

    def run(i: int) -> None:
        barrier.wait()
        try:
            out[i] = calls[i]()
        except Exception as exc:
            out[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return out


def run_workers(work: Callable[[int], None], n: int) -> list[BaseException]:
    """work(0) … work(n-1) on n threads; returns what they raised."""
    errors: list[BaseException] = []

    def run(w: int) -> None:
        try:
            work(w)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(w,)) for w in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    return errors


def tag(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def queue_arn(url: str) -> str:
    """SQS queue URLs of postroom are ``<endpoint>/<account>/<name>``."""
    account, name = urlsplit(url).path.strip("/").split("/")[-2:]
    return f"arn:aws:sqs:{REGION}:{account}:{name}"


def collect_bodies(sqs: Any, url: str, wanted: Iterable[str] = (), deadline: float = 0.0, wait: int = 1) -> list[str]:
    """Receive (and delete) from ``url`` until every body in ``wanted`` was seen, or, once the
    monotonic ``deadline`` passed, until a receive comes back empty; returns every body
    received, in order. Always receives at least once; long polls of at most ``wait`` s
    while time is left."""
    want = set(wanted)
    seen: list[str] = []
    while True:
        left = deadline - time.monotonic()
        msgs = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10,
                                   WaitTimeSeconds=max(0, min(wait, int(left)))).get("Messages", [])
        if msgs:
            sqs.delete_message_batch(QueueUrl=url, Entries=[
                {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(msgs)])
            seen.extend(m["Body"] for m in msgs)
        if want and want <= set(seen):
            return seen
        if not msgs and left <= 0:
            return seen


# ---------------------------------------------------------------------------------------------
# the PostgreSQL connections of one node


def _socket_inodes(pid: int) -> set[str]:
    inodes = set()
    fd_dir = f"/proc/{pid}/fd"
    for fd in os.listdir(fd_dir):
        try:
            target = os.readlink(os.path.join(fd_dir, fd))
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[len("socket:["):-1])
    return inodes


def _local_ports_to(pid: int, remote_port: int) -> set[int]:
    """Local TCP ports of the sockets process ``pid`` holds open towards ``remote_port``
    (read from /proc: the process's fds give socket inodes, /proc/net/tcp maps them)."""
    inodes = _socket_inodes(pid)
    ports = set()
    for table in ("tcp", "tcp6"):
        try:
            with open(f"/proc/{pid}/net/{table}") as f:
                lines = f.read().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            cols = line.split()
            local, remote, inode = cols[1], cols[2], cols[9]
            if inode in inodes and int(remote.rsplit(":", 1)[1], 16) == remote_port:
                ports.add(int(local.rsplit(":", 1)[1], 16))
    return ports


def node_backends(conn: Any, node: Server, pg_port: int) -> list[tuple[int, str, str]]:
    """(backend pid, state, last query) of every PostgreSQL backend whose client socket is
    held by ``node``'s process: identified by the TCP port pair, so backends of any other
    process on this machine (other tests, other nodes) can never match."""
    assert node.proc is not None and node.proc.poll() is None
    ports = _local_ports_to(node.proc.pid, pg_port)
    if not ports:
        return []
    rows = conn.execute(
        "SELECT pid, coalesce(state, ''), coalesce(query, '') FROM pg_stat_activity "
        "WHERE datname = current_database() AND client_port = ANY(%s) AND pid <> pg_backend_pid()",
        (sorted(ports),)).fetchall()
    return [(int(r[0]), str(r[1]), str(r[2])) for r in rows]


POOL_RESET = "UNLISTEN *"  # asyncpg's pool resets every connection it takes back with this


def listener_backends(conn: Any, node: Server, pg_port: int, samples: int = 5) -> list[int]:
    """The node's backends that are not pool connections: idle, having run something, and
    whose last statement is not asyncpg's pool reset (``... UNLISTEN *; RESET ALL;``), in
    each of ``samples`` looks 30 ms apart (a pool connection shows its last query for an
    instant before the reset; a listener never shows the reset)."""
    found: set[int] | None = None
    for i in range(samples):
        if i:
            time.sleep(0.03)
        now = {pid for pid, state, query in node_backends(conn, node, pg_port)
               if state == "idle" and query and POOL_RESET not in query}
        found = now if found is None else found & now
    return sorted(found or ())


def terminate_listener(conn: Any, node: Server, pg_port: int) -> list[int]:
    """Terminate the node's listening connection(s) (``listener_backends``; call it while the
    node is idle) and wait until they are gone; returns their pids."""
    victims = listener_backends(conn, node, pg_port)
    for pid in victims:
        conn.execute("SELECT pg_terminate_backend(%s, 5000)", (pid,))
    return victims
