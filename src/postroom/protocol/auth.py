"""Authentication at the protocol boundary: who signed a request, checked before anything is
dispatched, and AWS's errors, in the shape of the protocol the request spoke, when the answer
is "no one we know".

With a credentials store (``postroom serve --credentials FILE``, or a key in the environment)
every SQS, SNS and STS request must carry a valid SigV4 signature (``protocol/sigv4.py``) by a
known key; the key's account (from the file) becomes the request's account. A rejected request
never reaches a handler, so it has no side effect. Without a store, nothing is verified (the
server says so at start-up and in ``/health``).

What stays reachable unsigned, and why:

- SNS's own links, ``GET /?Action=ConfirmSubscription&TopicArn=…&Token=…`` (SubscribeURL) and
  ``GET /?Action=Unsubscribe&SubscriptionArn=…`` (UnsubscribeURL): on AWS they are plain links
  an HTTP endpoint or a person follows without credentials; the confirmation needs the
  subscription's secret token, the unsubscribe link its (unguessable) subscription ARN.
- the signing certificate at SigningCertURL, which message receivers fetch to check signatures;
- ``/health``, ``/metrics`` and the ``/_postroom/…`` admin API (served by ``server/app.py``
  before this module is consulted): they are postroom's own, not AWS's, and are meant for the
  operator's network (bind to a private address).

Error codes, statuses and texts are AWS's (AWS's "Common Errors" lists and recorded responses):
on the query protocol (SQS, SNS, STS) the code is the ``<Code>``; on SQS's JSON protocol the
``__type`` is Coral's (``com.amazon.coral.service#UnrecognizedClientException``,
``…#InvalidSignatureException``, ``…#IncompleteSignatureException``,
``…#MissingAuthenticationTokenException``, ``…#AccessDeniedException``) and the query code
travels in ``x-amzn-query-error``, as SQS sends it, so SDKs see ``InvalidClientTokenId`` /
``SignatureDoesNotMatch`` either way.
"""

from __future__ import annotations

import hmac
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from postroom.core.sns.model import caller_arn
from postroom.ids import new_uuid
from postroom.protocol import sigv4
from postroom.protocol.caller import Principal
from postroom.protocol.credentials import Credential, CredentialStore
from postroom.protocol.http import XML_CONTENT_TYPE, Request, Response
from postroom.protocol.serialize import serialize_json_error, serialize_query_error, serialize_query_json_error
from postroom.protocol.sns.dispatch import SNS_XMLNS, STS_XMLNS
from postroom.protocol.sns.dispatch import error_response as sns_error_response

INVALID_CLIENT_TOKEN_ID = "InvalidClientTokenId"
ACCESS_DENIED = "AccessDenied"
INVALID_TOKEN_MESSAGE = "The security token included in the request is invalid."

CORAL = "com.amazon.coral.service"
# query code -> (HTTP status, the __type SQS's JSON protocol answers with)
AUTH_ERRORS: dict[str, tuple[int, str]] = {
    sigv4.INCOMPLETE_SIGNATURE: (400, f"{CORAL}#IncompleteSignatureException"),
    INVALID_CLIENT_TOKEN_ID: (403, f"{CORAL}#UnrecognizedClientException"),
    sigv4.SIGNATURE_DOES_NOT_MATCH: (403, f"{CORAL}#InvalidSignatureException"),
    sigv4.MISSING_AUTHENTICATION_TOKEN: (403, f"{CORAL}#MissingAuthenticationTokenException"),
    sigv4.REQUEST_EXPIRED: (400, f"{CORAL}#RequestExpired"),
    ACCESS_DENIED: (403, f"{CORAL}#AccessDeniedException"),
}
# SNS names an action denied to the caller AuthorizationError (botocore's SNS model).
SNS_CODES = {ACCESS_DENIED: "AuthorizationError"}

# The SNS links that work unsigned (see the module's docstring).
UNSIGNED_SNS_LINKS = frozenset({"ConfirmSubscription", "Unsubscribe"})


AuthFailure = sigv4.SigV4Error
"""A refused request: AWS's error code, message and the signature's service (one exception for
the signature checks and for the checks made here)."""


