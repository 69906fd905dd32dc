"""Black-box concurrency tests: requests that race one another on a real postroom process.

Every test runs once per store (the embedded SQLite store and PostgreSQL, a fresh schema of
``POSTROOM_TEST_PG_DSN`` as ``tests.pg`` decides), with one server per module per store.
Clients never retry (``total_max_attempts=1``; botocore's ``max_attempts=1`` still allows one
retry, which turned a 500 into the retried call's QueueDoesNotExist), so neither a lost update
nor an error is hidden by a retry. Each racing thread has its own client, warmed up beforehand
so that its connection is open, and the racing calls are released together by a
``threading.Barrier``.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from tests.api.conftest import REGION, Server, error_of
from tests.pg import require_pg
from tests.sns.conftest import STORES, StoreSpec, _shutdown

ROUNDS = 30
OTHER_REGION = "eu-west-1"


def make_aws_client(service: str, endpoint: str, region: str = REGION) -> Any:
    """A boto3 client ("sqs" or "sns") that never retries; only the region in its SigV4
    signature differs between regions (the endpoint URL is the same)."""
    return boto3.session.Session().client(
        service, endpoint_url=endpoint, region_name=region, aws_access_key_id="x", aws_secret_access_key="x",
        config=Config(retries={"total_max_attempts": 1, "mode": "standard"}, read_timeout=60, connect_timeout=5),
    )


@pytest.fixture(scope="module", params=STORES)
def store(request: pytest.FixtureRequest) -> Iterator[StoreSpec]:
    spec = StoreSpec(request.param)
    if spec.kind == "postgres":
        require_pg()
    yield spec
    spec.cleanup()


@pytest.fixture(scope="module")
def server(store: StoreSpec) -> Iterator[Server]:
    srv = store.make()
    srv.start()
    yield srv
    _shutdown(srv)


class Clients:
    """boto3 clients of one server, one per (service, region, slot), made once and kept (a new
    client per round would cost more than the round). Racing threads take different slots."""

    def __init__(self, endpoint: str) -> None:
        self.endpoint = endpoint
        self._made: dict[tuple[str, str, int], Any] = {}
        self._lock = threading.Lock()

    def sqs(self, slot: int = 0, region: str = REGION) -> Any:
        return self._get("sqs", region, slot)

    def sns(self, slot: int = 0, region: str = REGION) -> Any:
        return self._get("sns", region, slot)

    def _get(self, service: str, region: str, slot: int) -> Any:
        key = (service, region, slot)
        with self._lock:
            client = self._made.get(key)
            if client is None:
                client = make_aws_client(service, self.endpoint, region)
                if service == "sqs":  # opens the connection
                    client.list_queues(QueueNamePrefix="warm-up")
                else:
                    client.list_topics()
                self._made[key] = client
            return client


@pytest.fixture(scope="module")
def clients(server: Server) -> Clients:
    return Clients(server.endpoint)


@dataclass
class Outcome:
    value: Any = None
    error: BaseException | None = None

    def describe(self) -> str:
        return "ok" if self.error is None else describe_error(self.error)


def describe_error(exc: BaseException) -> str:
    if isinstance(exc, ClientError):
        shape, wire = error_of(exc)
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        return f"HTTP {status} {shape} ({wire}): {exc.response['Error'].get('Message', '')}"
    return f"{type(exc).__name__}: {exc}"


def race(*calls: Callable[[], Any], timeout: float = 30.0) -> list[Outcome]:
    """Run each call in a thread of its own, all released at once by a barrier; return each
    call's result or exception (in the order given)."""
    barrier = threading.Barrier(len(calls))
    outcomes = [Outcome() for _ in calls]

    def run(i: int, call: Callable[[], Any]) -> None:
        try:
            barrier.wait(timeout)
            outcomes[i].value = call()
        except BaseException as exc:  # reported by the caller
            outcomes[i].error = exc

    threads = [threading.Thread(target=run, args=(i, c), daemon=True) for i, c in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout)
        assert not t.is_alive(), f"a racing call did not return within {timeout} s"
    return outcomes


def race_errors(outcomes: list[Outcome], names: tuple[str, ...]) -> list[str]:
    """The racing calls that failed, described; each of them must succeed on its own."""
    return [f"{n} failed: {o.describe()}" for n, o in zip(names, outcomes, strict=True) if o.error is not None]


def is_queue_missing(exc: BaseException) -> bool:
    if not isinstance(exc, ClientError):
        return False
    shape, wire = error_of(exc)
    return shape == "QueueDoesNotExist" or wire == "AWS.SimpleQueueService.NonExistentQueue"


def assert_no_failures(failures: list[str], rounds: int, what: str) -> None:
    lost = len({f.split(":", 1)[0] for f in failures})
    assert not failures, (f"{lost} of {rounds} rounds {what}:\n  " + "\n  ".join(failures))
