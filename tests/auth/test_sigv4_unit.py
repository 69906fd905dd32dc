"""postroom's SigV4 check (protocol/sigv4.py) against botocore's signer on awkward requests:
paths and query strings that need encoding, repeated keys, headers with odd spacing, the Host
header with and without a port, UNSIGNED-PAYLOAD, presigned URLs."""

from __future__ import annotations

import time
from urllib.parse import urlsplit

import pytest
from botocore.auth import SigV4Auth, SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from postroom.protocol import sigv4

KEY, SECRET = "AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"


def wire(request: AWSRequest) -> tuple[str, str, bytes, list[tuple[bytes, bytes]], bytes]:
    """The request as a server receives it: method, raw path, raw query, header list, body."""
    prepared = request.prepare()
    parts = urlsplit(prepared.url)
    headers = [(k.lower().encode(), str(v).encode()) for k, v in prepared.headers.items()]
    if not any(k == b"host" for k, _ in headers):
        headers.append((b"host", parts.netloc.removesuffix(":80").encode()))
    body = prepared.body or b""
    if isinstance(body, str):
        body = body.encode()
    return prepared.method, parts.path or "/", parts.query.encode(), headers, body


def check(method: str, path: str, query: bytes, headers: list[tuple[bytes, bytes]], body: bytes,
          secret: str = SECRET) -> sigv4.SignedRequest:
    hmap = sigv4.header_map(headers)
    signed = sigv4.parse_request(query, hmap)
    assert signed is not None
    sigv4.check_time(signed, time.time())
    sigv4.verify(signed, secret, method, path, query, hmap, body)
    return signed


def sign(request: AWSRequest, service: str = "sqs", region: str = "us-east-1") -> AWSRequest:
    SigV4Auth(Credentials(KEY, SECRET), service, region).add_auth(request)
    return request


@pytest.mark.parametrize("url", [
    "http://localhost:9700/",
    "http://localhost:9700/000000000000/my-queue",
    "http://127.0.0.1/000000000000/q.fifo",  # no port in Host
    "http://localhost:9700/a%20b/c%2Fd/~x",
    "http://localhost:9700/a/./b/../c//d/",
    "http://localhost:9700/?Action=ListQueues&QueueNamePrefix=a%20b&Version=2012-11-05",
    "http://localhost:9700/?b=2&a=1&a=0&empty=&tilde=~&star=%2A&slash=%2F&plus=%2B&unicode=%C3%A9",
])
def test_header_signature_matches_botocore(url: str) -> None:
    request = sign(AWSRequest(method="GET", url=url))
    signed = check(*wire(request))
    assert (signed.access_key, signed.region, signed.service, signed.presigned) == (KEY, "us-east-1", "sqs", False)


def test_form_body_odd_headers_and_repeats() -> None:
    request = AWSRequest(method="POST", url="http://localhost:9700/", data={"Action": "SendMessage",
                                                                           "MessageBody": "héllo wörld & co"},
                         headers={"Content-Type": "application/x-www-form-urlencoded; charset=utf-8",
                                  "X-Custom": "  spaced    out  value "})
    method, path, query, headers, body = wire(sign(request))
    check(method, path, query, headers, body)
    with pytest.raises(sigv4.SigV4Error) as exc:
        check(method, path, query, headers, body + b"&x=1")
    assert exc.value.code == "SignatureDoesNotMatch"
    with pytest.raises(sigv4.SigV4Error) as exc:
        check(method, path, query, headers, body, secret="wrong")
    assert exc.value.message == sigv4.MISMATCH_MESSAGE


def test_date_header_instead_of_x_amz_date() -> None:
    request = sign(AWSRequest(method="GET", url="http://localhost:9700/?Action=ListQueues",
                              headers={"Date": "Mon, 01 Jan 2024 00:00:00 GMT"}))
    method, path, query, headers, body = wire(request)
    assert not any(name == b"x-amz-date" for name, _ in headers)
    check(method, path, query, headers, body)


def test_repeated_header_values_are_joined() -> None:
    hmap = sigv4.header_map([(b"x-a", b" one "), (b"x-a", b"two  three")])
    assert hmap == {"x-a": "one,two three"}


