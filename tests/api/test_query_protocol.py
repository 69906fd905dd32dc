"""The AWS query protocol (form-encoded requests, XML responses), spoken raw."""

from __future__ import annotations

import base64

from tests.api.conftest import NS_URI, md5_hex, md5_of_attributes, unique


def _create(query, name=None, **attrs):
    name = name or unique()
    params = {"QueueName": name}
    for i, (k, v) in enumerate(attrs.items(), 1):
        params[f"Attribute.{i}.Name"] = k
        params[f"Attribute.{i}.Value"] = str(v)
    r = query("CreateQueue", params)
    assert r.status == 200, r.text
    return name, r.findtext("q:CreateQueueResult/q:QueueUrl")


def test_create_queue_response(query, server):
    name = unique()
    status, root = query("CreateQueue", {"QueueName": name})
    assert status == 200
    assert root.tag == f"{{{NS_URI}}}CreateQueueResponse"
    r = query("GetQueueUrl", {"QueueName": name})
    assert r.status == 200
    assert r.findtext("q:GetQueueUrlResult/q:QueueUrl") == f"{server.endpoint}/{server.account_id}/{name}"
    assert r.findtext("q:ResponseMetadata/q:RequestId")
    assert r.headers["Content-Type"].startswith(("text/xml", "application/xml"))


def test_send_receive_delete(query):
    _, url = _create(query)
    body = "<xml> & \"quotes\" 'apos' ü"
    r = query("SendMessage", {"QueueUrl": url, "MessageBody": body,
                              "MessageAttribute.1.Name": "color",
                              "MessageAttribute.1.Value.DataType": "String",
                              "MessageAttribute.1.Value.StringValue": "red",
                              "MessageAttribute.2.Name": "bin",
                              "MessageAttribute.2.Value.DataType": "Binary",
                              "MessageAttribute.2.Value.BinaryValue": base64.b64encode(b"\x00\x01").decode()})
    assert r.status == 200, r.text
    assert r.root.tag == f"{{{NS_URI}}}SendMessageResponse"
    res = r.find("q:SendMessageResult")
    assert res is not None
    mid = res.findtext("q:MessageId", namespaces={"q": NS_URI})
    assert mid
    assert res.findtext("q:MD5OfMessageBody", namespaces={"q": NS_URI}) == md5_hex(body)
    expected_md5 = md5_of_attributes({"color": {"DataType": "String", "StringValue": "red"},
                                      "bin": {"DataType": "Binary", "BinaryValue": b"\x00\x01"}})
    assert res.findtext("q:MD5OfMessageAttributes", namespaces={"q": NS_URI}) == expected_md5

    r = query("ReceiveMessage", {"QueueUrl": url, "AttributeName.1": "All", "MessageAttributeName.1": "All",
                                 "MaxNumberOfMessages": 10})
    assert r.status == 200, r.text
    msgs = r.findall("q:ReceiveMessageResult/q:Message")
    assert len(msgs) == 1
    m = msgs[0]
    ns = {"q": NS_URI}
    assert m.findtext("q:MessageId", namespaces=ns) == mid
    assert m.findtext("q:Body", namespaces=ns) == body
    assert m.findtext("q:MD5OfBody", namespaces=ns) == md5_hex(body)
    assert m.findtext("q:MD5OfMessageAttributes", namespaces=ns) == expected_md5
    attrs = {a.findtext("q:Name", namespaces=ns): a.findtext("q:Value", namespaces=ns)
             for a in m.findall("q:Attribute", ns)}
    assert attrs["ApproximateReceiveCount"] == "1"
    assert attrs["SentTimestamp"].isdigit()
    mattrs = {a.findtext("q:Name", namespaces=ns): a for a in m.findall("q:MessageAttribute", ns)}
    assert mattrs["color"].findtext("q:Value/q:StringValue", namespaces=ns) == "red"
    assert mattrs["color"].findtext("q:Value/q:DataType", namespaces=ns) == "String"
    assert base64.b64decode(mattrs["bin"].findtext("q:Value/q:BinaryValue", namespaces=ns)) == b"\x00\x01"
    handle = m.findtext("q:ReceiptHandle", namespaces=ns)
    r = query("DeleteMessage", {"QueueUrl": url, "ReceiptHandle": handle})
    assert r.status == 200, r.text
    assert r.root.tag == f"{{{NS_URI}}}DeleteMessageResponse"
    r = query("ReceiveMessage", {"QueueUrl": url, "VisibilityTimeout": 0})
    assert r.findall("q:ReceiveMessageResult/q:Message") == []


