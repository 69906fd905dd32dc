"""Wire-level fidelity to AWS SQS (issue #13): the JSON error ``__type`` names, each
protocol's wording, the query protocol on a queue URL (GET included, JSON on request),
AWS's XML for empty results, which batch mistakes fail the whole request and which only
an entry, and MessageAttributeNames selection.

Where a docstring says "LocalStack's AWS-validated snapshot", the behaviour is recorded
from real AWS in localstack/localstack ``tests/aws/services/sqs/test_sqs.snapshot.json``
(or asserted in a test of ``test_sqs.py`` marked ``aws.validated``).
"""

from __future__ import annotations

import json
import time
import xml.etree.ElementTree as ET
from typing import Any

import pytest
import requests
from botocore.exceptions import ClientError

from tests.api.conftest import FAKE_AUTH, NS, REGION, Server, counts, make_client, md5_of_attributes, unique

JSON = "application/x-amz-json-1.0"


def _json(server: Server, action: str, params: dict[str, Any], target: str | None = None) -> requests.Response:
    return requests.post(server.endpoint + "/", data=json.dumps(params).encode(), timeout=30, headers={
        "Content-Type": JSON, "X-Amz-Target": target or f"AmazonSQS.{action}",
        "Authorization": FAKE_AUTH.format(region=REGION)})


def _get(url: str, params: dict[str, str] | None = None, accept: str | None = None,
         region: str = REGION) -> requests.Response:
    headers = {"Authorization": FAKE_AUTH.format(region=region),
               "X-Amz-Date": time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())}
    if accept:
        headers["Accept"] = accept
    return requests.get(url, params=params, headers=headers, timeout=30)


def _xml(r: requests.Response) -> ET.Element:
    return ET.fromstring(r.content)


def _errors(exc: ClientError) -> tuple[str, str, str]:
    """(Error.Code, Error.QueryErrorCode, Error.Message) as botocore reports a JSON error:
    Code is the x-amzn-query-error code, QueryErrorCode the ``__type``'s shape name."""
    err = exc.response["Error"]
    return err["Code"], err.get("QueryErrorCode", ""), err["Message"]


# ---- AWS JSON error shapes ----------------------------------------------------------------


def test_json_missing_queue(server: Server) -> None:
    """AWS answers a missing queue on JSON with ``__type``
    ``com.amazonaws.sqs#QueueDoesNotExist``, "The specified queue does not exist." and
    ``x-amzn-query-error: AWS.SimpleQueueService.NonExistentQueue;Sender`` (LocalStack's
    AWS-validated snapshot test_non_existent_queue)."""
    r = _json(server, "GetQueueUrl", {"QueueName": unique("missing")})
    assert r.status_code == 400
    assert r.json() == {"__type": "com.amazonaws.sqs#QueueDoesNotExist",
                        "message": "The specified queue does not exist."}
    assert r.headers["x-amzn-query-error"] == "AWS.SimpleQueueService.NonExistentQueue;Sender"


def test_json_invalid_parameter_value_is_a_coral_error(server: Server, queue: Any) -> None:
    """InvalidParameterValue is not an SQS error shape: AWS answers it as
    ``com.amazon.coral.service#InvalidParameterValueException`` (observed on AWS, quoted in
    http4k/http4k#1336), with ``x-amzn-query-error: InvalidParameterValue;Sender``; the text
    for MaxNumberOfMessages=11 is LocalStack's AWS-validated snapshot
    test_send_receive_max_number_of_messages."""
    url = queue()
    r = _json(server, "ReceiveMessage", {"QueueUrl": url, "MaxNumberOfMessages": 11})
    assert r.status_code == 400
    assert r.json() == {"__type": "com.amazon.coral.service#InvalidParameterValueException",
                        "message": "Value 11 for parameter MaxNumberOfMessages is invalid. "
                                   "Reason: Must be between 1 and 10, if provided."}
    assert r.headers["x-amzn-query-error"] == "InvalidParameterValue;Sender"


