"""SNS message data protection policies: PutDataProtectionPolicy stores a topic's policy,
GetDataProtectionPolicy returns it. postroom checks the policy's shape and does not audit, mask or
deny message contents (README: known differences).

AWS docs: *Amazon SNS API Reference* › PutDataProtectionPolicy, GetDataProtectionPolicy ("The
JSON serialization of the topic's DataProtectionPolicy"); *Developer Guide* › "Message data
protection policies" (Name, Version 2021-06-01, Statement with DataDirection, Principal,
DataIdentifier and one Operation: Audit, De-identify or Deny).
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.sns.conftest import assert_sns_error, new_topic, unique

POLICY = {
    "Name": "basicPII-protection",
    "Description": "Protect basic types of sensitive data",
    "Version": "2021-06-01",
    "Statement": [{
        "Sid": "basicPII-inbound-protection",
        "DataDirection": "Inbound",
        "Principal": ["*"],
        "DataIdentifier": ["arn:aws:dataprotection::aws:data-identifier/CreditCardNumber"],
        "Operation": {"Deny": {}},
    }],
}


def test_put_and_get_policy(sns: Any) -> None:
    """GetDataProtectionPolicy returns the policy PutDataProtectionPolicy stored, as given; a topic
    without one answers an empty policy; a second put replaces the first."""
    topic = new_topic(sns)
    assert sns.get_data_protection_policy(ResourceArn=topic).get("DataProtectionPolicy", "") == ""
    text = json.dumps(POLICY)
    sns.put_data_protection_policy(ResourceArn=topic, DataProtectionPolicy=text)
    assert sns.get_data_protection_policy(ResourceArn=topic)["DataProtectionPolicy"] == text
    other = json.dumps({**POLICY, "Name": "second"})
    sns.put_data_protection_policy(ResourceArn=topic, DataProtectionPolicy=other)
    assert json.loads(sns.get_data_protection_policy(ResourceArn=topic)["DataProtectionPolicy"])["Name"] == "second"


def test_policy_goes_with_its_topic(sns: Any) -> None:
    """A topic deleted and created again under the same name starts without the old policy."""
    name = unique("dp")
    topic = new_topic(sns, name=name)
    sns.put_data_protection_policy(ResourceArn=topic, DataProtectionPolicy=json.dumps(POLICY))
    sns.delete_topic(TopicArn=topic)
    assert new_topic(sns, name=name) == topic
    assert sns.get_data_protection_policy(ResourceArn=topic).get("DataProtectionPolicy", "") == ""


@pytest.mark.parametrize(("policy", "reason"), [
    ("{not json", "JSON"),
    (json.dumps({k: v for k, v in POLICY.items() if k != "Name"}), "Name is required"),
    (json.dumps({**POLICY, "Version": "2012-10-17"}), "Version must be 2021-06-01"),
    (json.dumps({**POLICY, "Statement": []}), "Statement must be a non-empty list"),
    (json.dumps({**POLICY, "Statement": [{**POLICY["Statement"][0], "Operation": {}}]}),  # type: ignore[index]
     "Operation"),
    (json.dumps({**POLICY, "Statement": [{**POLICY["Statement"][0], "DataDirection": "Sideways"}]}),  # type: ignore[index]
     "DataDirection"),
])
def test_invalid_policy(sns: Any, policy: str, reason: str) -> None:
    """A policy that is not JSON, or lacks Name, Version 2021-06-01, a Statement, a statement's
    DataDirection or its one Operation, is InvalidParameter (400) and leaves the stored one."""
    topic = new_topic(sns)
    with pytest.raises(ClientError) as exc:
        sns.put_data_protection_policy(ResourceArn=topic, DataProtectionPolicy=policy)
    assert_sns_error(exc, "InvalidParameter", 400, reason)
    assert sns.get_data_protection_policy(ResourceArn=topic).get("DataProtectionPolicy", "") == ""


def test_policy_of_missing_topic(sns: Any) -> None:
    """AWS: a ResourceArn that names no topic is NotFound (404); one that is no ARN is
    InvalidParameter."""
    missing = new_topic(sns).rsplit(":", 1)[0] + ":" + unique("none")
    with pytest.raises(ClientError) as exc:
        sns.get_data_protection_policy(ResourceArn=missing)
    assert_sns_error(exc, "NotFound", 404)
    with pytest.raises(ClientError) as exc:
        sns.put_data_protection_policy(ResourceArn="nonsense", DataProtectionPolicy=json.dumps(POLICY))
    assert_sns_error(exc, "InvalidParameter", 400)


def test_create_topic_with_a_policy(sns: Any) -> None:
    """CreateTopic's DataProtectionPolicy parameter (AWS API Reference › CreateTopic) stores the
    topic's policy, as PutDataProtectionPolicy does; an invalid one is InvalidParameter and creates
    no topic."""
    text = json.dumps(POLICY)
    topic = sns.create_topic(Name=unique("dpc"), DataProtectionPolicy=text)["TopicArn"]
    assert sns.get_data_protection_policy(ResourceArn=topic)["DataProtectionPolicy"] == text
    name = unique("dpc-bad")
    with pytest.raises(ClientError) as exc:
        sns.create_topic(Name=name, DataProtectionPolicy="{not json")
    assert_sns_error(exc, "InvalidParameter", 400, "JSON")
    with pytest.raises(ClientError) as missing:
        sns.get_topic_attributes(TopicArn=topic.rsplit(":", 1)[0] + ":" + name)
    assert_sns_error(missing, "NotFound", 404)
