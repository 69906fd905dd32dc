"""Verifying SNS envelope signatures ("Verifying the signatures of Amazon SNS messages").

The steps AWS documents, in order:

1. take the certificate only from a trusted place: ``SigningCertURL`` must be HTTPS, its host
   ``sns.<region>.amazonaws.com`` (``.com.cn`` in China), its path a ``.pem`` file — otherwise anyone
   could sign a forged envelope with their own key and point at their own certificate;
2. rebuild the string to sign: ``name\\nvalue\\n`` for ``Message``, ``MessageId``, ``Subject`` (when
   present), ``Timestamp``, ``TopicArn``, ``Type``, in that (byte) order;
3. check ``Signature`` (base64) with the certificate's RSA public key, PKCS#1 v1.5, SHA1 for
   ``SignatureVersion`` "1" and SHA256 for "2".

postroom signs with its own self-signed key and serves the certificate at
``<scheme>://<endpoint>/_postroom/sns/…pem``; :meth:`SnsVerifier.for_endpoint` trusts exactly that host
in addition to AWS's: over HTTPS only when the endpoint is ``https://`` (a server started with
``--tls-cert``/``--tls-self-signed``), over plain HTTP only when the endpoint itself is plain HTTP.
Certificates are fetched with TLS verified, against the system's CAs plus ``ca_bundle`` (a PEM file
such as the ``tls-cert.pem`` of ``postroom serve --tls-self-signed``); a host outside the allow-list is
refused before anything is fetched. Envelopes from FIFO topics are not signed on AWS (no
``SignatureVersion``/``Signature``/``SigningCertURL``); they pass only if they also carry a FIFO topic ARN
(``….fifo``), and ``require_signature=True`` refuses even those.
"""

from __future__ import annotations

import base64
import binascii
import datetime
import os
import re
import ssl
import threading
import urllib.request
from collections.abc import Callable, Iterable
from urllib.parse import urlsplit

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from postroom.consumer.envelope import SnsEnvelope
from postroom.errors import InvalidParameterValue

AWS_CERT_HOST = re.compile(r"^sns\.[a-z0-9-]{3,}\.amazonaws\.com(\.cn)?$")


class SignatureError(Exception):
    """An SNS envelope whose signature could not be verified; the message is not handed to the handler."""


def _fetch(url: str, timeout: float, context: ssl.SSLContext | None = None) -> bytes:
    with urllib.request.urlopen(url, timeout=timeout, context=context) as response:
        data: bytes = response.read(64 * 1024)
        return data


class SnsVerifier:
    """Checks envelope signatures against certificates fetched from an allow-list of hosts.

    ``hosts``: extra trusted certificate hosts (``host`` or ``host:port``) besides AWS's own;
    ``allow_http``: whether those extra hosts may serve the certificate over plain HTTP (AWS's hosts
    always need HTTPS); ``ca_bundle``: a PEM file of certificates trusted, besides the system's CAs,
    when fetching over HTTPS (TLS is always verified). Certificates are cached per URL.
    """

    def __init__(self, *, hosts: Iterable[str] = (), allow_http: bool = False, require_signature: bool = False,
                 timeout: float = 5.0, fetch: Callable[[str], bytes] | None = None,
                 ca_bundle: str | os.PathLike[str] | None = None) -> None:
        self._hosts = frozenset(h.lower() for h in hosts)
        self._allow_http = allow_http
        self._require_signature = require_signature
        self._timeout = timeout
        context: ssl.SSLContext | None = None
        if ca_bundle is not None:
            context = ssl.create_default_context()  # the system's CAs (AWS's certificate hosts) ...
            context.load_verify_locations(cafile=os.fspath(ca_bundle))  # ... and the bundle's
        self._fetch = fetch or (lambda url: _fetch(url, self._timeout, context))
        self._certs: dict[str, x509.Certificate] = {}
        self._lock = threading.Lock()

    @classmethod
    def for_endpoint(cls, endpoint_url: str, **kwargs: object) -> SnsVerifier:
        """Trust the certificate a postroom server at ``endpoint_url`` serves, by the endpoint's scheme:
        an ``https://`` endpoint's only over HTTPS (pass ``ca_bundle`` when its TLS certificate is not
        one the system trusts), an ``http://`` endpoint's over HTTP too."""
        parts = urlsplit(endpoint_url)
        if not parts.netloc or parts.scheme not in ("http", "https"):
            raise ValueError(f"not an endpoint URL: {endpoint_url!r}")
        return cls(hosts=[parts.netloc], allow_http=parts.scheme == "http", **kwargs)  # type: ignore[arg-type]

    def check_cert_url(self, url: str) -> None:
        """Step 1: refuse a certificate URL outside the allow-list."""
        parts = urlsplit(url)
        host = (parts.hostname or "").lower()
        netloc = parts.netloc.lower()
        if not parts.path.endswith(".pem"):
            raise SignatureError(f"SigningCertURL is not a .pem file: {url}")
        if AWS_CERT_HOST.match(host) and parts.scheme == "https":
            return
        if netloc in self._hosts or host in self._hosts:
            if parts.scheme == "https" or (parts.scheme == "http" and self._allow_http):
                return
            raise SignatureError(f"SigningCertURL must be HTTPS: {url}")
        raise SignatureError(f"SigningCertURL host is not trusted: {url}")

    def certificate(self, url: str) -> x509.Certificate:
        self.check_cert_url(url)
        with self._lock:
            cached = self._certs.get(url)
        if cached is not None:
            return cached
        try:
            cert = x509.load_pem_x509_certificate(self._fetch(url))
        except SignatureError:
            raise
        except Exception as exc:
            raise SignatureError(f"cannot load the signing certificate {url}: {exc}") from exc
        with self._lock:
            self._certs[url] = cert
        return cert

    def verify(self, envelope: SnsEnvelope) -> None:
        """Raise :class:`SignatureError` unless ``envelope`` is authentic (or an acceptable unsigned one)."""
        if envelope.signature is None and envelope.signature_version is None:
            if self._require_signature or not envelope.topic_arn.endswith(".fifo"):
                raise SignatureError("the SNS envelope is not signed")
            return
        version = envelope.signature_version
        algorithm: hashes.HashAlgorithm
        if version == "1":
            algorithm = hashes.SHA1()  # SignatureVersion 1 is SHA1withRSA
        elif version == "2":
            algorithm = hashes.SHA256()
        else:
            raise SignatureError(f"unknown SignatureVersion {version!r}")
        if not envelope.signature or not envelope.signing_cert_url:
            raise SignatureError("the SNS envelope lacks Signature or SigningCertURL")
        cert = self.certificate(envelope.signing_cert_url)
        now = datetime.datetime.now(datetime.UTC)
        if not cert.not_valid_before_utc <= now <= cert.not_valid_after_utc:
            raise SignatureError("the SNS signing certificate is not valid now")
        key = cert.public_key()
        if not isinstance(key, rsa.RSAPublicKey):
            raise SignatureError("the SNS signing certificate has no RSA key")
        try:
            signature = base64.b64decode(envelope.signature, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise SignatureError("Signature is not base64") from exc
        try:
            signed = envelope.string_to_sign()
        except InvalidParameterValue as exc:
            raise SignatureError(f"SNS message {envelope.message_id} cannot be verified: {exc}") from None
        try:
            key.verify(signature, signed.encode("utf-8"), padding.PKCS1v15(), algorithm)
        except InvalidSignature:
            raise SignatureError(f"bad signature on SNS message {envelope.message_id}") from None