def test_json_missing_parameter_is_missing_required_parameter_exception(sqs: Any, fifo_queue: Any) -> None:
    """SendMessage to a FIFO queue without MessageGroupId: botocore reports Code
    MissingParameter (the query code) and QueryErrorCode MissingRequiredParameterException
    (the ``__type``), "The request must contain the parameter MessageGroupId." (LocalStack's
    AWS-validated snapshot test_posting_to_fifo_requires_deduplicationid_group_id)."""
    url = fifo_queue(ContentBasedDeduplication="true")
    with pytest.raises(ClientError) as ei:
        sqs.send_message(QueueUrl=url, MessageBody="b")
    assert _errors(ei.value) == ("MissingParameter", "MissingRequiredParameterException",
                                 "The request must contain the parameter MessageGroupId.")
    assert counts(sqs, url) == (0, 0, 0)


@pytest.mark.parametrize(("entries", "expected"), [
    ([{"Id": str(i), "MessageBody": "b"} for i in range(20)],
     ("AWS.SimpleQueueService.TooManyEntriesInBatchRequest", "TooManyEntriesInBatchRequest",
      "Maximum number of entries per request are 10. You have sent 20.")),
    ([{"Id": "invalid:id", "MessageBody": "b"}],
     ("AWS.SimpleQueueService.InvalidBatchEntryId", "InvalidBatchEntryId",
      "A batch entry id can only contain alphanumeric characters, hyphens and underscores. "
      "It can be at most 80 letters long.")),
], ids=["too-many", "bad-id"])
def test_json_batch_shape_errors(sqs: Any, queue: Any, entries: list[dict[str, str]],
                                 expected: tuple[str, str, str]) -> None:
    """Batch-shape errors keep their SQS shape names as ``__type`` and their
    ``AWS.SimpleQueueService.*`` query codes (LocalStack's AWS-validated snapshots
    test_too_many_entries_in_batch_request, test_invalid_batch_id)."""
    url = queue()
    with pytest.raises(ClientError) as ei:
        sqs.send_message_batch(QueueUrl=url, Entries=entries)
    assert _errors(ei.value) == expected
    assert ei.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert counts(sqs, url) == (0, 0, 0)


def test_json_queue_name_exists(sqs: Any, queue: Any) -> None:
    """A CreateQueue that differs from the existing queue: QueryErrorCode (``__type``)
    QueueNameExists, Code QueueAlreadyExists, and AWS's text naming the attribute
    (LocalStack's AWS-validated snapshot test_create_queue_with_different_attributes_raises_exception)."""
    name = unique()
    queue(name)
    with pytest.raises(ClientError) as ei:
        sqs.create_queue(QueueName=name, Attributes={"DelaySeconds": "3"})
    code, query_code, _message = _errors(ei.value)
    assert (code, query_code) == ("QueueAlreadyExists", "QueueNameExists")


@pytest.mark.parametrize("body", [b"{not json", b"[1, 2]"])
def test_json_body_that_is_not_an_object(server: Server, body: bytes) -> None:
    """A body that is not a JSON object is refused by AWS's JSON front end as
    ``com.amazon.coral.service#SerializationException`` with query code MalformedInput
    (recorded against AWS by the pail project's test/diff)."""
    r = requests.post(server.endpoint + "/", data=body, timeout=30, headers={
        "Content-Type": JSON, "X-Amz-Target": "AmazonSQS.ListQueues",
        "Authorization": FAKE_AUTH.format(region=REGION)})
    assert r.status_code == 400
    assert r.json()["__type"] == "com.amazon.coral.service#SerializationException"
    assert r.headers["x-amzn-query-error"] == "MalformedInput;Sender"


