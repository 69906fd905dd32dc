"""End to end through real botocore clients, with the HTTP hop replaced by our parser and
serializer: the current JSON client, and a query-protocol client built from the overlaid
model (what query-era SDKs and the old AWS CLI speak)."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import botocore.session
import pytest
from botocore.awsrequest import AWSResponse
from botocore.exceptions import ClientError

from postroom import errors
from postroom.protocol.models import merged_model_dict, sqs_model
from postroom.protocol.parse import parse_json_request, parse_query_request
from postroom.protocol.serialize import (
    serialize_json_error,
    serialize_json_response,
    serialize_query_error,
    serialize_query_response,
)
from postroom.protocol.wire_errors import json_error_headers, wire_error

from .support import TRICKY

Handler = Callable[[str, dict[str, Any]], dict[str, Any]]
ATTRS: dict[str, Any] = {
    "s": {"DataType": "String", "StringValue": TRICKY},
    "n": {"DataType": "Number", "StringValue": "1.5"},
    "f": {"DataType": "Number.float", "StringValue": "2"},
    "b": {"DataType": "Binary", "BinaryValue": b"\x00\xff"},
}


class _Raw:
    def __init__(self, body: bytes) -> None:
        self._body = body

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self._body


class Server:
    """Answers each request with ``handler(action, params)`` via our protocol layer."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, dict[str, Any]]] = []
        self.handler: Handler = lambda action, params: {}

    def __call__(self, request: Any, **_: Any) -> AWSResponse:
        body = request.body or b""
        if isinstance(body, str):
            body = body.encode()
        target = request.headers.get("X-Amz-Target")
        rid = "req-42"
        if target is not None:
            action = target.decode().rpartition(".")[2] if isinstance(target, bytes) else target.rpartition(".")[2]
            operation = sqs_model().operation_model(action)
            try:
                params = parse_json_request(operation, body)
                self.seen.append((action, params))
                status, out, headers = 200, serialize_json_response(operation, self.handler(action, params)), {}
            except Exception as exc:
                w = wire_error(exc)
                status, out = w.status, serialize_json_error(w.json_type, w.message)
                headers = {k.decode(): v.decode() for k, v in json_error_headers(w)}
            headers["x-amzn-RequestId"] = rid
        else:
            form = dict(parse_qsl(body.decode(), keep_blank_values=True))
            action = form["Action"]
            operation = sqs_model().operation_model(action)
            try:
                params = parse_query_request(operation, form)
                self.seen.append((action, params))
                status, out = 200, serialize_query_response(operation, self.handler(action, params), rid)
            except Exception as exc:
                w = wire_error(exc)
                status, out = w.status, serialize_query_error(w.query_code, w.query_message, w.sender_fault, rid)
            headers = {}
        return AWSResponse(request.url, status, headers, _Raw(out))  # type: ignore[arg-type]


def _client(session: botocore.session.Session, server: Server) -> Any:
    client = session.create_client("sqs", region_name="us-east-1", endpoint_url="http://localhost:9700",
                                   aws_access_key_id="k", aws_secret_access_key="s")
    client.meta.events.register("before-send", server)
    return client


@pytest.fixture
def server() -> Server:
    return Server()


@pytest.fixture
def json_client(server: Server) -> Any:
    return _client(botocore.session.get_session(), server)


@pytest.fixture(scope="module")
def query_data_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    model = copy.deepcopy(merged_model_dict())
    meta = model["metadata"]
    meta.update(protocol="query", protocols=["query"])
    for key in ("jsonVersion", "targetPrefix", "awsQueryCompatible"):
        meta.pop(key, None)
    root = tmp_path_factory.mktemp("models")
    path = root / "sqs" / "2012-11-05"
    path.mkdir(parents=True)
    (path / "service-2.json").write_text(json.dumps(model))
    return root


@pytest.fixture
def query_client(server: Server, query_data_path: Path) -> Any:
    session = botocore.session.get_session()
    session.set_config_variable("data_path", str(query_data_path))
    client = _client(session, server)
    assert client.meta.service_model.protocol == "query"
    return client


@pytest.fixture(params=["json", "query"])
def client(request: pytest.FixtureRequest, server: Server) -> Any:
    return request.getfixturevalue(f"{request.param}_client")


def test_send_message(client: Any, server: Server) -> None:
    server.handler = lambda a, p: {"MessageId": "m-1", "MD5OfMessageBody": "abc", "MD5OfMessageAttributes": "def"}
    r = client.send_message(QueueUrl="http://localhost:9700/000000000000/q", MessageBody=TRICKY, DelaySeconds=5,
                            MessageAttributes=ATTRS)
    assert server.seen == [("SendMessage", {"QueueUrl": "http://localhost:9700/000000000000/q", "MessageBody": TRICKY,
                                            "DelaySeconds": 5, "MessageAttributes": ATTRS})]
    assert (r["MessageId"], r["MD5OfMessageBody"], r["MD5OfMessageAttributes"]) == ("m-1", "abc", "def")
    assert r["ResponseMetadata"]["RequestId"] == "req-42"