@dataclass(slots=True)
class Verified:
    principal: Principal
    credential: Credential


class Authenticator:
    """Checks each request's signature against the credentials store."""

    def __init__(self, store: CredentialStore, default_account: str,
                 now: Callable[[], float] = time.time) -> None:
        self.store = store
        self.default_account = default_account
        self.now = now

    def authenticate(self, request: Request, raw_path: str, raw_headers: Iterable[tuple[bytes, bytes]]) -> Verified:
        """The verified signer, or AuthFailure. Everything is checked before the caller
        dispatches, so a refused request changes nothing."""
        headers = sigv4.header_map(raw_headers)
        signed = sigv4.parse_request(request.query_string, headers)
        if signed is None:
            raise AuthFailure(sigv4.MISSING_AUTHENTICATION_TOKEN, sigv4.MISSING_TOKEN_MESSAGE)
        credential = self.store.get(signed.access_key)
        if credential is None:
            raise AuthFailure(INVALID_CLIENT_TOKEN_ID, INVALID_TOKEN_MESSAGE, signed.service)
        if not _same_token(signed.security_token, credential.session_token):
            raise AuthFailure(INVALID_CLIENT_TOKEN_ID, INVALID_TOKEN_MESSAGE, signed.service)
        sigv4.check_time(signed, self.now())
        sigv4.verify(signed, credential.secret_access_key, request.method, raw_path, request.query_string,
                     headers, request.body)
        principal = Principal(signed.access_key, credential.account_id or self.default_account, signed.region,
                              signed.service)
        return Verified(principal, credential)


def _same_token(given: str | None, expected: str | None) -> bool:
    if given is None or expected is None:
        return given is expected
    return hmac.compare_digest(given.encode("utf-8"), expected.encode("utf-8"))


def check_scope(verified: Verified, service: str) -> None:
    """A signature scoped to another service does not sign this one (AWS: "Credential should
    be scoped to correct service")."""
    if verified.principal.service != service:
        raise AuthFailure(sigv4.SIGNATURE_DOES_NOT_MATCH,
                          f"Credential should be scoped to correct service: '{service}'. ", service)


def check_allowed(verified: Verified, service: str, action: str) -> None:
    """The credentials file's ``allow`` list, if the key has one: it acts as the key's identity
    policy, refused in IAM's words (SQS ``AccessDenied``, SNS ``AuthorizationError``, 403)."""
    if not verified.credential.allows(service, action):
        user = caller_arn(verified.principal.account)
        name = f"{service}:{action}"
        raise AuthFailure(ACCESS_DENIED, f"User: {user} is not authorized to perform: {name} because no "
                                         f"identity-based policy allows the {name} action", service)


def error_response(failure: AuthFailure, service: str, json_protocol: bool, accept_json: bool) -> Response:
    """``failure`` in the shape of the protocol the request spoke: SQS JSON or query (XML, or
    JSON when asked for), SNS or STS (query XML). The access log names the error code."""
    request_id = new_uuid()
    status, json_type = AUTH_ERRORS[failure.code]
    rid = (b"x-amzn-requestid", request_id.encode())
    if service == "sqs" and json_protocol:
        return Response(status, [(b"content-type", b"application/x-amz-json-1.0"), rid,
                                 (b"x-amzn-query-error", f"{failure.code};Sender".encode())],
                        serialize_json_error(json_type, failure.message), failure.code)
    if service == "sqs":
        if accept_json:
            body = serialize_query_json_error(failure.code, failure.message, True, request_id)
            return Response(status, [(b"content-type", b"application/json"), rid], body, failure.code)
        body = serialize_query_error(failure.code, failure.message, True, request_id)
        return Response(status, [(b"content-type", XML_CONTENT_TYPE), rid], body, failure.code)
    xmlns = STS_XMLNS if service == "sts" else SNS_XMLNS
    code = SNS_CODES.get(failure.code, failure.code) if service == "sns" else failure.code
    response = sns_error_response(xmlns, code, failure.message, True, status, request_id)
    response.action = failure.code
    return response