def test_bad_receipt_handle_is_404(sqs: Any, queue: Any, query: Any) -> None:
    """ReceiptHandleIsInvalid is HTTP 404 (``smithy.api#httpError: 404`` in AWS's SQS
    model; observed by the pail project's AWS recordings), worded 'The input receipt handle
    "garbage" is not a valid receipt handle.' (LocalStack's AWS-validated
    test_delete_message_with_illegal_receipt_handle), on both protocols."""
    url = queue()
    with pytest.raises(ClientError) as ei:
        sqs.delete_message(QueueUrl=url, ReceiptHandle="garbage")
    assert ei.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404
    assert _errors(ei.value) == ("ReceiptHandleIsInvalid", "ReceiptHandleIsInvalid",
                                 'The input receipt handle "garbage" is not a valid receipt handle.')
    r = query("DeleteMessage", {"QueueUrl": url, "ReceiptHandle": "garbage"})
    assert (r.status, r.error_code) == (404, "ReceiptHandleIsInvalid")


def test_json_unknown_target(server: Server) -> None:
    """An ``X-Amz-Target`` naming no SQS operation is refused by AWS's JSON front end with
    400 ``com.amazon.coral.service#UnknownOperationException`` and query code InvalidAction
    (recorded against AWS by the pail project's test/diff)."""
    r = _json(server, "NoSuchAction", {})
    assert r.status_code == 400
    assert r.json()["__type"] == "com.amazon.coral.service#UnknownOperationException"
    assert r.headers["x-amzn-query-error"] == "InvalidAction;Sender"


# ---- query protocol wording ---------------------------------------------------------------


def test_query_missing_queue_says_wsdl_version(query: Any, server: Server) -> None:
    """On the query protocol AWS words a missing queue "The specified queue does not exist
    for this wsdl version." (LocalStack's AWS-validated snapshot test_non_existent_queue)."""
    r = query("GetQueueAttributes", {"QueueUrl": f"{server.endpoint}/{server.account_id}/{unique('gone')}",
                                     "AttributeName.1": "All"})
    assert r.status == 400
    assert r.error_code == "AWS.SimpleQueueService.NonExistentQueue"
    assert r.findtext("q:Error/q:Message") == "The specified queue does not exist for this wsdl version."


# ---- query on a queue URL, GET included ----------------------------------------------------


def test_get_on_queue_url_works_for_queue_actions(sqs: Any, queue: Any) -> None:
    """AWS serves SendMessage, ReceiveMessage and GetQueueAttributes as GET requests on the
    queue URL, which stands for QueueUrl (LocalStack's AWS-validated
    test_get_send_and_receive_messages)."""
    url = queue()
    assert _get(url, {"Action": "SendMessage", "MessageBody": "foobar"}).status_code == 200
    r = _get(url, {"Action": "ReceiveMessage"})
    assert r.status_code == 200
    assert _xml(r).findtext("q:ReceiveMessageResult/q:Message/q:Body", namespaces=NS) == "foobar"
    r = _get(url, {"Action": "GetQueueAttributes", "AttributeName.1": "All"})
    assert r.status_code == 200
    names = [a.findtext("q:Name", namespaces=NS)
             for a in _xml(r).findall("q:GetQueueAttributesResult/q:Attribute", NS)]
    assert "QueueArn" in names


def test_get_delete_queue_on_queue_url(sqs: Any) -> None:
    """DeleteQueue works as a GET on the queue URL (LocalStack's AWS-validated test_get_delete_queue)."""
    url = sqs.create_queue(QueueName=unique())["QueueUrl"]
    r = _get(url, {"Action": "DeleteQueue"})
    assert r.status_code == 200
    assert b"<DeleteQueueResponse " in r.content
    with pytest.raises(ClientError):
        sqs.get_queue_attributes(QueueUrl=url)


def test_get_on_a_path_style_queue_url_of_another_region(server: Server) -> None:
    """A queue of another region is addressed ``/queue/<region>/<account>/<name>``; its URL
    takes query GETs like any queue URL, and without an Action it is
    ``404 <UnknownOperationException/>`` too."""
    other = make_client(server.endpoint, region="eu-west-1")
    url = other.create_queue(QueueName=unique())["QueueUrl"]
    try:
        assert "/queue/eu-west-1/" in url
        r = _get(url, {"Action": "GetQueueAttributes", "AttributeName.1": "QueueArn"}, region="eu-west-1")
        assert r.status_code == 200, r.text
        arn = _xml(r).findtext("q:GetQueueAttributesResult/q:Attribute/q:Value", namespaces=NS)
        assert arn is not None and arn.startswith("arn:aws:sqs:eu-west-1:")
        assert _get(url, region="eu-west-1").status_code == 404
    finally:
        other.delete_queue(QueueUrl=url)


