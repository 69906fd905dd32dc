"""Black-box SNS tests: a real postroom process, spoken to with boto3's SNS and SQS clients.

Every test here runs twice, once per store: the embedded SQLite store and PostgreSQL (a fresh
schema of ``POSTROOM_TEST_PG_DSN``; skipped without PostgreSQL, failed under CI, as
``tests.pg.require_pg`` decides). AWS's documented behaviour is the spec.
"""

from __future__ import annotations

import json
import shutil
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
import requests
from botocore.config import Config
from botocore.exceptions import ClientError

from tests.api.conftest import REGION, Server, make_client
from tests.pg import drop_schema, new_schema, require_pg, with_schema

STORES = ["sqlite", "postgres"]


class StoreSpec:
    """How to start a server on one store; ``make()`` gives a new, not yet started Server."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self.root = Path(tempfile.mkdtemp(prefix=f"postroom-sns-{kind}-"))
        self._schemas: list[tuple[str, str]] = []
        self._n = 0

    def make(self) -> Server:
        self._n += 1
        data = self.root / f"data{self._n}"
        if self.kind == "postgres":
            dsn = require_pg()
            schema = new_schema()
            self._schemas.append((dsn, schema))
            return Server(data, ("--store", with_schema(dsn, schema)))
        return Server(data)

    def cleanup(self) -> None:
        for dsn, schema in self._schemas:
            try:
                drop_schema(dsn, schema)
            except Exception:
                pass
        for data in self.root.glob("data*"):  # the server logs stay, for a failure's post-mortem
            shutil.rmtree(data, ignore_errors=True)


def _shutdown(srv: Server) -> None:
    if srv.proc is not None and srv.proc.poll() is None:
        srv.bad_exits.append(srv.stop())
    bad = [rc for rc in srv.bad_exits if rc != 0]
    assert not bad, f"postroom exited {bad} on SIGTERM (expected a clean 0)"


@pytest.fixture(scope="module", params=STORES)
def store(request: pytest.FixtureRequest) -> Iterator[StoreSpec]:
    spec = StoreSpec(request.param)
    if spec.kind == "postgres":
        require_pg()
    yield spec
    spec.cleanup()


@pytest.fixture(scope="module")
def sns_server(store: StoreSpec) -> Iterator[Server]:
    srv = store.make()
    srv.start()
    yield srv
    _shutdown(srv)


@pytest.fixture
def fresh_sns_server(store: StoreSpec) -> Iterator[Server]:
    """A server of its own (same store kind), for tests that kill or restart it."""
    srv = store.make()
    srv.start()
    yield srv
    _shutdown(srv)


def make_sns(endpoint: str, validate: bool = True) -> Any:
    return boto3.session.Session().client(
        "sns", endpoint_url=endpoint, region_name=REGION, aws_access_key_id="x", aws_secret_access_key="x",
        config=Config(retries={"max_attempts": 1}, read_timeout=60, connect_timeout=5,
                      parameter_validation=validate),
    )


@pytest.fixture(scope="module")
def sns(sns_server: Server) -> Any:
    return make_sns(sns_server.endpoint)


@pytest.fixture(scope="module")
def sns_raw(sns_server: Server) -> Any:
    """An SNS client without botocore's parameter validation, to send what AWS must reject."""
    return make_sns(sns_server.endpoint, validate=False)


@pytest.fixture(scope="module")
def sqs(sns_server: Server) -> Any:
    return make_client(sns_server.endpoint)


# ---------------------------------------------------------------------------------------------
# helpers


def unique(prefix: str = "t") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def new_topic(sns: Any, fifo: bool = False, name: str | None = None, **attributes: Any) -> str:
    name = name or unique("ft" if fifo else "t")
    attrs = {k: str(v).lower() if isinstance(v, bool) else str(v) for k, v in attributes.items()}
    if fifo:
        name += ".fifo"
        attrs.setdefault("FifoTopic", "true")
    return str(sns.create_topic(Name=name, Attributes=attrs)["TopicArn"])


def new_queue(sqs: Any, fifo: bool = False, **attributes: Any) -> tuple[str, str]:
    """(queue url, queue arn)"""
    name = unique("fq" if fifo else "q")
    attrs = {k: str(v) for k, v in attributes.items()}
    if fifo:
        name += ".fifo"
        attrs["FifoQueue"] = "true"
    url = sqs.create_queue(QueueName=name, Attributes=attrs)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    return str(url), str(arn)


def subscribe_queue(sns: Any, sqs: Any, topic_arn: str, fifo: bool = False, raw: bool = False,
                    **sub_attributes: str) -> tuple[str, str]:
    """A new queue subscribed to the topic: (queue url, subscription arn)."""
    url, qarn = new_queue(sqs, fifo=fifo)
    attrs = dict(sub_attributes)
    if raw:
        attrs["RawMessageDelivery"] = "true"
    sub = sns.subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=qarn, Attributes=attrs,
                        ReturnSubscriptionArn=True)["SubscriptionArn"]
    return url, str(sub)


def receive(sqs: Any, url: str, n: int, timeout: float = 10.0, delete: bool = True,
            settle: bool = True) -> list[dict[str, Any]]:
    """Receive until n messages arrived (or timeout), deleting them; then (settle) one more short
    poll so that extra deliveries are seen too."""
    out: list[dict[str, Any]] = []
    deadline = time.monotonic() + timeout
    while len(out) < n and time.monotonic() < deadline:
        msgs = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1,
                                   AttributeNames=["All"], MessageAttributeNames=["All"]).get("Messages", [])
        out.extend(msgs)
        if msgs and delete:
            sqs.delete_message_batch(QueueUrl=url, Entries=[
                {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(msgs)])
    if settle:
        extra = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0,
                                    AttributeNames=["All"], MessageAttributeNames=["All"]).get("Messages", [])
        out.extend(extra)
    return out


def envelope(msg: dict[str, Any]) -> dict[str, Any]:
    body = json.loads(msg["Body"])
    assert isinstance(body, dict), msg["Body"]
    return body


def accounting(server: Server) -> dict[str, Any]:
    r = requests.get(server.endpoint + "/_postroom/accounting", timeout=10)
    assert r.status_code == 200, (r.status_code, r.text)
    data = r.json()
    assert isinstance(data, dict)
    return data


def topic_counts(server: Server, topic_arn: str) -> dict[str, int]:
    return dict(accounting(server).get("topics", {}).get(topic_arn, {}))


def sub_counts(server: Server, sub_arn: str) -> dict[str, int]:
    return dict(accounting(server).get("subscriptions", {}).get(sub_arn, {}))


def wait_until(check: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.05)


def wait_for_value(get: Callable[[], Any], expected: Any, timeout: float, what: str) -> None:
    """Poll get() until it equals expected; on timeout fail showing the last value."""
    deadline = time.monotonic() + timeout
    while True:
        value = get()
        if value == expected:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: expected {expected!r}, still {value!r} after {timeout} s")
        time.sleep(0.1)


def assert_sns_error(exc_info: pytest.ExceptionInfo[ClientError], code: str, status: int = 400,
                     message_contains: str | None = None) -> None:
    err = exc_info.value.response["Error"]
    got_status = exc_info.value.response["ResponseMetadata"]["HTTPStatusCode"]
    assert err.get("Code") == code, f"expected {code}, got {err} (HTTP {got_status})"
    assert got_status == status, f"expected HTTP {status} for {code}, got {got_status}: {err}"
    assert err.get("Message"), f"error {code} has no message: {err}"
    if message_contains is not None:
        assert message_contains in err["Message"], err