def test_receive_message(client: Any, server: Server) -> None:
    msg = {"MessageId": "m", "ReceiptHandle": "rh", "MD5OfBody": "x", "Body": TRICKY,
           "Attributes": {"SentTimestamp": "1700000000000"}, "MD5OfMessageAttributes": "y", "MessageAttributes": ATTRS}
    server.handler = lambda a, p: {"Messages": [msg, msg]}
    r = client.receive_message(QueueUrl="u", MaxNumberOfMessages=2, AttributeNames=["All"],
                               MessageAttributeNames=["All"], WaitTimeSeconds=0)
    assert server.seen[0][1] == {"QueueUrl": "u", "MaxNumberOfMessages": 2, "AttributeNames": ["All"],
                                 "MessageAttributeNames": ["All"], "WaitTimeSeconds": 0}
    assert r["Messages"] == [msg, msg]


def test_batches_and_queue_calls(client: Any, server: Server) -> None:
    server.handler = lambda a, p: {"Successful": [{"Id": "a", "MessageId": "m", "MD5OfMessageBody": "x"}],
                                   "Failed": [{"Id": "b", "SenderFault": True, "Code": "InvalidParameterValue",
                                               "Message": "bad"}]}
    r = client.send_message_batch(QueueUrl="u", Entries=[{"Id": "a", "MessageBody": "1"},
                                                         {"Id": "b", "MessageBody": "2", "DelaySeconds": 1}])
    assert r["Failed"][0]["SenderFault"] is True and r["Successful"][0]["Id"] == "a"
    server.handler = lambda a, p: {"Attributes": {"VisibilityTimeout": "30", "FifoQueue": "true"}}
    r = client.get_queue_attributes(QueueUrl="u", AttributeNames=["All"])
    assert r["Attributes"] == {"VisibilityTimeout": "30", "FifoQueue": "true"}
    server.handler = lambda a, p: {"QueueUrl": "http://x/1/q"}
    assert client.create_queue(QueueName="q", Attributes={"DelaySeconds": "1"}, tags={"t": "v"})["QueueUrl"] == \
        "http://x/1/q"
    assert server.seen[-1] == ("CreateQueue", {"QueueName": "q", "Attributes": {"DelaySeconds": "1"},
                                               "tags": {"t": "v"}})
    server.handler = lambda a, p: {"QueueUrls": ["http://x/1/a", "http://x/1/b"]}
    assert client.list_queues(QueueNamePrefix="a")["QueueUrls"] == ["http://x/1/a", "http://x/1/b"]
    server.handler = lambda a, p: {}
    client.delete_message(QueueUrl="u", ReceiptHandle="r")
    client.untag_queue(QueueUrl="u", TagKeys=["a", "b"])
    assert server.seen[-1] == ("UntagQueue", {"QueueUrl": "u", "TagKeys": ["a", "b"]})
    server.handler = lambda a, p: {"Results": [{"TaskHandle": "h", "Status": "RUNNING", "SourceArn": "s",
                                                "ApproximateNumberOfMessagesMoved": 3, "StartedTimestamp": 17}]}
    r = client.list_message_move_tasks(SourceArn="s", MaxResults=3)
    assert r["Results"][0]["ApproximateNumberOfMessagesMoved"] == 3


def _raise(exc: Exception) -> Handler:
    def handler(action: str, params: dict[str, Any]) -> dict[str, Any]:
        raise exc
    return handler


def test_modelled_error(client: Any, server: Server) -> None:
    server.handler = _raise(errors.QueueDoesNotExist())
    with pytest.raises(client.exceptions.QueueDoesNotExist) as ei:
        client.get_queue_url(QueueName="nope")
    err = ei.value.response["Error"]
    assert err["Code"] == "AWS.SimpleQueueService.NonExistentQueue"
    # AWS words it per protocol (LocalStack's AWS-validated snapshot test_non_existent_queue)
    wsdl = " for this wsdl version" if client.meta.service_model.protocol == "query" else ""
    assert err["Message"] == f"The specified queue does not exist{wsdl}."
    assert ei.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400


def test_queue_name_exists(client: Any, server: Server) -> None:
    server.handler = _raise(errors.QueueAlreadyExists("differs"))
    with pytest.raises(client.exceptions.QueueNameExists) as ei:
        client.create_queue(QueueName="q")
    assert ei.value.response["Error"]["Code"] == "QueueAlreadyExists"


def test_unmodelled_error(client: Any, server: Server) -> None:
    client.change_message_visibility(QueueUrl="u", ReceiptHandle="r", VisibilityTimeout=-1)
    assert server.seen[-1][1]["VisibilityTimeout"] == -1
    server.handler = _raise(errors.InvalidParameterValue("Value -1 for parameter VisibilityTimeout is invalid."))
    with pytest.raises(ClientError) as ei:
        client.change_message_visibility(QueueUrl="u", ReceiptHandle="r", VisibilityTimeout=-1)
    assert ei.value.response["Error"]["Code"] == "InvalidParameterValue"
    assert ei.value.response["Error"]["Message"] == "Value -1 for parameter VisibilityTimeout is invalid."


def test_internal_error(client: Any, server: Server) -> None:
    server.handler = _raise(RuntimeError("boom"))
    with pytest.raises(ClientError) as ei:
        client.purge_queue(QueueUrl="u")
    assert ei.value.response["Error"]["Code"] == "InternalError"
    assert ei.value.response["ResponseMetadata"]["HTTPStatusCode"] == 500