@pytest.mark.parametrize("accept", [None, "application/json"])
def test_queue_url_without_action_is_unknown_operation(queue: Any, accept: str | None) -> None:
    """A request to a queue URL without an Action: AWS answers 404
    ``<UnknownOperationException/>``, in XML even when JSON was asked for (LocalStack's
    AWS-validated test_get_without_query_returns_unknown_operation and
    test_get_without_query_json_format_returns_returns_xml)."""
    r = _get(queue(), accept=accept)
    assert r.status_code == 404
    assert b"<UnknownOperationException" in r.content


@pytest.mark.parametrize("method", ["GET", "POST"])
@pytest.mark.parametrize("action", ["CreateQueue", "ListQueues"])
def test_queueless_actions_are_invalid_on_a_queue_url(sqs: Any, queue: Any, query: Any, method: str,
                                                      action: str) -> None:
    """CreateQueue and ListQueues name no queue, so AWS refuses them on a queue URL:
    InvalidAction "The action CreateQueue is not valid for this endpoint." (400)
    (LocalStack's AWS-validated test_get_create_queue_fails, test_get_list_queues_fails).
    Nothing is created."""
    url = queue()
    new_name = unique("never")
    r = query(action, {"QueueName": new_name}, path="/" + url.split("/", 3)[3], method=method)
    assert r.status == 400
    assert r.error_code == "InvalidAction"
    assert r.findtext("q:Error/q:Message") == f"The action {action} is not valid for this endpoint."
    assert not sqs.list_queues(QueueNamePrefix=new_name).get("QueueUrls")


def test_get_queue_url_for_another_queue_on_a_queue_url(queue: Any) -> None:
    """GetQueueUrl on one queue's URL answers for the queue it names, even another one
    (LocalStack's AWS-validated test_get_queue_url_work_for_different_queue)."""
    first, second = queue(), queue()
    r = _get(first, {"Action": "GetQueueUrl", "QueueName": second.rsplit("/", 1)[1]})
    assert r.status_code == 200
    assert _xml(r).findtext("q:GetQueueUrlResult/q:QueueUrl", namespaces=NS) == second


def test_queue_url_parameter_overrides_the_path(queue: Any) -> None:
    """A QueueUrl parameter wins over the queue URL the request was sent to (LocalStack's
    AWS-validated test_overwrite_queue_url_in_params)."""
    first, second = queue(), queue()
    r = _get(first, {"Action": "GetQueueAttributes", "QueueUrl": second, "AttributeName.1": "QueueArn"})
    assert r.status_code == 200
    arn = _xml(r).findtext("q:GetQueueAttributesResult/q:Attribute/q:Value", namespaces=NS)
    assert arn is not None and arn.endswith(":" + second.rsplit("/", 1)[1])


def test_query_answers_json_when_asked(queue: Any) -> None:
    """With ``Accept: application/json`` AWS answers a query request with the XML
    document's structure in JSON: ``GetQueueAttributesResponse.GetQueueAttributesResult.
    Attributes`` is a list of ``{"Name", "Value"}`` (LocalStack's AWS-validated
    test_get_queue_attributes_json_format)."""
    url = queue()
    r = _get(url, {"Action": "GetQueueAttributes", "AttributeName.1": "All"}, accept="application/json")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("application/json")
    doc = r.json()
    attributes = doc["GetQueueAttributesResponse"]["GetQueueAttributesResult"]["Attributes"]
    arns = [a["Value"] for a in attributes if a["Name"] == "QueueArn"]
    assert len(arns) == 1 and arns[0].endswith(":" + url.rsplit("/", 1)[1])
    assert doc["GetQueueAttributesResponse"]["ResponseMetadata"]["RequestId"]


