"""Black-box API tests: the real server runs as a subprocess and is spoken to over HTTP with
boto3 (AWS JSON 1.0) and with raw form-encoded query requests (XML responses).

Set POSTROOM_TEST_ENDPOINT=http://host:port to run against an already-running server instead
(e.g. moto_server). In that mode, tests that need the debug clock, --aws-timing, a restart or a
kill -9 skip with an explicit reason. POSTROOM_TEST_ACCOUNT_ID (default 000000000000) is the
account that server puts in queue URLs.
"""

from __future__ import annotations

import hashlib
import os
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import boto3
import botocore.session
import pytest
import requests
from botocore.config import Config
from botocore.exceptions import ClientError

NS_URI = "http://queue.amazonaws.com/doc/2012-11-05/"
NS = {"q": NS_URI}
REPO = Path(__file__).resolve().parents[2]
EXTERNAL = os.environ.get("POSTROOM_TEST_ENDPOINT")
ACCOUNT = os.environ.get("POSTROOM_TEST_ACCOUNT_ID", "000000000000")
REGION = "us-east-1"
FAKE_AUTH = (
    "AWS4-HMAC-SHA256 Credential=x/20250101/{region}/sqs/aws4_request, "
    "SignedHeaders=content-type;host;x-amz-date, Signature=" + "0" * 64
)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    """A postroom process started by the tests (or, with POSTROOM_TEST_ENDPOINT, a stand-in for
    an external server that cannot be controlled)."""

    def __init__(self, data_dir: Path | None, extra_args: tuple[str, ...] = (), external: str | None = None):
        self.external = external is not None
        self.data_dir = data_dir
        self.extra_args = extra_args
        self.account_id = ACCOUNT
        self.proc: subprocess.Popen[bytes] | None = None
        self.bad_exits: list[int] = []  # non-zero SIGTERM exit codes seen by restart()
        self.clock_offset = 0.0  # seconds the server clock has been advanced in total
        if external:
            self.endpoint = external.rstrip("/")
            self.port = int(self.endpoint.rsplit(":", 1)[1])
        else:
            self.port = _free_port()
            self.endpoint = f"http://127.0.0.1:{self.port}"
        self._log = None

    # -- lifecycle -------------------------------------------------------------------------
    def start(self) -> None:
        assert not self.external
        assert self.data_dir is not None
        self.clock_offset = 0.0  # a new process starts from real time again
        log_path = self.data_dir.parent / f"server-{self.port}.log"
        self._log = open(log_path, "ab")  # noqa: SIM115 - kept open for the process lifetime
        cmd = [sys.executable, "-m", "postroom", "serve", "--host", "127.0.0.1", "--port", str(self.port),
               "--data-dir", str(self.data_dir), "--log-level", "warning", "--debug-clock", *self.extra_args]
        self.proc = subprocess.Popen(cmd, cwd=REPO, stdout=self._log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 20
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"postroom exited with {self.proc.returncode} on start; log: {log_path}:\n"
                                   + log_path.read_text(errors="replace")[-3000:])
            try:
                if requests.get(self.endpoint + "/health", timeout=1).status_code == 200:
                    return
            except requests.RequestException:
                pass
            if time.monotonic() > deadline:
                self.proc.kill()
                raise RuntimeError(f"postroom did not answer /health within 20 s; log: {log_path}")
            time.sleep(0.05)

    def stop(self) -> int:
        """SIGTERM, wait, return the exit code."""
        assert self.proc is not None
        self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise AssertionError("postroom did not exit within 15 s of SIGTERM") from None
        if self._log:
            self._log.close()
        return rc

    def restart(self) -> None:
        self._require_control("restart")
        rc = self.stop()
        if rc != 0:  # reported at teardown, so the rest of the test still runs
            self.bad_exits.append(rc)
        self.start()

    def kill9(self) -> None:
        self._require_control("kill -9")
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=10)

    # -- debug clock -----------------------------------------------------------------------
    def advance(self, seconds: float) -> None:
        self._require_control("the debug clock (--debug-clock)")
        r = requests.post(f"{self.endpoint}/_postroom/clock/advance", params={"seconds": seconds}, timeout=10)
        assert r.status_code == 200, (r.status_code, r.text)
        self.clock_offset += seconds

    def now(self) -> float:
        """What the server's clock should read now (epoch seconds)."""
        return time.time() + self.clock_offset

    def _require_control(self, what: str) -> None:
        if self.external:
            pytest.skip(f"needs {what}; not available against external POSTROOM_TEST_ENDPOINT={self.endpoint}")


def _tmpdir(prefix: str) -> Path:
    return Path(tempfile.mkdtemp(prefix=prefix))


def _launch(extra: tuple[str, ...] = ()) -> Server:
    root = _tmpdir("postroom-api-")
    srv = Server(root / "data", extra)
    srv.start()
    return srv


def _shutdown(srv: Server) -> None:
    if srv.proc is not None and srv.proc.poll() is None:
        srv.bad_exits.append(srv.stop())
    bad = [rc for rc in srv.bad_exits if rc != 0]
    assert not bad, f"postroom exited {bad} on SIGTERM (expected a clean 0)"


