"""Signing SNS envelopes, checked the way a consumer checks them.

The verifier below is written from "Verifying the signatures of Amazon SNS messages"
alone and shares no code with postroom: it parses the JSON body, rebuilds the string
to sign from the parsed values, and checks ``Signature`` with the public key of the
PEM certificate the server would serve at ``SigningCertURL``.
"""

from __future__ import annotations

import base64
import datetime
import json
import stat
import threading
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID

from postroom.core.sns.envelope import notification, subscription_confirmation, to_json, unsubscribe_confirmation
from postroom.errors import InvalidParameterValue
from postroom.sns_signing import CERT_FILE, CERT_PATH, KEY_FILE, Signer

TOPIC = "arn:aws:sns:us-east-1:000000000000:orders"
CERT_URL = f"http://localhost:9324{CERT_PATH}"
UNSUBSCRIBE_URL = f"http://localhost:9324/?Action=Unsubscribe&SubscriptionArn={TOPIC}:1"


def consumer_verifies(body: str, certificate_pem: bytes) -> bool:
    """An independent SNS consumer: True when ``body``'s signature is valid."""
    message = json.loads(body)
    if message["Type"] == "Notification":
        names = ["Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"]
    else:
        names = ["Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type"]
    canonical = "".join(f"{name}\n{message[name]}\n" for name in names if name in message)
    algorithm: hashes.HashAlgorithm = {"1": hashes.SHA1(), "2": hashes.SHA256()}[message["SignatureVersion"]]
    public_key = x509.load_pem_x509_certificate(certificate_pem).public_key()
    assert isinstance(public_key, rsa.RSAPublicKey)
    try:
        signature = base64.b64decode(message["Signature"])
        public_key.verify(signature, canonical.encode("utf-8"), padding.PKCS1v15(), algorithm)
    except InvalidSignature:
        return False
    return True


@pytest.fixture(scope="module")
def signer(tmp_path_factory: pytest.TempPathFactory) -> Signer:
    return Signer.load_or_create(tmp_path_factory.mktemp("sns-keys"))


def _notification(signature_version: str, **overrides: Any) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "message_id": "8f5ab8f0-8b6e-4a4e-9d5b-1f6c0c1d2e3f",
        "topic_arn": TOPIC,
        "subject": "Greetings",
        "message": 'Hello\r\nworld! {"k": "v"} \u00e9\u4e2d\U0001f600',
        "timestamp_ms": 1_700_000_000_123,
        "message_attributes": {"kind": ("String", "order"), "blob": ("Binary", base64.b64encode(b"\x00\x01").decode())},
        "unsubscribe_url": UNSUBSCRIBE_URL,
        "signing_cert_url": CERT_URL,
        "signature_version": signature_version,
    }
    fields.update(overrides)
    return notification(**fields)


@pytest.mark.parametrize("version", ["1", "2"])
def test_signed_notification_verifies_for_a_consumer(signer: Signer, version: str) -> None:
    signed = signer.sign(_notification(version))
    assert signed["SignatureVersion"] == version
    assert signed["Signature"]
    assert list(signed) == list(_notification(version))  # Signature keeps its place
    assert consumer_verifies(to_json(signed), signer.certificate_pem())


@pytest.mark.parametrize("version", ["1", "2"])
def test_signed_notification_without_subject_verifies(signer: Signer, version: str) -> None:
    signed = signer.sign(_notification(version, subject=None, message_attributes=None))
    assert "Subject" not in signed
    assert consumer_verifies(to_json(signed), signer.certificate_pem())


def test_signature_versions_use_different_hashes(signer: Signer) -> None:
    v1 = signer.sign(_notification("1"))
    v2 = signer.sign(_notification("2"))
    assert v1["Signature"] != v2["Signature"]
    # A SHA1 signature presented as version 2 (and the reverse) does not verify.
    swapped = dict(v1, SignatureVersion="2")
    assert not consumer_verifies(to_json(swapped), signer.certificate_pem())
    swapped = dict(v2, SignatureVersion="1")
    assert not consumer_verifies(to_json(swapped), signer.certificate_pem())
    # PKCS#1 v1.5 is deterministic: the same envelope signs the same.
    assert signer.sign(_notification("1"))["Signature"] == v1["Signature"]


@pytest.mark.parametrize("field", ["Message", "MessageId", "Subject", "Timestamp", "TopicArn"])
def test_tampered_notification_fails(signer: Signer, field: str) -> None:
    body = json.loads(to_json(signer.sign(_notification("2"))))
    body[field] = body[field] + "x"
    assert not consumer_verifies(json.dumps(body), signer.certificate_pem())


def test_unsigned_fields_can_change_without_breaking_the_signature(signer: Signer) -> None:
    # MessageAttributes and UnsubscribeURL are not part of the string to sign.
    body = json.loads(to_json(signer.sign(_notification("1"))))
    body["MessageAttributes"]["kind"]["Value"] = "other"
    body["UnsubscribeURL"] = "http://elsewhere/"
    assert consumer_verifies(json.dumps(body), signer.certificate_pem())


def test_other_key_fails(signer: Signer, tmp_path: Path) -> None:
    other = Signer.load_or_create(tmp_path)
    assert not consumer_verifies(to_json(other.sign(_notification("1"))), signer.certificate_pem())