def test_unsigned_payload_header() -> None:
    request = AWSRequest(method="POST", url="http://localhost:9700/", data=b"{}",
                         headers={"X-Amz-Content-SHA256": "UNSIGNED-PAYLOAD"})
    method, path, query, headers, _ = wire(sign(request))
    check(method, path, query, headers, b'{"anything": 1}')  # the body is not covered, as declared
    declared = AWSRequest(method="POST", url="http://localhost:9700/", data=b"{}",
                          headers={"X-Amz-Content-SHA256": "0" * 64})
    with pytest.raises(sigv4.SigV4Error) as exc:  # a declared hash must be the body's
        check(*wire(sign(declared)))
    assert "x-amz-content-sha256" in exc.value.message


def test_presigned_url() -> None:
    request = AWSRequest(method="GET", url="http://localhost:9700/",
                         params={"Action": "GetQueueUrl", "QueueName": "a b", "Version": "2012-11-05"})
    SigV4QueryAuth(Credentials(KEY, SECRET, "tok/en+"), "sqs", "eu-west-1", expires=60).add_auth(request)
    signed = check(*wire(request))
    assert signed.presigned and signed.expires == 60 and signed.security_token == "tok/en+"
    assert signed.region == "eu-west-1"
    with pytest.raises(sigv4.SigV4Error) as exc:
        sigv4.check_time(signed, time.time() + 61)
    assert exc.value.code == "RequestExpired"


def test_parse_errors() -> None:
    def parse(auth: str, **headers: str) -> sigv4.SigV4Error:
        with pytest.raises(sigv4.SigV4Error) as exc:
            sigv4.parse_request(b"", {"authorization": auth, **headers})
        return exc.value

    e = parse("AWS4-HMAC-SHA256 Credential=K/20250101/us-east-1/sqs/aws4_request", **{"x-amz-date": "20250101T000000Z"})
    assert e.code == "IncompleteSignature" and "requires 'Signature' parameter" in e.message
    e = parse("AWS4-HMAC-SHA256 Credential=K/20250101/us-east-1/sqs/aws4_request, SignedHeaders=host, Signature=ab")
    assert "requires existence of either a 'X-Amz-Date' or a 'Date' header" in e.message
    e = parse("AWS4-HMAC-SHA256 Credential=K/20250101/us-east-1/sqs/aws4_request, SignedHeaders=host, Signature=ab",
              **{"x-amz-date": "2025-01-01"})
    assert e.message.startswith("Date must be in ISO-8601 'basic format'. Got '2025-01-01'.")
    e = parse("AWS4-HMAC-SHA256 Credential=K/20250101/us-east-1/sqs/aws4_request, SignedHeaders=x-amz-date, "
              "Signature=ab", **{"x-amz-date": "20250101T000000Z"})
    assert "'Host' or ':authority' must be a 'SignedHeader'" in e.message
    with pytest.raises(sigv4.SigV4Error) as exc:
        sigv4.parse_request(b"X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=K%2F20250101%2Fus-east-1%2Fsqs"
                            b"%2Faws4_request", {})
    assert exc.value.message.startswith("AWS query-string parameters must include 'X-Amz-Date'.")
    assert sigv4.parse_request(b"Action=ListQueues", {}) is None


def test_signing_keys_are_cached() -> None:
    a = sigv4.signing_key(SECRET, "20250101", "us-east-1", "sqs")
    assert sigv4.signing_key(SECRET, "20250101", "us-east-1", "sqs") is a
    assert sigv4.signing_key(SECRET, "20250102", "us-east-1", "sqs") != a


def test_a_non_ascii_signature_is_a_mismatch_not_a_crash() -> None:
    method, path, query, headers, body = wire(sign(AWSRequest(method="GET", url="http://localhost:9700/")))
    headers = [(k, v.rsplit(b"Signature=", 1)[0] + "Signature=é".encode("latin-1") if k == b"authorization" else v)
               for k, v in headers]
    with pytest.raises(sigv4.SigV4Error) as exc:
        check(method, path, query, headers, body)
    assert exc.value.code == "SignatureDoesNotMatch"