@pytest.fixture(scope="session")
def server() -> Iterator[Server]:
    if EXTERNAL:
        yield Server(None, external=EXTERNAL)
        return
    srv = _launch()
    yield srv
    _shutdown(srv)


@pytest.fixture
def fresh_server() -> Iterator[Server]:
    """A server of its own, for tests that restart or kill it."""
    if EXTERNAL:
        pytest.skip("needs its own server process (restart/kill -9); not possible against POSTROOM_TEST_ENDPOINT")
    srv = _launch()
    yield srv
    _shutdown(srv)


@pytest.fixture(scope="module")
def timing_server() -> Iterator[Server]:
    """A server started with --aws-timing (and --debug-clock)."""
    if EXTERNAL:
        pytest.skip("needs a server started with --aws-timing; not possible against POSTROOM_TEST_ENDPOINT")
    srv = _launch(("--aws-timing",))
    yield srv
    _shutdown(srv)


@pytest.fixture
def clock(server: Server) -> Callable[[float], None]:
    """advance(seconds) on the shared server; skips when the debug clock is unavailable."""
    server._require_control("the debug clock (--debug-clock)")
    return server.advance


# ---------------------------------------------------------------------------------------------
# clients


def make_client(endpoint: str, region: str = REGION) -> Any:
    return boto3.session.Session().client(
        "sqs", endpoint_url=endpoint, region_name=region, aws_access_key_id="x", aws_secret_access_key="x",
        config=Config(retries={"max_attempts": 1}, read_timeout=60, connect_timeout=5),
    )


@pytest.fixture(scope="session")
def _session_client(server: Server) -> Any:
    return make_client(server.endpoint)


@pytest.fixture
def sqs(_session_client: Any) -> Any:
    return _session_client


def unique(prefix: str = "q") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


class QueueFactory:
    def __init__(self, client: Any, fifo: bool):
        self.client = client
        self.fifo = fifo
        self.created: list[str] = []

    def __call__(self, name: str | None = None, tags: dict[str, str] | None = None, **attributes: Any) -> str:
        name = name or unique("fq" if self.fifo else "q")
        attrs = {k: str(v) for k, v in attributes.items()}
        if self.fifo:
            if not name.endswith(".fifo"):
                name += ".fifo"
            attrs.setdefault("FifoQueue", "true")
        kwargs: dict[str, Any] = {"QueueName": name, "Attributes": attrs}
        if tags:
            kwargs["tags"] = tags
        url = self.client.create_queue(**kwargs)["QueueUrl"]
        self.created.append(url)
        return str(url)

    def cleanup(self) -> None:
        for url in self.created:
            try:
                self.client.delete_queue(QueueUrl=url)
            except ClientError:
                pass


@pytest.fixture
def queue(sqs: Any) -> Iterator[QueueFactory]:
    f = QueueFactory(sqs, fifo=False)
    yield f
    f.cleanup()


@pytest.fixture
def fifo_queue(sqs: Any) -> Iterator[QueueFactory]:
    f = QueueFactory(sqs, fifo=True)
    yield f
    f.cleanup()


# ---------------------------------------------------------------------------------------------
# raw query protocol


class QueryResult:
    def __init__(self, response: requests.Response):
        self.response = response
        self.status = response.status_code
        self.headers = response.headers
        self.text = response.text
        try:
            self.root: ET.Element | None = ET.fromstring(response.content) if response.content else None
        except ET.ParseError:
            self.root = None

    def __iter__(self) -> Iterator[Any]:  # allows `status, root = query(...)`
        return iter((self.status, self.root))

    def find(self, path: str) -> ET.Element | None:
        assert self.root is not None, self.text
        return self.root.find(path, NS)

    def findtext(self, path: str) -> str | None:
        assert self.root is not None, self.text
        return self.root.findtext(path, namespaces=NS)

    def findall(self, path: str) -> list[ET.Element]:
        assert self.root is not None, self.text
        return self.root.findall(path, NS)

    @property
    def error_code(self) -> str | None:
        return self.findtext("q:Error/q:Code")


class Query:
    """query(Action, params, path="/") POSTs a form-encoded AWS query request."""

    def __init__(self, endpoint: str):
        self.endpoint = endpoint
        self.http = requests.Session()

    def __call__(self, action: str | None, params: dict[str, Any] | None = None, path: str = "/",
                 method: str = "POST", region: str = REGION, version: str | None = "2012-11-05") -> QueryResult:
        form: dict[str, Any] = {}
        if action is not None:
            form["Action"] = action
        if version is not None:
            form["Version"] = version
        form.update({k: str(v) for k, v in (params or {}).items()})
        headers = {"Authorization": FAKE_AUTH.format(region=region),
                   "X-Amz-Date": time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())}
        url = self.endpoint + path
        if method == "GET":
            r = self.http.get(url, params=form, headers=headers, timeout=30)
        else:
            headers["Content-Type"] = "application/x-www-form-urlencoded; charset=utf-8"
            r = self.http.post(url, data=form, headers=headers, timeout=30)
        return QueryResult(r)