def test_post_to_queue_path_without_queue_url(query, server):
    name, _url = _create(query)
    r = query("SendMessage", {"MessageBody": "via path"}, path=f"/{server.account_id}/{name}")
    assert r.status == 200, r.text
    assert r.findtext("q:SendMessageResult/q:MessageId")
    r = query("ReceiveMessage", {}, path=f"/{server.account_id}/{name}")
    assert r.findtext("q:ReceiveMessageResult/q:Message/q:Body") == "via path"


def test_get_queue_attributes_xml(query):
    _, url = _create(query, VisibilityTimeout=42)
    r = query("GetQueueAttributes", {"QueueUrl": url, "AttributeName.1": "All"})
    assert r.status == 200, r.text
    ns = {"q": NS_URI}
    attrs = {a.findtext("q:Name", namespaces=ns): a.findtext("q:Value", namespaces=ns)
             for a in r.findall("q:GetQueueAttributesResult/q:Attribute")}
    assert attrs["VisibilityTimeout"] == "42"
    assert attrs["QueueArn"].startswith("arn:aws:sqs:us-east-1:")


def test_region_from_credential_scope(query):
    name = unique()
    r = query("CreateQueue", {"QueueName": name}, region="ap-southeast-2")
    url = r.findtext("q:CreateQueueResult/q:QueueUrl")
    r = query("GetQueueAttributes", {"QueueUrl": url, "AttributeName.1": "QueueArn"}, region="ap-southeast-2")
    assert r.findtext("q:GetQueueAttributesResult/q:Attribute/q:Value").startswith("arn:aws:sqs:ap-southeast-2:")


def test_send_message_batch_xml(query):
    _, url = _create(query)
    params = {"QueueUrl": url}
    for i in range(1, 4):
        params[f"SendMessageBatchRequestEntry.{i}.Id"] = f"e{i}"
        params[f"SendMessageBatchRequestEntry.{i}.MessageBody"] = f"b{i}"
    params["SendMessageBatchRequestEntry.3.DelaySeconds"] = "901"
    r = query("SendMessageBatch", params)
    assert r.status == 200, r.text
    ok = r.findall("q:SendMessageBatchResult/q:SendMessageBatchResultEntry")
    assert sorted(e.findtext("q:Id", namespaces={"q": NS_URI}) for e in ok) == ["e1", "e2"]
    failed = r.findall("q:SendMessageBatchResult/q:BatchResultErrorEntry")
    assert [e.findtext("q:Id", namespaces={"q": NS_URI}) for e in failed] == ["e3"]
    assert failed[0].findtext("q:SenderFault", namespaces={"q": NS_URI}) == "true"


def test_nonexistent_queue_error_xml(query, server):
    r = query("SendMessage", {"QueueUrl": f"{server.endpoint}/{server.account_id}/{unique('nope')}",
                              "MessageBody": "x"})
    assert r.status == 400
    assert r.root.tag == f"{{{NS_URI}}}ErrorResponse"
    assert r.findtext("q:Error/q:Code") == "AWS.SimpleQueueService.NonExistentQueue"
    assert r.findtext("q:Error/q:Type") == "Sender"
    assert r.findtext("q:Error/q:Message")
    assert r.findtext("q:RequestId")


def test_queue_already_exists_error_code(query):
    name, _ = _create(query, VisibilityTimeout=10)
    r = query("CreateQueue", {"QueueName": name, "Attribute.1.Name": "VisibilityTimeout",
                              "Attribute.1.Value": "11"})
    assert r.status == 400
    assert r.error_code == "QueueAlreadyExists"


def test_unknown_action(query):
    r = query("FlyToTheMoon", {})
    assert r.status == 400
    assert r.error_code == "InvalidAction"


def test_missing_action(query):
    r = query(None, {"QueueName": "x"})
    assert 400 <= r.status < 500


def test_missing_parameter(query):
    r = query("CreateQueue", {})
    assert r.status == 400
    assert r.error_code == "MissingParameter"


def test_invalid_parameter_value(query):
    _, url = _create(query)
    r = query("ReceiveMessage", {"QueueUrl": url, "MaxNumberOfMessages": 11})
    assert r.status == 400
    assert r.error_code == "InvalidParameterValue"


