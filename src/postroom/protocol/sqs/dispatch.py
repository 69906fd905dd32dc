"""One request in, one response out: recognise the protocol, parse with the service
model, call the handler, serialise the result or the error in that protocol's shape.

AWS SQS accepts both protocols on one endpoint: AWS JSON 1.0 (``X-Amz-Target:
AmazonSQS.<Action>``) and the query protocol (``Action=<Action>&Version=2012-11-05``,
form-encoded in a POST body or in a GET query string).

A query request may also be sent to a queue URL's own path (``GET
/000000000000/q?Action=ReceiveMessage``, or ``/queue/<region>/<account>/<name>`` for a
queue of another region), which then stands for ``QueueUrl`` unless the
request names one itself. As AWS answers there (LocalStack's AWS-validated
``TestSqsQueryApi``): a request without an ``Action`` is ``404 <UnknownOperationException/>``;
``CreateQueue`` and ``ListQueues``, which name no queue, are ``InvalidAction`` "The action
ListQueues is not valid for this endpoint."; every other action works, ``GetQueueUrl``
even for another queue's name. A query request with ``Accept: application/json`` is
answered with the same document in JSON.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from botocore.model import OperationModel

from postroom.errors import InvalidAction, PostroomError
from postroom.ids import new_uuid
from postroom.protocol.http import XML_CONTENT_TYPE, Request, Response, parse_form
from postroom.protocol.models import sqs_model
from postroom.protocol.parse import parse_json_request, parse_query_request
from postroom.protocol.serialize import (
    serialize_json_error,
    serialize_json_response,
    serialize_query_error,
    serialize_query_json_error,
    serialize_query_json_response,
    serialize_query_response,
)
from postroom.protocol.sqs import messages as m
from postroom.protocol.sqs import queues as q
from postroom.protocol.sqs.handler_support import Services
from postroom.protocol.wire_errors import UNKNOWN_OPERATION_TYPE, WireError, json_error_headers, wire_error
from postroom.service.context import RequestContext

log = logging.getLogger("postroom.protocol")

Handler = Callable[[Services, RequestContext, Mapping[str, Any]], Awaitable[dict[str, Any]]]

HANDLERS: dict[str, Handler] = {
    "CreateQueue": q.create_queue,
    "GetQueueUrl": q.get_queue_url,
    "ListQueues": q.list_queues,
    "DeleteQueue": q.delete_queue,
    "GetQueueAttributes": q.get_queue_attributes,
    "SetQueueAttributes": q.set_queue_attributes,
    "TagQueue": q.tag_queue,
    "UntagQueue": q.untag_queue,
    "ListQueueTags": q.list_queue_tags,
    "ListDeadLetterSourceQueues": q.list_dead_letter_source_queues,
    "AddPermission": q.add_permission,
    "RemovePermission": q.remove_permission,
    "StartMessageMoveTask": q.start_message_move_task,
    "ListMessageMoveTasks": q.list_message_move_tasks,
    "CancelMessageMoveTask": q.cancel_message_move_task,
    "SendMessage": m.send_message,
    "SendMessageBatch": m.send_message_batch,
    "ReceiveMessage": m.receive_message,
    "DeleteMessage": m.delete_message,
    "DeleteMessageBatch": m.delete_message_batch,
    "ChangeMessageVisibility": m.change_message_visibility,
    "ChangeMessageVisibilityBatch": m.change_message_visibility_batch,
    "PurgeQueue": m.purge_queue,
}

JSON_CONTENT_TYPE = b"application/x-amz-json-1.0"
QUERY_JSON_CONTENT_TYPE = b"application/json"
NOT_ON_QUEUE_URL = frozenset({"CreateQueue", "ListQueues"})
UNKNOWN_OPERATION_BODY = b"<UnknownOperationException/>"


class SqsDispatcher:
    def __init__(self, services: Services) -> None:
        self.services = services
        model = sqs_model()
        self.operations = {name: model.operation_model(name) for name in model.operation_names}

    async def handle(self, req: Request, ctx: RequestContext) -> Response:
        request_id = new_uuid()
        target = req.headers.get(b"x-amz-target")
        if target is not None:
            return await self._json(req, ctx, target.decode("latin-1"), request_id)
        return await self._query(req, ctx, request_id)

    async def _json(self, req: Request, ctx: RequestContext, target: str, request_id: str) -> Response:
        action = target.rpartition(".")[2]
        try:
            handler = HANDLERS.get(action)
            op = self.operations.get(action)
            if handler is None or op is None or not target.startswith("AmazonSQS."):
                raise InvalidAction(f"The action {action} is not valid for this endpoint.")
            params = parse_json_request(op, req.body)
            result = await handler(self.services, ctx, params)
            body = serialize_json_response(op, result)
            return Response(200, [(b"content-type", JSON_CONTENT_TYPE),
                                  (b"x-amzn-requestid", request_id.encode())], body, action)
        except Exception as exc:
            return self._json_error(exc, request_id, action)

    def _json_error(self, exc: BaseException, request_id: str, action: str) -> Response:
        """An unknown ``X-Amz-Target`` is refused by AWS's JSON front end as
        ``UnknownOperationException``; every other error by its own ``__type``."""
        if not isinstance(exc, PostroomError):
            log.exception("internal error in %s", action)
        w = wire_error(exc)
        error_type = UNKNOWN_OPERATION_TYPE if isinstance(exc, InvalidAction) else w.json_type
        headers = [(b"content-type", JSON_CONTENT_TYPE), (b"x-amzn-requestid", request_id.encode()),
                   *json_error_headers(w)]
        return Response(w.status, headers, serialize_json_error(error_type, w.message), action)

    def _query_operation(self, action: str, on_queue_url: bool) -> tuple[OperationModel, Handler]:
        handler = HANDLERS.get(action)
        op = self.operations.get(action)
        if handler is None or op is None or (on_queue_url and action in NOT_ON_QUEUE_URL):
            raise InvalidAction(f"The action {action or '(none)'} is not valid for this endpoint.")
        return op, handler

    async def _query(self, req: Request, ctx: RequestContext, request_id: str) -> Response:
        action = ""
        as_json = wants_json(req.headers)
        queue_path = queue_url_path(req.path)
        try:
            form = parse_form(req)
            action = form.get("Action", "")
            if queue_path is not None and not action:
                return Response(404, [(b"content-type", XML_CONTENT_TYPE),
                                      (b"x-amzn-requestid", request_id.encode())], UNKNOWN_OPERATION_BODY)
            op, handler = self._query_operation(action, queue_path is not None)
            if queue_path is not None and "QueueUrl" not in form and "QueueUrl" in op.input_shape.members:
                form["QueueUrl"] = f"{ctx.scheme}://{ctx.host}{queue_path}"
            params = parse_query_request(op, form)
            result = await handler(self.services, ctx, params)
            if as_json:
                body, ctype = serialize_query_json_response(op, result, request_id), QUERY_JSON_CONTENT_TYPE
            else:
                body, ctype = serialize_query_response(op, result, request_id), XML_CONTENT_TYPE
            return Response(200, [(b"content-type", ctype), (b"x-amzn-requestid", request_id.encode())], body,
                            action or "-")
        except Exception as exc:
            if not isinstance(exc, PostroomError):
                log.exception("internal error in %s", action)
            return _query_error(wire_error(exc), request_id, action or "-", as_json)


def _query_error(w: WireError, request_id: str, action: str, as_json: bool) -> Response:
    if as_json:
        body = serialize_query_json_error(w.query_code, w.query_message, w.sender_fault, request_id)
        ctype = QUERY_JSON_CONTENT_TYPE
    else:
        body = serialize_query_error(w.query_code, w.query_message, w.sender_fault, request_id)
        ctype = XML_CONTENT_TYPE
    return Response(w.status, [(b"content-type", ctype), (b"x-amzn-requestid", request_id.encode())], body, action)


def wants_json(headers: Mapping[bytes, bytes]) -> bool:
    """Whether a query-protocol caller asked for JSON (``Accept: application/json``)."""
    return b"application/json" in headers.get(b"accept", b"").lower()


def queue_url_path(path: str) -> str | None:
    """The queue URL path a request was sent to, if it was: ``/<account>/<queue name>``,
    or ``/queue/<region>/<account>/<queue name>`` for a queue of another region."""
    parts = [p for p in path.split("/") if p]
    if len(parts) == 2 or (len(parts) == 4 and parts[0] == "queue"):
        return "/" + "/".join(parts)
    return None
