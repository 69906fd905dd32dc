"""An SNS message signature verifier written from AWS's documentation, independent of postroom:
fetch the certificate from SigningCertURL, rebuild the string to sign from the message's own
fields, verify with the certificate's public key (SHA1 for SignatureVersion 1, SHA256 for 2)."""

from __future__ import annotations

import base64
from typing import Any

import requests
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

FIELDS = {
    "Notification": ["Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"],
    "SubscriptionConfirmation": ["Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type"],
    "UnsubscribeConfirmation": ["Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type"],
}

_certs: dict[str, x509.Certificate] = {}


def string_to_sign(msg: dict[str, Any]) -> bytes:
    out = []
    for key in FIELDS[msg["Type"]]:
        if key == "Subject" and key not in msg:
            continue  # Subject is signed only when present
        out.append(f"{key}\n{msg[key]}\n")
    return "".join(out).encode("utf-8")


def certificate(url: str) -> x509.Certificate:
    if url not in _certs:
        r = requests.get(url, timeout=10)
        assert r.status_code == 200, (url, r.status_code, r.text[:200])
        _certs[url] = x509.load_pem_x509_certificate(r.content)
    return _certs[url]


def verify(msg: dict[str, Any]) -> None:
    """Raises (InvalidSignature / AssertionError) unless msg carries a valid SNS signature."""
    version = msg["SignatureVersion"]
    assert version in ("1", "2"), version
    algorithm = hashes.SHA1() if version == "1" else hashes.SHA256()
    key = certificate(msg["SigningCertURL"]).public_key()
    assert isinstance(key, rsa.RSAPublicKey)
    key.verify(base64.b64decode(msg["Signature"]), string_to_sign(msg), padding.PKCS1v15(), algorithm)
