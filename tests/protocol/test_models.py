"""The query overlay merged onto botocore's JSON-only SQS model."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from postroom.protocol.models import load_overlay, sqs_model, sqs_query_error_code

from .support import MODEL, OPERATIONS, op

REPO = Path(__file__).resolve().parents[2]


def test_model_is_cached_and_still_json() -> None:
    assert sqs_model() is sqs_model()
    assert MODEL.protocol == "json"
    assert MODEL.metadata["xmlNamespace"] == "http://queue.amazonaws.com/doc/2012-11-05/"


@pytest.mark.parametrize("name", OPERATIONS)
def test_every_output_has_result_wrapper(name: str) -> None:
    shape = op(name).output_shape
    if shape is not None:
        assert shape.serialization["resultWrapper"] == f"{name}Result"


def test_query_wire_names() -> None:
    send = op("SendMessageBatch").input_shape
    entries = send.members["Entries"]
    assert entries.serialization["flattened"] is True
    assert entries.member.serialization["name"] == "SendMessageBatchRequestEntry"
    attrs = entries.member.members["MessageAttributes"]
    assert attrs.serialization["name"] == "MessageAttribute"
    assert (attrs.key.serialization["name"], attrs.value.serialization["name"]) == ("Name", "Value")
    recv = op("ReceiveMessage")
    assert recv.output_shape.members["Messages"].member.serialization["name"] == "Message"
    assert recv.input_shape.members["AttributeNames"].member.serialization["name"] == "AttributeName"
    assert recv.input_shape.members["MessageSystemAttributeNames"].member.serialization["name"] == \
        "MessageSystemAttributeName"
    assert op("ListQueueTags").output_shape.members["Tags"].serialization["name"] == "Tag"
    assert op("UntagQueue").input_shape.members["TagKeys"].member.serialization["name"] == "TagKey"


@pytest.mark.parametrize(("json_code", "query_code"), [
    ("QueueDoesNotExist", "AWS.SimpleQueueService.NonExistentQueue"),
    ("QueueDeletedRecently", "AWS.SimpleQueueService.QueueDeletedRecently"),
    ("QueueNameExists", "QueueAlreadyExists"),
    ("EmptyBatchRequest", "AWS.SimpleQueueService.EmptyBatchRequest"),
    ("MessageNotInflight", "AWS.SimpleQueueService.MessageNotInflight"),
    ("PurgeQueueInProgress", "AWS.SimpleQueueService.PurgeQueueInProgress"),
    ("ReceiptHandleIsInvalid", "ReceiptHandleIsInvalid"),
    ("InvalidParameterValue", "InvalidParameterValue"),
    ("MissingParameter", "MissingParameter"),
])
def test_query_error_codes(json_code: str, query_code: str) -> None:
    assert sqs_query_error_code(json_code) == query_code


def test_overlay_file_is_small_and_derived() -> None:
    overlay = load_overlay()
    assert set(overlay) == {"_source", "metadata", "operations", "shapes"}
    allowed = {"locationName", "flattened", "error", "member", "key", "value", "members", "xmlNamespace"}
    for patch in overlay["shapes"].values():
        assert set(patch) <= allowed


def _old_botocore_wheel(tmp: Path) -> str:
    """The botocore 1.31.0 wheel the overlay is built from: POSTROOM_OLD_BOTOCORE_WHEEL, or
    downloaded from PyPI. Offline, the test skips — except under CI, where it fails."""
    given = os.environ.get("POSTROOM_OLD_BOTOCORE_WHEEL")
    if given:
        return given
    done = subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--only-binary=:all:",
                           "botocore==1.31.0", "-d", str(tmp)], capture_output=True, text=True, timeout=120)
    wheels = sorted(tmp.glob("botocore-1.31.0-*.whl"))
    if done.returncode != 0 or not wheels:
        if os.environ.get("CI") == "true":
            pytest.fail(f"could not download botocore 1.31.0: {done.stderr[-500:]}")
        pytest.skip("botocore 1.31.0 is not downloadable here; set POSTROOM_OLD_BOTOCORE_WHEEL")
    return str(wheels[0])


def test_overlay_is_current(tmp_path: Path) -> None:
    import importlib.util

    spec = importlib.util.spec_from_file_location("builder", REPO / "tools" / "build_sqs_query_overlay.py")
    assert spec is not None and spec.loader is not None
    builder = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(builder)
    wheel = _old_botocore_wheel(tmp_path)
    built = builder.build(builder._load_old(wheel), builder._load_current())
    assert json.loads(json.dumps(built)) == load_overlay()
