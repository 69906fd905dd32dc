"""The notification outbox (SMS, email, push) is in the store, so nodes sharing PostgreSQL are one
outbox: what one node's publish would have sent is read back through any other node."""

from __future__ import annotations

from tests.multinode.conftest import Cluster
from tests.sns.conftest import make_sns, unique
from tests.sns.test_platform import outbox
from tests.sns.test_sms import phone


def test_outbox_is_shared_by_postgres_nodes(nodes: Cluster) -> None:
    """A text published through node 0 is in the outbox read from node 1, and an endpoint created
    on node 0 is published to through node 1, its push read back from node 2."""
    first, second, third = nodes.nodes
    a, b = make_sns(first.endpoint), make_sns(second.endpoint)
    number = phone()
    message_id = a.publish(PhoneNumber=number, Message="via node a")["MessageId"]
    assert [e["message_id"] for e in outbox(second, "sms", number)] == [message_id]
    app = a.create_platform_application(Name=unique("app"), Platform="GCM",
                                        Attributes={"PlatformCredential": "k"})["PlatformApplicationArn"]
    endpoint = a.create_platform_endpoint(PlatformApplicationArn=app, Token=unique("tok"))["EndpointArn"]
    pushed = b.publish(TargetArn=endpoint, Message="via node b")["MessageId"]
    assert [e["message_id"] for e in outbox(third, "push", None) if e["endpoint_arn"] == endpoint] == [pushed]