def test_query_errors_in_json_when_asked(queue: Any) -> None:
    """Errors too: ``{"Error": {"Code": "InvalidAction", "Message": "The action ListQueues is
    not valid for this endpoint."}}`` with 400 (LocalStack's AWS-validated
    test_get_list_queues_fails_json_format)."""
    r = _get(queue(), {"Action": "ListQueues"}, accept="application/json")
    assert r.status_code == 400
    doc = r.json()
    assert doc["Error"]["Code"] == "InvalidAction"
    assert doc["Error"]["Message"] == "The action ListQueues is not valid for this endpoint."
    assert doc["Error"]["Type"] == "Sender"


def test_query_json_receive_carries_messages_and_attributes(sqs: Any, queue: Any) -> None:
    """A JSON-rendered ReceiveMessage keeps member names (``Messages``, ``Body``) and writes
    maps as Name/Value lists, like GetQueueAttributes' ``Attributes``."""
    url = queue()
    sqs.send_message(QueueUrl=url, MessageBody="hi",
                     MessageAttributes={"k": {"DataType": "String", "StringValue": "v"}})
    r = _get(url, {"Action": "ReceiveMessage", "MessageAttributeName.1": "All"}, accept="application/json")
    assert r.status_code == 200
    (message,) = r.json()["ReceiveMessageResponse"]["ReceiveMessageResult"]["Messages"]
    assert message["Body"] == "hi"
    assert message["MessageAttributes"] == [{"Name": "k", "Value": {"StringValue": "v", "DataType": "String"}}]


def test_empty_results_are_empty_elements(queue: Any, query: Any) -> None:
    """AWS writes an empty result as one empty element: ``<ReceiveMessageResult/>`` for a
    receive that found nothing (LocalStack's AWS-validated test_get_send_and_receive_messages),
    and likewise ``<ListQueuesResult/>``."""
    r = _get(queue(), {"Action": "ReceiveMessage"})
    assert r.status_code == 200
    assert b"<ReceiveMessageResult/>" in r.content
    listed = query("ListQueues", {"QueueNamePrefix": unique("none-such")})
    assert listed.status == 200
    assert "<ListQueuesResult/>" in listed.text


# ---- batches: whole request or one entry ---------------------------------------------------


def test_fifo_batch_entry_without_group_fails_the_whole_request(sqs: Any, fifo_queue: Any) -> None:
    """SendMessageBatch to a FIFO queue with an entry lacking MessageGroupId: AWS fails the
    whole request with InvalidParameterValue "The request must contain the parameter
    MessageGroupId." — not the entry, and not MissingParameter as a single SendMessage does
    (LocalStack's AWS-validated snapshot test_send_batch_missing_message_group_id_for_fifo_queue).
    The valid entries are not sent either."""
    url = fifo_queue(ContentBasedDeduplication="true")
    with pytest.raises(ClientError) as ei:
        sqs.send_message_batch(QueueUrl=url, Entries=[
            {"Id": "ok", "MessageBody": "a", "MessageGroupId": "g"},
            {"Id": "bad", "MessageBody": "b"}])
    assert _errors(ei.value) == ("InvalidParameterValue", "InvalidParameterValueException",
                                 "The request must contain the parameter MessageGroupId.")
    assert counts(sqs, url) == (0, 0, 0)


