"""``consumers:`` and ``producers:`` sections from an AsyncAPI 3 document.

An AsyncAPI 3 document describes one application: its ``channels`` (here: SNS topics or SQS
queues, named by the channel's ``address``, or by its key when the address is null) and its
``operations``, each ``action: receive`` or ``action: send`` on a channel referenced as
``channel: {$ref: '#/channels/<id>'}`` (AsyncAPI 3.0 spec, "Operation Object").

The mapping to postroom.yaml:

- a channel is a topic, unless it has an ``sqs`` binding (and no ``sns`` one): then it is a queue;
- ``receive`` on a topic → the consumer *receives* that topic; ``receive`` on a queue → the
  consumer reads that queue;
- ``send`` on a topic → the producer *publishes* to it; ``send`` on a queue → the producer *sends*;
- the consumer's name is ``x-postroom-consumer`` (on the operation, else on ``info``), else the
  document's ``info.title`` slugified; producers likewise with ``x-postroom-producer``;
- the queue a consumer reads is ``x-postroom-queue`` (operation, else ``info``), else the queue
  channel it receives from. A consumer that receives topics and names no queue is an error: the
  whole point of the section is to say which queue must be subscribed to what.
- a channel's ``x-postroom-name`` overrides its address (for parameterised addresses such as
  ``orders.{region}``, which are not resource names).

Only local references (``#/…``) are followed; a document split over several files must be
bundled first (``asyncapi bundle``).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import yaml

_SLUG: Final = re.compile(r"[^a-z0-9]+")
_NAME: Final = re.compile(r"[A-Za-z0-9_-]+(\.fifo)?")


class AsyncApiError(ValueError):
    """The document cannot be imported; the message says why and what to change."""


@dataclass
class _App:
    queue: str | None = None
    receives: list[str] = field(default_factory=list)
    publishes: list[str] = field(default_factory=list)
    sends: list[str] = field(default_factory=list)


def slugify(title: str) -> str:
    """``Billing Service`` → ``billing-service``."""
    return _SLUG.sub("-", title.lower()).strip("-") or "app"


def _pointer(doc: Any, ref: str, where: str) -> tuple[Any, str]:
    """Follow a local JSON pointer (RFC 6901); returns the target and its last segment."""
    if not ref.startswith("#/"):
        raise AsyncApiError(f"{where}: $ref '{ref}' points outside the document; only local references (#/…) are "
                            "followed — bundle the document first (asyncapi bundle)")
    node = doc
    segment = ""
    for raw in ref[2:].split("/"):
        segment = raw.replace("~1", "/").replace("~0", "~")
        if not isinstance(node, dict) or segment not in node:
            raise AsyncApiError(f"{where}: $ref '{ref}' does not resolve: no '{segment}' there — "
                                "check the channel id under channels:")
        node = node[segment]
    return node, segment


def _resolve(doc: Any, node: Any, key: str, where: str) -> tuple[dict[str, Any], str]:
    seen: set[str] = set()
    while isinstance(node, dict) and "$ref" in node:
        ref = str(node["$ref"])
        if ref in seen:
            raise AsyncApiError(f"{where}: $ref cycle through '{ref}'")
        seen.add(ref)
        node, key = _pointer(doc, ref, where)
    if not isinstance(node, dict):
        raise AsyncApiError(f"{where}: expected an object, got {type(node).__name__}")
    return node, key


@dataclass(frozen=True)
class _Channel:
    name: str
    is_queue: bool


def _channel(doc: dict[str, Any], operation: dict[str, Any], op_id: str, prefix: str) -> _Channel:
    where = f"operations.{op_id}.channel"
    ref = operation.get("channel")
    if not isinstance(ref, dict) or "$ref" not in ref:
        raise AsyncApiError(f"{where}: missing — an AsyncAPI 3 operation names its channel as "
                            "channel: {$ref: '#/channels/<id>'}")
    channel, key = _resolve(doc, ref, "", where)
    name = channel.get("x-postroom-name") or channel.get("address") or key
    if not isinstance(name, str) or _NAME.fullmatch(name) is None:
        raise AsyncApiError(f"{where}: channel '{key}' has address {name!r}, which is not an SNS topic or SQS queue "
                            "name (letters, digits, '-', '_', optional .fifo) — give the channel an "
                            "'x-postroom-name: <topic or queue name>'")
    bindings = channel.get("bindings") or {}
    is_queue = isinstance(bindings, dict) and "sqs" in bindings and "sns" not in bindings
    return _Channel(prefix + name, is_queue)


def _read(path: Path) -> dict[str, Any]:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise AsyncApiError(f"{path}: cannot read: {exc.strerror or exc}") from exc
    try:
        doc = json.loads(text) if text.lstrip().startswith("{") else yaml.safe_load(text)
    except (ValueError, yaml.YAMLError) as exc:
        raise AsyncApiError(f"{path}: not valid YAML or JSON: {exc}") from exc
    if not isinstance(doc, dict):
        raise AsyncApiError(f"{path}: not an AsyncAPI document (expected a mapping with 'asyncapi: 3.x')")
    version = str(doc.get("asyncapi", ""))
    if not version.startswith("3."):
        hint = (" — AsyncAPI 2 describes publish/subscribe from the server's side; convert it with "
                "'asyncapi convert' first" if version.startswith("2.") else "")
        raise AsyncApiError(f"{path}: asyncapi: {version or '(missing)'} — only AsyncAPI 3.x documents are read{hint}")
    return doc


def _extension(name: str, operation: dict[str, Any], info: dict[str, Any]) -> str | None:
    value = operation.get(name, info.get(name))
    return str(value) if value is not None else None


def _info(doc: dict[str, Any]) -> dict[str, Any]:
    info = doc.get("info")
    return info if isinstance(info, dict) else {}


def _collect(doc: dict[str, Any], prefix: str) -> tuple[dict[str, _App], dict[str, _App]]:
    info = _info(doc)
    title = slugify(str(info.get("title", "app")))
    operations = doc.get("operations") or {}
    if not isinstance(operations, dict) or not operations:
        raise AsyncApiError("the document has no operations: nothing says what the application sends or receives")
    consumers: dict[str, _App] = {}
    producers: dict[str, _App] = {}
    for op_id, operation in operations.items():
        if isinstance(operation, dict) and "$ref" in operation:
            operation, _ = _resolve(doc, operation, op_id, f"operations.{op_id}")
        if not isinstance(operation, dict) or operation.get("action") not in ("send", "receive"):
            raise AsyncApiError(f"operations.{op_id}: action must be 'send' or 'receive'")
        channel = _channel(doc, operation, op_id, prefix)
        if operation["action"] == "receive":
            name = _extension("x-postroom-consumer", operation, info) or title
            app = consumers.setdefault(name, _App())
            queue = _extension("x-postroom-queue", operation, info)
            queue = prefix + queue if queue else (channel.name if channel.is_queue else None)
            if queue is not None:
                if app.queue is not None and app.queue != queue:
                    raise AsyncApiError(f"operations.{op_id}: consumer {name} would read two queues ({app.queue} and "
                                        f"{queue}) — give this operation its own 'x-postroom-consumer: <name>'")
                app.queue = queue
            if not channel.is_queue and channel.name not in app.receives:
                app.receives.append(channel.name)
        else:
            name = _extension("x-postroom-producer", operation, info) or title
            app = producers.setdefault(name, _App())
            target = app.sends if channel.is_queue else app.publishes
            if channel.name not in target:
                target.append(channel.name)
    for name, app in consumers.items():
        if app.queue is None:
            raise AsyncApiError(f"consumer {name} receives {', '.join(app.receives)} but no queue is named — add "
                                "'x-postroom-queue: <queue name>' to info (or to the receive operation)")
    return consumers, producers


def import_asyncapi(path: Path, prefix: str = "") -> str:
    """The YAML text of ``consumers:``/``producers:`` for the document at ``path``, to paste into
    postroom.yaml. ``prefix`` is put before every queue and topic name (e.g. ``${prefix}``, so the
    result works in every environment of the file). Raises :class:`AsyncApiError`."""
    doc = _read(path)
    consumers, producers = _collect(doc, prefix)
    info = _info(doc)
    sections: dict[str, Any] = {}
    if consumers:
        sections["consumers"] = {name: {"queue": app.queue, **({"receives": app.receives} if app.receives else {})}
                                 for name, app in sorted(consumers.items())}
    if producers:
        sections["producers"] = {name: {k: v for k, v in (("publishes", app.publishes), ("sends", app.sends)) if v}
                                 for name, app in sorted(producers.items())}
    header = (f"# Imported from {Path(path).name} (AsyncAPI {doc.get('asyncapi')}: "
              f"{info.get('title', '?')} {info.get('version', '')}".rstrip() + ") by postroom import-asyncapi.\n"
              "# consumers: from its 'receive' operations, producers: from its 'send' operations.\n")
    return header + yaml.safe_dump(sections, sort_keys=False, default_flow_style=None, allow_unicode=True, width=100)
