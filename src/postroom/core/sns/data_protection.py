"""Amazon SNS message data protection policies (PutDataProtectionPolicy / GetDataProtectionPolicy).

postroom stores a topic's policy and returns it as given; it does not audit, mask or deny
message contents. What is checked (AWS Developer Guide › "Message data protection policies"):
the policy is a JSON object of at most 30,720 characters with ``Name``, ``Version`` (2021-06-01)
and a non-empty ``Statement`` list; each statement has ``DataDirection`` (Inbound or Outbound),
a non-empty ``Principal`` and ``DataIdentifier`` list, and an ``Operation`` naming one of
``Audit``, ``Deidentify`` or ``Deny``. Violations are InvalidParameter
("Invalid parameter: DataProtectionPolicy Reason: …", postroom's wording).

Pure: no IO.
"""

from __future__ import annotations

import json
from typing import Any, Final

from postroom.errors import InvalidParameter

MAX_POLICY: Final = 30_720
VERSION: Final = "2021-06-01"
DIRECTIONS: Final = ("Inbound", "Outbound")
OPERATIONS: Final = ("Audit", "Deidentify", "Deny")


def _bad(reason: str) -> InvalidParameter:
    return InvalidParameter(f"Invalid parameter: DataProtectionPolicy Reason: {reason}")


def _strings(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(v, str) and v for v in value)


def validate_policy(text: str) -> str:
    """The policy as given, if valid; an empty string clears the topic's policy."""
    if text == "":
        return text
    if len(text) > MAX_POLICY:
        raise _bad(f"Policy must be at most {MAX_POLICY} characters long")
    try:
        policy = json.loads(text)
    except (ValueError, RecursionError):
        raise _bad("Failed to parse the policy as JSON") from None
    if not isinstance(policy, dict):
        raise _bad("The policy must be a JSON object")
    for name in ("Name", "Version", "Statement"):
        if name not in policy:
            raise _bad(f"{name} is required")
    if not isinstance(policy["Name"], str) or not policy["Name"]:
        raise _bad("Name must be a non-empty string")
    if policy["Version"] != VERSION:
        raise _bad(f"Version must be {VERSION}")
    statements = policy["Statement"]
    if not isinstance(statements, list) or not statements:
        raise _bad("Statement must be a non-empty list")
    for i, st in enumerate(statements):
        if not isinstance(st, dict):
            raise _bad(f"Statement {i} must be an object")
        if st.get("DataDirection") not in DIRECTIONS:
            raise _bad(f"Statement {i}: DataDirection must be Inbound or Outbound")
        for name in ("Principal", "DataIdentifier"):
            if not _strings(st.get(name)):
                raise _bad(f"Statement {i}: {name} must be a non-empty list of strings")
        operation = st.get("Operation")
        if not isinstance(operation, dict) or len(operation) != 1 or next(iter(operation)) not in OPERATIONS:
            raise _bad(f"Statement {i}: Operation must name exactly one of Audit, Deidentify or Deny")
    return text