@pytest.mark.parametrize("version", ["1", "2"])
def test_confirmations_verify(signer: Signer, version: str) -> None:
    subscribe_url = f"http://localhost:9324/?Action=ConfirmSubscription&TopicArn={TOPIC}&Token=abc"
    confirmation = subscription_confirmation(
        message_id="m-1",
        token="abc",
        topic_arn=TOPIC,
        subscribe_url=subscribe_url,
        timestamp_ms=1_700_000_000_000,
        signing_cert_url=CERT_URL,
        signature_version=version,
    )
    goodbye = unsubscribe_confirmation(
        message_id="m-2",
        token="abc",
        topic_arn=TOPIC,
        subscription_arn=f"{TOPIC}:1",
        subscribe_url=subscribe_url,
        timestamp_ms=1_700_000_000_000,
        signing_cert_url=CERT_URL,
        signature_version=version,
    )
    for envelope in (confirmation, goodbye):
        body = to_json(signer.sign(envelope))
        assert consumer_verifies(body, signer.certificate_pem())
        tampered = json.loads(body)
        tampered["Token"] = "abd"
        assert not consumer_verifies(json.dumps(tampered), signer.certificate_pem())


def test_fifo_notification_is_left_unsigned(signer: Signer) -> None:
    envelope = _notification("1", sequence_number="10000000000000003000")
    assert signer.sign(envelope) == envelope
    assert "Signature" not in signer.sign(envelope)


def test_signature_is_inserted_after_signature_version_when_missing(signer: Signer) -> None:
    envelope = _notification("2")
    del envelope["Signature"]
    signed = signer.sign(envelope)
    keys = list(signed)
    assert keys[keys.index("SignatureVersion") + 1] == "Signature"
    assert consumer_verifies(to_json(signed), signer.certificate_pem())


def test_unknown_signature_version_is_rejected(signer: Signer) -> None:
    envelope = dict(_notification("1"), SignatureVersion="3")
    with pytest.raises(InvalidParameterValue):
        signer.sign(envelope)


def test_certificate(signer: Signer) -> None:
    certificate = x509.load_pem_x509_certificate(signer.certificate_pem())
    assert signer.certificate_pem().startswith(b"-----BEGIN CERTIFICATE-----")
    common_name = certificate.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value
    assert common_name == "sns.postroom.local"
    assert certificate.issuer == certificate.subject
    public_key = certificate.public_key()
    assert isinstance(public_key, rsa.RSAPublicKey)
    assert public_key.key_size == 2048
    now = datetime.datetime.now(datetime.UTC)
    assert certificate.not_valid_before_utc <= now
    assert certificate.not_valid_after_utc - now > datetime.timedelta(days=3640)
    assert CERT_PATH.endswith(".pem")
    assert CERT_PATH.startswith("/")


def test_key_and_certificate_persist(tmp_path: Path) -> None:
    directory = tmp_path / "state" / "sns"
    first = Signer.load_or_create(directory, host_for_cert="example.test")
    second = Signer.load_or_create(directory, host_for_cert="example.test")
    assert first.certificate_pem() == second.certificate_pem()
    envelope = _notification("1")
    assert first.sign(envelope) == second.sign(envelope)
    # A message signed before a restart verifies with the certificate served after it.
    assert consumer_verifies(to_json(first.sign(envelope)), second.certificate_pem())
    common_name = first.certificate.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value
    assert common_name == "sns.example.test"


def test_files_are_private(tmp_path: Path) -> None:
    directory = tmp_path / "sns"
    Signer.load_or_create(directory)
    assert stat.S_IMODE(directory.stat().st_mode) == 0o700
    for name in (KEY_FILE, CERT_FILE):
        assert stat.S_IMODE((directory / name).stat().st_mode) == 0o600
    assert b"PRIVATE KEY" in (directory / KEY_FILE).read_bytes()
    leftovers = [p.name for p in directory.iterdir() if p.name.endswith(".tmp")]
    assert leftovers == []


def test_missing_certificate_is_remade_for_the_same_key(tmp_path: Path) -> None:
    first = Signer.load_or_create(tmp_path)
    (tmp_path / CERT_FILE).unlink()
    second = Signer.load_or_create(tmp_path)
    assert consumer_verifies(to_json(first.sign(_notification("2"))), second.certificate_pem())


def test_missing_key_makes_a_new_pair(tmp_path: Path) -> None:
    first = Signer.load_or_create(tmp_path)
    (tmp_path / KEY_FILE).unlink()
    second = Signer.load_or_create(tmp_path)
    assert first.certificate_pem() != second.certificate_pem()
    assert consumer_verifies(to_json(second.sign(_notification("2"))), second.certificate_pem())


def test_concurrent_first_start_agrees_on_one_key(tmp_path: Path) -> None:
    results: list[bytes] = []
    errors: list[BaseException] = []

    def start() -> None:
        try:
            results.append(Signer.load_or_create(tmp_path).certificate_pem())
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=start) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(set(results)) == 1


def test_pem_round_trip_keeps_key_and_certificate() -> None:
    from postroom.sns_signing import Signer as _Signer

    original = _Signer.generate()
    again = _Signer.from_pem(original.to_pem())
    assert again.certificate_pem() == original.certificate_pem()
    text = "Message\nhello\nType\nNotification\n"
    assert again.signature(text, "2") == original.signature(text, "2")
