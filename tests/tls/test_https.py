"""postroom over HTTPS (issue #15): SQS and SNS through boto3 with TLS verified against the server's
certificate, URLs that say https, SNS envelopes whose certificate the consumer's verifier fetches over
HTTPS, the self-signed certificate kept across restarts, and a certificate of one's own."""

from __future__ import annotations

import json
import stat
import subprocess
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import botocore.exceptions
import pytest
import requests
from cryptography import x509

from postroom.consumer import SignatureError, SnsVerifier, parse_envelope
from tests.api.conftest import REPO, _shutdown, unique
from tests.tls.conftest import TlsServer, aws_client, launch, make_ca_and_leaf


def _receive(sqs: Any, url: str, n: int = 1, timeout: float = 20) -> list[dict[str, Any]]:
    got: list[dict[str, Any]] = []
    deadline = time.monotonic() + timeout
    while len(got) < n and time.monotonic() < deadline:
        got += sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1).get("Messages", [])
    return got


def _subscribed_queue(sns: Any, sqs: Any, topic: str) -> tuple[str, str]:
    url = sqs.create_queue(QueueName=unique("tls-sub"))["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sub = sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn, ReturnSubscriptionArn=True)["SubscriptionArn"]
    return url, sub


# ---------------------------------------------------------------------------------------------
# SQS


def test_sqs_over_https_with_https_queue_urls(tls_server: TlsServer) -> None:
    sqs = aws_client("sqs", tls_server.endpoint, tls_server.ca)
    name = unique("tls")
    url = sqs.create_queue(QueueName=name)["QueueUrl"]
    assert url == f"https://127.0.0.1:{tls_server.port}/000000000000/{name}"
    assert sqs.get_queue_url(QueueName=name)["QueueUrl"] == url
    assert url in sqs.list_queues(QueueNamePrefix=name)["QueueUrls"]
    sqs.send_message(QueueUrl=url, MessageBody="over tls")
    got = _receive(sqs, url)
    assert [m["Body"] for m in got] == ["over tls"]
    sqs.delete_message(QueueUrl=url, ReceiptHandle=got[0]["ReceiptHandle"])
    # The query protocol's XML answers carry https URLs as well.
    r = requests.post(tls_server.endpoint, data={"Action": "GetQueueUrl", "QueueName": name, "Version": "2012-11-05"},
                      verify=str(tls_server.ca), timeout=10)
    assert r.status_code == 200 and f"<QueueUrl>{url}</QueueUrl>" in r.text, r.text


def test_a_client_that_does_not_trust_the_certificate_is_refused(tls_server: TlsServer) -> None:
    untrusting = aws_client("sqs", tls_server.endpoint, None)  # botocore's default CA bundle
    with pytest.raises(botocore.exceptions.SSLError):
        untrusting.list_queues()
    with pytest.raises(requests.exceptions.SSLError):
        requests.get(tls_server.endpoint + "/health", timeout=5)
    # ... and the port does not also speak plain HTTP.
    with pytest.raises(requests.exceptions.ConnectionError):
        requests.get(f"http://127.0.0.1:{tls_server.port}/health", timeout=5)
    # Trusting it works (the same request, the certificate named).
    assert requests.get(tls_server.endpoint + "/health", timeout=5, verify=str(tls_server.ca)).status_code == 200


def test_the_generated_certificate_names_the_local_hosts(tls_server: TlsServer) -> None:
    cert = x509.load_pem_x509_certificate(tls_server.ca.read_bytes())
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert {"localhost"} <= set(san.get_values_for_type(x509.DNSName))
    assert {"127.0.0.1", "::1"} <= {str(ip) for ip in san.get_values_for_type(x509.IPAddress)}
    eku = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert x509.oid.ExtendedKeyUsageOID.SERVER_AUTH in eku
    assert tls_server.data_dir is not None
    for name in ("tls-cert.pem", "tls-key.pem"):
        assert stat.S_IMODE((tls_server.data_dir / name).stat().st_mode) == 0o600, name
    # By name too, not only by address.
    r = requests.get(f"https://localhost:{tls_server.port}/health", verify=str(tls_server.ca), timeout=5)
    assert r.status_code == 200
    log = tls_server.log_path.read_text()
    assert f"AWS_CA_BUNDLE={tls_server.ca.resolve()}" in log, log


# ---------------------------------------------------------------------------------------------
# SNS: envelope links and the consumer's verifier


def test_sns_envelope_links_are_https_and_verify_without_allow_http(tls_server: TlsServer) -> None:
    sqs = aws_client("sqs", tls_server.endpoint, tls_server.ca)
    sns = aws_client("sns", tls_server.endpoint, tls_server.ca)
    topic = sns.create_topic(Name=unique("tls-topic"))["TopicArn"]
    url, sub = _subscribed_queue(sns, sqs, topic)
    sns.publish(TopicArn=topic, Message="signed over https", Subject="s")
    got = _receive(sqs, url)
    assert len(got) == 1
    doc = json.loads(got[0]["Body"])
    base = f"https://127.0.0.1:{tls_server.port}/"
    assert doc["SigningCertURL"].startswith(base) and doc["SigningCertURL"].endswith(".pem"), doc
    assert doc["UnsubscribeURL"].startswith(base), doc
    envelope = parse_envelope(got[0]["Body"])
    assert envelope is not None and envelope.message == "signed over https"

    # The verifier fetches the certificate over HTTPS, TLS checked against the server's certificate.
    verifier = SnsVerifier.for_endpoint(tls_server.endpoint, ca_bundle=tls_server.ca)
    verifier.verify(envelope)
    SnsVerifier(hosts=[f"127.0.0.1:{tls_server.port}"], ca_bundle=tls_server.ca).verify(envelope)
    # ... which is what it checks: a changed message fails, and so does a fetch that cannot trust the TLS peer.
    forged = parse_envelope(got[0]["Body"].replace("signed over https", "forged over https"))
    assert forged is not None
    with pytest.raises(SignatureError, match="bad signature"):
        verifier.verify(forged)
    with pytest.raises(SignatureError, match="cannot load the signing certificate"):
        SnsVerifier.for_endpoint(tls_server.endpoint).verify(envelope)
    # An https endpoint's verifier takes the certificate over HTTPS only; another host is never trusted.
    with pytest.raises(SignatureError, match="HTTPS"):
        verifier.check_cert_url(doc["SigningCertURL"].replace("https://", "http://"))
    with pytest.raises(SignatureError, match="not trusted"):
        SnsVerifier(ca_bundle=tls_server.ca).verify(envelope)

    # The UnsubscribeURL works as handed out, over HTTPS.
    r = requests.get(doc["UnsubscribeURL"], verify=str(tls_server.ca), timeout=10)
    assert r.status_code == 200, r.text
    assert sub not in [s["SubscriptionArn"] for s in sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"]]


def test_replayed_envelopes_point_at_https(tls_server: TlsServer) -> None:
    """Replays deliver without a request to take the address from: their links follow the server's scheme."""
    sqs = aws_client("sqs", tls_server.endpoint, tls_server.ca)
    sns = aws_client("sns", tls_server.endpoint, tls_server.ca)
    topic = sns.create_topic(Name=unique("tls-replay"))["TopicArn"]
    since = int(time.time() * 1000) - 1000
    sns.publish(TopicArn=topic, Message="archived")
    url, sub = _subscribed_queue(sns, sqs, topic)
    r = requests.post(tls_server.endpoint + "/_postroom/replays", json={"topic": topic, "to": sub, "since": since},
                      verify=str(tls_server.ca), timeout=30)
    assert r.status_code == 200, r.text
    got = _receive(sqs, url)
    assert len(got) == 1
    doc = json.loads(got[0]["Body"])
    assert doc["Message"] == "archived"
    assert urlsplit(doc["SigningCertURL"]).scheme == "https", doc
    assert urlsplit(doc["UnsubscribeURL"]).scheme == "https", doc
    envelope = parse_envelope(got[0]["Body"])
    assert envelope is not None
    SnsVerifier.for_endpoint(tls_server.endpoint, ca_bundle=tls_server.ca).verify(envelope)


# ---------------------------------------------------------------------------------------------
# the self-signed certificate's life, and one's own certificate


def test_the_self_signed_certificate_is_kept_across_restarts(tmp_path: Path) -> None:
    srv = launch(("--tls-self-signed",), root=tmp_path)
    try:
        assert srv.data_dir is not None
        cert, key = srv.ca.read_bytes(), (srv.data_dir / "tls-key.pem").read_bytes()
        sqs = aws_client("sqs", srv.endpoint, srv.ca)
        url = sqs.create_queue(QueueName=unique("kept"))["QueueUrl"]
        sqs.send_message(QueueUrl=url, MessageBody="before")
        assert "made a new one" in srv.log_path.read_text()
        srv.restart()
        assert srv.ca.read_bytes() == cert
        assert (srv.data_dir / "tls-key.pem").read_bytes() == key
        assert "reusing the one" in srv.log_path.read_text()
        # A client set up before the restart goes on trusting the server.
        assert [m["Body"] for m in _receive(sqs, url)] == ["before"]
    finally:
        _shutdown(srv)


def test_own_certificate_and_key(tmp_path: Path) -> None:
    ca, cert, key = make_ca_and_leaf(tmp_path)
    srv = launch(("--tls-cert", str(cert), "--tls-key", str(key)), ca=ca, root=tmp_path)
    try:
        sqs = aws_client("sqs", srv.endpoint, ca)
        url = sqs.create_queue(QueueName=unique("own"))["QueueUrl"]
        assert url.startswith(f"https://127.0.0.1:{srv.port}/")
        sqs.send_message(QueueUrl=url, MessageBody="own cert")
        assert [m["Body"] for m in _receive(sqs, url)] == ["own cert"]
        assert srv.data_dir is not None
        assert not (srv.data_dir / "tls-cert.pem").exists()  # nothing generated
        # The server presents the given certificate: trusting only the CA that issued it is enough, and
        # the server's SNS signing certificate is verified over the same TLS.
        sns = aws_client("sns", srv.endpoint, ca)
        topic = sns.create_topic(Name=unique("own-topic"))["TopicArn"]
        queue, _ = _subscribed_queue(sns, sqs, topic)
        sns.publish(TopicArn=topic, Message="m")
        envelope = parse_envelope(_receive(sqs, queue)[0]["Body"])
        assert envelope is not None and envelope.signing_cert_url is not None
        assert envelope.signing_cert_url.startswith("https://")
        SnsVerifier.for_endpoint(srv.endpoint, ca_bundle=ca).verify(envelope)
        with pytest.raises(botocore.exceptions.SSLError):
            aws_client("sqs", srv.endpoint, None).list_queues()
    finally:
        _shutdown(srv)


def _serve(*args: str, data_dir: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "postroom", "serve", "--port", "1", "--data-dir", str(data_dir),
                           *args], cwd=REPO, capture_output=True, text=True, timeout=60)


def test_bad_tls_options_are_refused_before_serving(tmp_path: Path) -> None:
    _, cert, key = make_ca_and_leaf(tmp_path)
    other = tmp_path / "other"
    other.mkdir()
    _, other_cert, _ = make_ca_and_leaf(other)
    only_cert = _serve("--tls-cert", str(cert), data_dir=tmp_path / "d1")
    assert only_cert.returncode == 2 and "--tls-cert and --tls-key go together" in only_cert.stderr
    both = _serve("--tls-self-signed", "--tls-cert", str(cert), "--tls-key", str(key), data_dir=tmp_path / "d2")
    assert both.returncode == 2 and "not both" in both.stderr
    mismatched = _serve("--tls-cert", str(other_cert), "--tls-key", str(key), data_dir=tmp_path / "d3")
    assert mismatched.returncode == 1 and "cannot serve HTTPS" in mismatched.stderr, mismatched.stderr


def test_consume_cli_verifies_sns_signatures_over_https(tls_server: TlsServer, tmp_path: Path) -> None:
    """``postroom consume --verify-sns`` against an HTTPS postroom fetches the signing certificate
    over verified TLS, trusting the CA bundle AWS tools use (``AWS_CA_BUNDLE``): the handler gets
    the unwrapped message (the refusal without the bundle is pinned by the verifier tests above)."""
    sqs = aws_client("sqs", tls_server.endpoint, tls_server.ca)
    sns = aws_client("sns", tls_server.endpoint, tls_server.ca)
    topic = sns.create_topic(Name=unique("tls-consume"))["TopicArn"]
    url, _ = _subscribed_queue(sns, sqs, topic)
    sns.publish(TopicArn=topic, Message="verified over https")

    def consume(ca: Path, log: Path) -> subprocess.CompletedProcess[bytes]:
        env = {"PATH": "/usr/bin:/bin", "AWS_ACCESS_KEY_ID": "x", "AWS_SECRET_ACCESS_KEY": "x",
               "AWS_DEFAULT_REGION": "us-east-1", "PYTHONPATH": str(REPO), "CONSUMER_LOG": str(log),
               "CONSUMER_SLEEP": "0", "AWS_CA_BUNDLE": str(ca)}
        return subprocess.run([sys.executable, "-m", "postroom", "consume", url, "--handler",
                               "tests.consumer.apps:slow_record", "--verify-sns", "--endpoint-url",
                               tls_server.endpoint, "--idle-timeout", "3", "--max-messages", "1",
                               "--visibility-timeout", "1"], cwd=REPO, env=env, capture_output=True, timeout=120)

    handled = tmp_path / "handled.log"
    p = consume(tls_server.ca, handled)
    assert handled.exists(), p.stderr.decode()[-2000:]
    assert handled.read_text().splitlines() == ["start verified over https", "done verified over https"]