def test_fifo_batch_entry_without_dedup_id_fails_the_whole_request(sqs: Any, fifo_queue: Any) -> None:
    """Without ContentBasedDeduplication, an entry lacking MessageDeduplicationId fails the
    whole SendMessageBatch: InvalidParameterValue "The queue should either have
    ContentBasedDeduplication enabled or MessageDeduplicationId provided explicitly"
    (LocalStack's AWS-validated snapshot test_send_batch_missing_deduplication_id_for_fifo_queue)."""
    url = fifo_queue()
    with pytest.raises(ClientError) as ei:
        sqs.send_message_batch(QueueUrl=url, Entries=[
            {"Id": "ok", "MessageBody": "a", "MessageGroupId": "g", "MessageDeduplicationId": "d"},
            {"Id": "bad", "MessageBody": "b", "MessageGroupId": "g"}])
    assert _errors(ei.value) == ("InvalidParameterValue", "InvalidParameterValueException",
                                 "The queue should either have ContentBasedDeduplication enabled or "
                                 "MessageDeduplicationId provided explicitly")
    assert counts(sqs, url) == (0, 0, 0)


def test_fifo_batch_shape_errors_come_first(sqs: Any, fifo_queue: Any) -> None:
    """The batch's shape is checked before its entries: 11 entries without MessageGroupId
    are TooManyEntriesInBatchRequest (AWS API Reference › SendMessageBatch)."""
    url = fifo_queue(ContentBasedDeduplication="true")
    with pytest.raises(ClientError) as ei:
        sqs.send_message_batch(QueueUrl=url, Entries=[{"Id": str(i), "MessageBody": "b"} for i in range(11)])
    assert _errors(ei.value)[0] == "AWS.SimpleQueueService.TooManyEntriesInBatchRequest"


def test_standard_batch_entry_with_fifo_parameter_fails_only_that_entry(sqs: Any, queue: Any) -> None:
    """On a standard queue an entry carrying MessageDeduplicationId fails alone, in
    ``Failed`` with SenderFault true and Code InvalidParameterValue, while the others are
    sent (observed on AWS: aws/aws-sdk-js#3187 shows such a ``Failed`` entry)."""
    url = queue()
    out = sqs.send_message_batch(QueueUrl=url, Entries=[
        {"Id": "ok", "MessageBody": "a"},
        {"Id": "bad", "MessageBody": "b", "MessageDeduplicationId": "d"}])
    assert [s["Id"] for s in out["Successful"]] == ["ok"]
    (failed,) = out["Failed"]
    assert (failed["Id"], failed["SenderFault"], failed["Code"]) == ("bad", True, "InvalidParameterValue")
    assert "MessageDeduplicationId" in failed["Message"]
    assert counts(sqs, url)[0] == 1


@pytest.mark.parametrize("action", ["delete", "change_visibility"])
def test_bad_receipt_handle_fails_only_its_entry(sqs: Any, queue: Any, action: str) -> None:
    """DeleteMessageBatch and ChangeMessageVisibilityBatch report an invalid receipt handle
    per entry (``Failed``: Id, SenderFault true, Code ReceiptHandleIsInvalid) and act on the
    other entries (AWS API Reference › DeleteMessageBatch: "the result of the action on each
    message is reported individually")."""
    url = queue()
    sqs.send_message(QueueUrl=url, MessageBody="b")
    handle = sqs.receive_message(QueueUrl=url, VisibilityTimeout=30)["Messages"][0]["ReceiptHandle"]
    if action == "delete":
        out = sqs.delete_message_batch(QueueUrl=url, Entries=[
            {"Id": "good", "ReceiptHandle": handle}, {"Id": "bad", "ReceiptHandle": "garbage"}])
    else:
        out = sqs.change_message_visibility_batch(QueueUrl=url, Entries=[
            {"Id": "good", "ReceiptHandle": handle, "VisibilityTimeout": 0},
            {"Id": "bad", "ReceiptHandle": "garbage", "VisibilityTimeout": 0}])
    assert [s["Id"] for s in out["Successful"]] == ["good"]
    (failed,) = out["Failed"]
    assert (failed["Id"], failed["SenderFault"], failed["Code"]) == ("bad", True, "ReceiptHandleIsInvalid")
    assert "garbage" in failed["Message"]
    assert counts(sqs, url) == ((0, 0, 0) if action == "delete" else (1, 0, 0))


# ---- MessageAttributeNames ----------------------------------------------------------------