def test_batch_error_codes_in_query(query):
    _, url = _create(query)
    r = query("DeleteMessageBatch", {"QueueUrl": url})
    assert r.status == 400
    assert r.error_code == "AWS.SimpleQueueService.EmptyBatchRequest"
    params = {"QueueUrl": url}
    for i in (1, 2):
        params[f"SendMessageBatchRequestEntry.{i}.Id"] = "same"
        params[f"SendMessageBatchRequestEntry.{i}.MessageBody"] = "x"
    r = query("SendMessageBatch", params)
    assert r.status == 400
    assert r.error_code == "AWS.SimpleQueueService.BatchEntryIdsNotDistinct"


def test_get_request(query):
    name, _ = _create(query)
    r = query("ListQueues", {"QueueNamePrefix": name}, method="GET")
    assert r.status == 200, r.text
    assert next(e.text for e in r.findall("q:ListQueuesResult/q:QueueUrl")).endswith("/" + name)


def test_list_queues_and_tags_xml(query):
    name, url = _create(query)
    r = query("TagQueue", {"QueueUrl": url, "Tag.1.Key": "team", "Tag.1.Value": "core"})
    assert r.status == 200, r.text
    r = query("ListQueueTags", {"QueueUrl": url})
    tags = {t.findtext("q:Key", namespaces={"q": NS_URI}): t.findtext("q:Value", namespaces={"q": NS_URI})
            for t in r.findall("q:ListQueueTagsResult/q:Tag")}
    assert tags == {"team": "core"}
    r = query("ListQueues", {"QueueNamePrefix": name})
    assert [e.text for e in r.findall("q:ListQueuesResult/q:QueueUrl")] == [url]


def test_json_and_query_see_the_same_queue(query, sqs):
    _, url = _create(query)
    sqs.send_message(QueueUrl=url, MessageBody="from json")
    r = query("ReceiveMessage", {"QueueUrl": url})
    assert r.findtext("q:ReceiveMessageResult/q:Message/q:Body") == "from json"


def test_visibility_and_batch_delete_xml(query):
    _, url = _create(query)
    for i in range(2):
        query("SendMessage", {"QueueUrl": url, "MessageBody": f"m{i}"})
    handles = []
    for _ in range(5):
        r = query("ReceiveMessage", {"QueueUrl": url, "MaxNumberOfMessages": 10})
        handles += [e.text for e in r.findall("q:ReceiveMessageResult/q:Message/q:ReceiptHandle")]
        if len(handles) == 2:
            break
    assert len(handles) == 2
    r = query("ChangeMessageVisibility", {"QueueUrl": url, "ReceiptHandle": handles[0], "VisibilityTimeout": 60})
    assert r.status == 200, r.text
    assert r.root.tag == f"{{{NS_URI}}}ChangeMessageVisibilityResponse"
    r = query("DeleteMessageBatch", {"QueueUrl": url,
                                     "DeleteMessageBatchRequestEntry.1.Id": "a",
                                     "DeleteMessageBatchRequestEntry.1.ReceiptHandle": handles[0],
                                     "DeleteMessageBatchRequestEntry.2.Id": "b",
                                     "DeleteMessageBatchRequestEntry.2.ReceiptHandle": handles[1],
                                     "DeleteMessageBatchRequestEntry.3.Id": "c",
                                     "DeleteMessageBatchRequestEntry.3.ReceiptHandle": "garbage"})
    assert r.status == 200, r.text
    ok = [e.findtext("q:Id", namespaces={"q": NS_URI})
          for e in r.findall("q:DeleteMessageBatchResult/q:DeleteMessageBatchResultEntry")]
    assert sorted(ok) == ["a", "b"]
    bad = r.findall("q:DeleteMessageBatchResult/q:BatchResultErrorEntry")
    assert [e.findtext("q:Code", namespaces={"q": NS_URI}) for e in bad] == ["ReceiptHandleIsInvalid"]
    r = query("GetQueueAttributes", {"QueueUrl": url, "AttributeName.1": "ApproximateNumberOfMessagesNotVisible"})
    assert r.findtext("q:GetQueueAttributesResult/q:Attribute/q:Value") == "0"


def test_invalid_attribute_name_xml(query):
    _, url = _create(query)
    r = query("GetQueueAttributes", {"QueueUrl": url, "AttributeName.1": "Bogus"})
    assert r.status == 400
    assert r.error_code == "InvalidAttributeName"


def test_purge_via_queue_path(query, server):
    name, url = _create(query)
    query("SendMessage", {"QueueUrl": url, "MessageBody": "x"})
    r = query("PurgeQueue", {}, path=f"/{server.account_id}/{name}")
    assert r.status == 200, r.text
    r = query("ReceiveMessage", {"QueueUrl": url})
    assert r.findall("q:ReceiveMessageResult/q:Message") == []
