"""import_asyncapi: consumers:/producers: sections from AsyncAPI 3 documents (pure: no server)."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest
import yaml

from postroom.topology.asyncapi import AsyncApiError, import_asyncapi, slugify
from postroom.topology.loader import SpecError, loads
from postroom.topology.model import Consumer, Producer

FIXTURES = Path(__file__).parent / "fixtures"
BILLING = FIXTURES / "asyncapi_billing.yaml"
WAREHOUSE = FIXTURES / "asyncapi_warehouse.yaml"


def test_receive_operations_become_a_consumer_named_after_the_title() -> None:
    text = import_asyncapi(BILLING)
    assert text.startswith("# Imported from asyncapi_billing.yaml (AsyncAPI 3.0.0: Billing Service 2.3.0)")
    assert yaml.safe_load(text) == {
        "consumers": {"billing-service": {"queue": "billing.fifo", "receives": ["orders.fifo", "payments.fifo"]}},
        "producers": {"billing-service": {"publishes": ["invoices"]}},
    }


def test_extensions_sqs_bindings_component_refs_and_address_fallbacks() -> None:
    assert yaml.safe_load(import_asyncapi(WAREHOUSE)) == {
        "consumers": {
            # receive on an SQS-bound channel: the consumer reads that queue
            "picker": {"queue": "shipping.fifo"},
            # channel via #/components/channels; x-postroom-name over a parameterised address
            "notifier": {"queue": "notifier", "receives": ["orders.fifo", "orders-eu"]},
        },
        # send on SQS channels; `labels` has a null address, so its key names it
        "producers": {"notifier": {"sends": ["labels", "shipping.fifo"]}},
    }


def test_imported_sections_load_into_a_file_that_declares_the_resources() -> None:
    header = textwrap.dedent("""\
        version: 1
        environments:
          staging: {variables: {prefix: "stg-"}, scope: ["stg-*"]}
        queues:
          ${prefix}billing.fifo: {}
        topics:
          ${prefix}orders.fifo: {}
          ${prefix}payments.fifo: {}
          ${prefix}invoices: {}
        subscriptions:
          - {topic: "${prefix}orders.fifo", queue: "${prefix}billing.fifo"}
          - {topic: "${prefix}payments.fifo", queue: "${prefix}billing.fifo"}
        """)
    declared = loads(header + import_asyncapi(BILLING, prefix="${prefix}"), env="staging")
    assert declared.consumers == {"billing-service": Consumer("billing-service", "stg-billing.fifo",
                                                              ("stg-orders.fifo", "stg-payments.fifo"))}
    assert declared.producers == {"billing-service": Producer("billing-service", ("stg-invoices",), ())}
    # a channel the file does not declare is caught by the loader, with the line of the import
    with pytest.raises(SpecError, match=r"producers\.billing-service\.publishes\[0\]: topic published by producer "
                                        r"billing-service 'stg-invoices' is not declared"):
        loads(header.replace("  ${prefix}invoices: {}\n", "") + import_asyncapi(BILLING, prefix="${prefix}"),
              env="staging")


def test_json_documents_are_read_too(tmp_path: Path) -> None:
    path = tmp_path / "billing.json"
    path.write_text(json.dumps(yaml.safe_load(BILLING.read_text())))
    assert yaml.safe_load(import_asyncapi(path)) == yaml.safe_load(import_asyncapi(BILLING))


def _doc(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "spec.yaml"
    path.write_text(textwrap.dedent(text))
    return path


def test_asyncapi_2_is_refused_with_a_conversion_hint(tmp_path: Path) -> None:
    path = _doc(tmp_path, """\
        asyncapi: 2.6.0
        info: {title: Old, version: '1'}
        channels:
          orders: {subscribe: {message: {payload: {type: object}}}}
        """)
    with pytest.raises(AsyncApiError, match=r"asyncapi: 2\.6\.0 — only AsyncAPI 3\.x .*'asyncapi convert'"):
        import_asyncapi(path)


@pytest.mark.parametrize(("operation", "message"), [
    ("{action: receive}", r"operations\.op\.channel: missing"),
    ("{action: receive, channel: {$ref: '#/channels/nope'}}", r"\$ref '#/channels/nope' does not resolve: no 'nope'"),
    ("{action: receive, channel: {$ref: 'other.yaml#/channels/a'}}", r"points outside the document"),
    ("{action: publish, channel: {$ref: '#/channels/a'}}", r"action must be 'send' or 'receive'"),
    ("{action: receive, channel: {$ref: '#/channels/a'}}", r"consumer svc receives a but no queue is named"),
    ("{action: send, channel: {$ref: '#/channels/bad'}}", r"address 'orders\.\{region\}'.*x-postroom-name"),
])
def test_errors_are_clear(tmp_path: Path, operation: str, message: str) -> None:
    path = _doc(tmp_path, f"""\
        asyncapi: 3.0.0
        info: {{title: Svc, version: '1'}}
        channels:
          a: {{address: a}}
          bad: {{address: 'orders.{{region}}'}}
        operations:
          op: {operation}
        """)
    with pytest.raises(AsyncApiError, match=message):
        import_asyncapi(path)


def test_a_consumer_cannot_read_two_queues(tmp_path: Path) -> None:
    path = _doc(tmp_path, """\
        asyncapi: 3.0.0
        info: {title: Svc, version: '1'}
        channels:
          q1: {address: q1, bindings: {sqs: {}}}
          q2: {address: q2, bindings: {sqs: {}}}
        operations:
          a: {action: receive, channel: {$ref: '#/channels/q1'}}
          b: {action: receive, channel: {$ref: '#/channels/q2'}}
        """)
    with pytest.raises(AsyncApiError, match=r"consumer svc would read two queues \(q1 and q2\)"):
        import_asyncapi(path)


def test_no_operations_and_not_a_document(tmp_path: Path) -> None:
    with pytest.raises(AsyncApiError, match="no operations"):
        import_asyncapi(_doc(tmp_path, "asyncapi: 3.0.0\ninfo: {title: x, version: '1'}\nchannels: {}\n"))
    with pytest.raises(AsyncApiError, match="not an AsyncAPI document"):
        import_asyncapi(_doc(tmp_path, "- just a list\n"))
    with pytest.raises(AsyncApiError, match="cannot read"):
        import_asyncapi(tmp_path / "missing.yaml")


def test_slugify() -> None:
    assert slugify("Billing Service (EU)") == "billing-service-eu"
    assert slugify("***") == "app"
