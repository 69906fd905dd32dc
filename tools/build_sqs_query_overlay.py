"""Build ``src/postroom/protocol/data/sqs-query-overlay.json``.

botocore's current SQS model is AWS JSON only: it no longer carries the facts that the
query protocol (``Action=...`` form requests, XML responses) needs. An older botocore
release, whose SQS model was still ``protocol: query``, is authoritative for them:

* ``resultWrapper``: the ``<Op>Result`` element that wraps each XML result;
* ``locationName`` / ``flattened``: the wire names of list members and map keys/values
  (``Attribute.1.Name``, ``<Message>`` repeated, ``SendMessageBatchRequestEntry.1.Id``);
* ``error``: the query error code (``AWS.SimpleQueueService.NonExistentQueue``), HTTP
  status and fault of each modelled error.

Only those facts are extracted, and only for shapes and operations that still exist in
the current model. Anything the current model added after the switch gets the query
conventions AWS documents for SQS (``CONVENTIONS`` below), and the script fails if a
list or map shape is left without a rule.

Usage::

    pip download --no-deps botocore==1.31.0 -d /tmp/oldbc
    python tools/build_sqs_query_overlay.py /tmp/oldbc/botocore-1.31.0-py3-none-any.whl
"""

from __future__ import annotations

import gzip
import json
import sys
import zipfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "src" / "postroom" / "protocol" / "data" / "sqs-query-overlay.json"
OLD_PATH = "botocore/data/sqs/2012-11-05/service-2.json"
SERIAL_KEYS = ("locationName", "flattened", "xmlNamespace", "queryName", "xmlAttribute")

# AWS's query conventions for SQS, for shapes the query-era model never had. SQS query
# lists are flattened and each element is named by the singular of the member
# (``AttributeNames`` -> ``AttributeName.1``), so the newer
# ``ReceiveMessage.MessageSystemAttributeNames`` is ``MessageSystemAttributeName.1``.
CONVENTIONS: dict[str, dict[str, Any]] = {
    "MessageSystemAttributeList": {"flattened": True, "member": {"locationName": "MessageSystemAttributeName"}},
}


def _serial(d: dict[str, Any]) -> dict[str, Any]:
    return {k: d[k] for k in SERIAL_KEYS if k in d}


def _ref_patch(old_ref: dict[str, Any], new_ref: dict[str, Any]) -> dict[str, Any]:
    """Serialization traits of a member reference that the current model lost."""
    old, new = _serial(old_ref), _serial(new_ref)
    return {k: v for k, v in old.items() if new.get(k) != v}


def _shape_patch(old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    patch: dict[str, Any] = {k: v for k, v in _serial(old).items() if new.get(k) != v}
    if old.get("exception") and "error" in old:
        patch["error"] = old["error"]
    for part in ("member", "key", "value"):
        if part in old and part in new:
            sub = _ref_patch(old[part], new[part])
            if sub:
                patch[part] = sub
    if "members" in old and "members" in new:
        members = {}
        for name, ref in new["members"].items():
            if name in old["members"]:
                sub = _ref_patch(old["members"][name], ref)
                if sub:
                    members[name] = sub
        if members:
            patch["members"] = members
    return patch


def build(old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    operations: dict[str, Any] = {}
    for name, op in sorted(new["operations"].items()):
        old_op = old["operations"].get(name)
        if "output" not in op:
            continue
        if old_op is not None and "output" in old_op:
            wrapper = old_op["output"].get("resultWrapper")
        else:
            wrapper = f"{name}Result"  # AWS query convention: <Op>Response/<Op>Result
        if wrapper and op["output"].get("resultWrapper") != wrapper:
            operations[name] = {"output": {"resultWrapper": wrapper}}
    shapes: dict[str, Any] = {}
    for name, shape in sorted(new["shapes"].items()):
        if name in old["shapes"]:
            patch = _shape_patch(old["shapes"][name], shape)
        else:
            patch = dict(CONVENTIONS.get(name, {}))
            if shape["type"] in ("list", "map") and not patch:
                raise SystemExit(f"no query convention for new {shape['type']} shape {name}")
        if patch:
            shapes[name] = patch
    return {
        "_source": "derived from botocore 1.31.0 data/sqs/2012-11-05/service-2.json (protocol: query) "
                   "by tools/build_sqs_query_overlay.py",
        "metadata": {"xmlNamespace": old["metadata"]["xmlNamespace"]},
        "operations": operations,
        "shapes": shapes,
    }


def _load_old(path: str) -> dict[str, Any]:
    if path.endswith(".whl"):
        with zipfile.ZipFile(path) as whl:
            data: dict[str, Any] = json.loads(whl.read(OLD_PATH))
            return data
    with open(path, "rb") as f:
        return json.loads(f.read())  # type: ignore[no-any-return]


def _load_current() -> dict[str, Any]:
    import botocore

    p = Path(botocore.__file__).parent / "data" / "sqs" / "2012-11-05" / "service-2.json.gz"
    with gzip.open(p) as f:
        return json.load(f)  # type: ignore[no-any-return]


def main(argv: list[str]) -> None:
    if len(argv) != 2:
        raise SystemExit(__doc__)
    overlay = build(_load_old(argv[1]), _load_current())
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(overlay, indent=1, sort_keys=True) + "\n")
    print(f"wrote {OUT} ({len(overlay['operations'])} operations, {len(overlay['shapes'])} shapes)")


if __name__ == "__main__":
    main(sys.argv)
