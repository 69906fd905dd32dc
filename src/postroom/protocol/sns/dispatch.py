"""SNS and STS over the query protocol (``Action=…&Version=2010-03-31`` /
``Version=2011-06-15``), on the same port as SQS.

postroom tells the services apart by what the request says: SQS's JSON protocol has an
``X-Amz-Target``; a query request names its API ``Version``; failing that, the service
in the SigV4 credential scope decides.
"""

from __future__ import annotations

import logging
from functools import cache
from xml.sax.saxutils import escape

import botocore.session
from botocore.model import ServiceModel

from postroom.core.sns.model import caller_arn, caller_user_id
from postroom.errors import InvalidAction, PostroomError
from postroom.ids import new_uuid
from postroom.protocol.http import XML_CONTENT_TYPE, Request, Response
from postroom.protocol.parse import parse_query_request
from postroom.protocol.serialize import serialize_query_response
from postroom.protocol.sns.errors import sns_wire_error
from postroom.protocol.sns.handlers import SNS_HANDLERS
from postroom.service.context import RequestContext
from postroom.service.sns import SnsService

log = logging.getLogger("postroom.protocol")

SNS_VERSION = "2010-03-31"
STS_VERSION = "2011-06-15"
SNS_XMLNS = "http://sns.amazonaws.com/doc/2010-03-31/"
STS_XMLNS = "https://sts.amazonaws.com/doc/2011-06-15/"


@cache
def sns_model() -> ServiceModel:
    return botocore.session.get_session().get_service_model("sns")


@cache
def sts_model() -> ServiceModel:
    return botocore.session.get_session().get_service_model("sts")


def error_response(xmlns: str, code: str, message: str, sender: bool, status: int, request_id: str) -> Response:
    """An SNS or STS (query protocol) error document."""
    body = (f'<?xml version="1.0"?><ErrorResponse xmlns="{xmlns}"><Error>'
            f"<Type>{'Sender' if sender else 'Receiver'}</Type><Code>{escape(code)}</Code>"
            f"<Message>{escape(message)}</Message></Error><RequestId>{request_id}</RequestId></ErrorResponse>")
    return Response(status, [(b"content-type", XML_CONTENT_TYPE), (b"x-amzn-requestid", request_id.encode())],
                    body.encode("utf-8", "backslashreplace"))  # a message may echo a lone surrogate


class SnsDispatcher:
    def __init__(self, service: SnsService) -> None:
        self.service = service
        self.model = sns_model()
        self.operations = {n: self.model.operation_model(n) for n in self.model.operation_names}

    async def handle(self, req: Request, ctx: RequestContext, form: dict[str, str]) -> Response:
        request_id = new_uuid()
        action = form.get("Action", "")
        if form.get("Version") == STS_VERSION or action == "GetCallerIdentity":
            return self._sts(ctx, action, request_id)
        try:
            handler = SNS_HANDLERS.get(action)
            op = self.operations.get(action)
            if handler is None or op is None:  # every action of botocore's SNS model has a handler
                raise InvalidAction(f"The action {action or '(none)'} is not valid for this endpoint.")
            params = parse_query_request(op, form)
            result = await handler(self.service, ctx, params)
            body = serialize_query_response(op, result, request_id)
            return Response(200, [(b"content-type", XML_CONTENT_TYPE), (b"x-amzn-requestid", request_id.encode())],
                            body, action)
        except Exception as exc:
            if not isinstance(exc, PostroomError):
                log.exception("internal error in SNS %s", action)
            w = sns_wire_error(exc)
            response = error_response(SNS_XMLNS, w.query_code, w.message, w.sender_fault, w.status, request_id)
            response.action = action or "-"
            return response

    def _sts(self, ctx: RequestContext, action: str, request_id: str) -> Response:
        """STS GetCallerIdentity: Terraform, the CDK and many test helpers call it first.
        postroom answers with the account the request's credentials map to, as the IAM user
        that also appears as a subscription's SubscriptionPrincipal (:func:`caller_arn`)."""
        if action != "GetCallerIdentity":
            return error_response(STS_XMLNS, "InvalidAction", f"postroom does not implement STS {action}", True, 400,
                          request_id)
        op = sts_model().operation_model("GetCallerIdentity")
        body = serialize_query_response(op, {"UserId": caller_user_id(ctx.account), "Account": ctx.account,
                                             "Arn": caller_arn(ctx.account)}, request_id)
        return Response(200, [(b"content-type", XML_CONTENT_TYPE), (b"x-amzn-requestid", request_id.encode())],
                        body, action)