FILTER_ATTRS = {"General": {"DataType": "String", "StringValue": "Kenobi"},
                "Hello": {"DataType": "String", "StringValue": "There"},
                "Help.Me": {"DataType": "String", "StringValue": "Me"}}


@pytest.mark.parametrize(("names", "expected"), [
    (["All"], {"General", "Hello", "Help.Me"}),
    (["*"], {"General", "Hello", "Help.Me"}),
    ([".*"], {"General", "Hello", "Help.Me"}),
    (["Foo", "Help"], set()),
    (["Hello", "General"], {"General", "Hello"}),
    (["Foo", "Hello"], {"Hello"}),
    (["Hel.*"], {"Hello", "Help.Me"}),
    (["AWS."], None),
    (["..foo"], None),
])
def test_message_attribute_names_filters(sqs: Any, queue: Any, names: list[str], expected: set[str] | None) -> None:
    """AWS's selection, case by case as recorded in LocalStack's AWS-validated snapshot
    test_receive_message_message_attribute_names_filters: ``All``, ``*`` and ``.*`` select
    everything; ``Hel.*`` is the name prefix ``Hel``; names matching nothing give
    ``"MessageAttributes": {}`` and no MD5; invalid names are ignored without error."""
    url = queue()
    sqs.send_message(QueueUrl=url, MessageBody="msg", MessageAttributes=FILTER_ATTRS)
    m = sqs.receive_message(QueueUrl=url, MessageAttributeNames=names, VisibilityTimeout=0)["Messages"][0]
    if expected is None:
        assert "MessageAttributes" not in m
    else:
        assert set(m["MessageAttributes"]) == expected
    if expected:
        assert m["MD5OfMessageAttributes"] == md5_of_attributes({k: FILTER_ATTRS[k] for k in expected})
    else:
        assert "MD5OfMessageAttributes" not in m


def test_accented_attribute_names_are_accepted(sqs: Any, queue: Any) -> None:
    """AWS accepts accented Latin letters in message attribute names, though its docs list
    only A-Z a-z 0-9 _ - . (LocalStack, validated against AWS: "umlauts seem to be
    allowed"); the MD5 is computed over the UTF-8 name."""
    url = queue()
    attrs = {"Größe": {"DataType": "Number", "StringValue": "42"},
             "café.crème": {"DataType": "String", "StringValue": "noir"}}
    sent = sqs.send_message(QueueUrl=url, MessageBody="b", MessageAttributes=attrs)
    assert sent["MD5OfMessageAttributes"] == md5_of_attributes(attrs)
    m = sqs.receive_message(QueueUrl=url, MessageAttributeNames=["Grö.*", "café.crème"])["Messages"][0]
    assert m["MessageAttributes"] == attrs


def test_non_latin_attribute_names_are_refused(sqs: Any, queue: Any) -> None:
    """Letters outside the Latin ranges AWS accepts are refused with InvalidParameterValue,
    and nothing is sent."""
    url = queue()
    with pytest.raises(ClientError) as ei:
        sqs.send_message(QueueUrl=url, MessageBody="b",
                         MessageAttributes={"名前": {"DataType": "String", "StringValue": "v"}})
    assert ei.value.response["Error"]["Code"] == "InvalidParameterValue"
    assert counts(sqs, url) == (0, 0, 0)


@pytest.mark.parametrize("action", ["SendMessageBatch", "DeleteMessageBatch", "ChangeMessageVisibilityBatch"])
def test_empty_batch_names_its_entry_type(query: Any, queue: Any, action: str) -> None:
    """AWS's EmptyBatchRequest text names the action's entry type, e.g. "There should be at least
    one SendMessageBatchRequestEntry in the request." (moto and LocalStack reproduce AWS's text)."""
    url = queue()
    r = query(action, {"QueueUrl": url})
    assert r.status == 400, r.text
    assert r.findtext("q:Error/q:Code") == "AWS.SimpleQueueService.EmptyBatchRequest"
    assert r.findtext("q:Error/q:Message") == f"There should be at least one {action}RequestEntry in the request."