@pytest.fixture
def query(server: Server) -> Query:
    return Query(server.endpoint)


# ---------------------------------------------------------------------------------------------
# helpers shared by the test modules


def error_of(exc: ClientError) -> tuple[str, str]:
    """(shape code, wire code). For the JSON protocol the shape code is the `__type` (kept by
    botocore as QueryErrorCode when an x-amzn-query-error header is present) and the wire code
    is what botocore puts in Error.Code (the x-amzn-query-error code when present)."""
    err = exc.response["Error"]
    code = err.get("Code", "")
    return err.get("QueryErrorCode", code), code


MODELED_ERRORS = {e.name for e in botocore.session.get_session().get_service_model("sqs").error_shapes}


# HTTP statuses AWS documents for errors that are not 400
ERROR_STATUS = {"PurgeQueueInProgress": 403, "OverLimit": 403, "ResourceNotFoundException": 404,
                "ReceiptHandleIsInvalid": 404, "InvalidAddress": 404}


def assert_error(exc_info: pytest.ExceptionInfo[ClientError], code: str, query_code: str | None = None,
                 status: int | None = None) -> None:
    """Modeled errors (QueueDoesNotExist, ...) must carry their shape name as the JSON __type;
    common errors that botocore does not model (InvalidParameterValue, MissingParameter, ...)
    may appear either as __type or as the x-amzn-query-error code."""
    exc = exc_info.value
    shape_code, wire_code = error_of(exc)
    status = status or ERROR_STATUS.get(code, 400)
    assert exc.response["ResponseMetadata"]["HTTPStatusCode"] == status, exc.response
    if code in MODELED_ERRORS:
        assert shape_code == code, f"expected {code}, got {shape_code} ({exc.response['Error']})"
    else:
        assert code in (shape_code, wire_code), f"expected {code}, got {exc.response['Error']}"
    if query_code is not None:
        assert wire_code == query_code, f"expected x-amzn-query-error {query_code}, got {wire_code}"
        hdr = exc.response["ResponseMetadata"]["HTTPHeaders"].get("x-amzn-query-error", "")
        assert hdr.split(";")[0] == query_code, hdr


def md5_hex(data: bytes | str) -> str:
    if isinstance(data, str):
        data = data.encode("utf-8")
    return hashlib.md5(data).hexdigest()


def md5_of_attributes(attrs: dict[str, dict[str, Any]]) -> str:
    """AWS's MD5OfMessageAttributes, written independently of the server: names sorted; for each
    attribute: 4-byte big-endian length + UTF-8 name, length + data type, one transport byte
    (1 String/Number, 2 Binary), length + value."""
    buf = bytearray()

    def put(b: bytes) -> None:
        buf.extend(struct.pack(">I", len(b)))
        buf.extend(b)

    for name in sorted(attrs):
        a = attrs[name]
        put(name.encode())
        put(a["DataType"].encode())
        if "BinaryValue" in a:
            buf.append(2)
            v = a["BinaryValue"]
            put(v if isinstance(v, bytes) else v.encode())
        else:
            buf.append(1)
            put(a["StringValue"].encode())
    return hashlib.md5(bytes(buf)).hexdigest()


def qattrs(sqs: Any, url: str, *names: str) -> dict[str, str]:
    return dict(sqs.get_queue_attributes(QueueUrl=url, AttributeNames=list(names) or ["All"]).get("Attributes", {}))


def counts(sqs: Any, url: str) -> tuple[int, int, int]:
    a = qattrs(sqs, url, "ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible",
               "ApproximateNumberOfMessagesDelayed")
    return (int(a["ApproximateNumberOfMessages"]), int(a["ApproximateNumberOfMessagesNotVisible"]),
            int(a["ApproximateNumberOfMessagesDelayed"]))


def receive_all(sqs: Any, url: str, max_calls: int = 50, **kwargs: Any) -> list[dict[str, Any]]:
    """Receive (without deleting) until an empty receive; standard queues may return fewer
    messages than are available on any one call."""
    out: list[dict[str, Any]] = []
    empty = 0
    for _ in range(max_calls):
        msgs = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, **kwargs).get("Messages", [])
        if not msgs:
            empty += 1
            if empty >= 2:
                break
            continue
        out.extend(msgs)
    return out


def drain(sqs: Any, url: str, **kwargs: Any) -> list[dict[str, Any]]:
    """Receive and delete everything currently visible."""
    out: list[dict[str, Any]] = []
    empty = 0
    while empty < 2:
        msgs = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, **kwargs).get("Messages", [])
        if not msgs:
            empty += 1
            continue
        out.extend(msgs)
        sqs.delete_message_batch(QueueUrl=url, Entries=[
            {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(msgs)])
    return out


def arn_of(sqs: Any, url: str) -> str:
    return qattrs(sqs, url, "QueueArn")["QueueArn"]
