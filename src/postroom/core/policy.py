"""Resource policies (a queue's ``Policy``, a topic's ``Policy``), evaluated as AWS evaluates them.

One evaluator, shared by the server (which enforces it: cross-account SQS and SNS calls, SNS
deliveries into queues) and by the topology tool's QUEUE-POLICY check (which reports it), so
both give the same verdict.

AWS's rules (IAM User Guide, "Policy evaluation logic", "IAM JSON policy elements"):

- **Explicit Deny wins.** A matching ``Deny`` statement denies, whatever allows.
- Otherwise a matching ``Allow`` allows; with none the request is *implicitly* denied.
- A statement matches when its ``Principal`` (or ``NotPrincipal``), ``Action`` (or
  ``NotAction``), ``Resource`` (or ``NotResource``; absent matches, as SQS queue policies
  often leave it out) and every ``Condition`` match.
- Principals: ``"*"`` and ``{"AWS": "*"}`` are everyone (IAM: "equivalent"); an account id
  or ``arn:aws:iam::<account>:root`` is that account's principals; ``{"Service": "…"}`` a
  service principal (``sns.amazonaws.com``). A string or a list.
- Actions: ``<service>:<name>``, the service prefix and the name compared case-insensitively,
  ``*`` and ``?`` wildcards (``sqs:*``, ``SQS:Send*``, ``*``).
- Resources and ``Arn*`` conditions: case-sensitive, each of the six colon-delimited parts
  of the ARN compared separately with ``*``/``?`` wildcards (IAM: "ArnEquals, ArnLike …
  each of the six colon-delimited components of the ARN is checked separately and each can
  include multi-character match wildcards (*) or single-character match wildcards (?)").
- Conditions: every operator block must hold (AND), within a block every key (AND), and a
  key holds when any of its values matches (OR); a negated operator (``StringNotEquals``,
  ``ArnNotLike``…) holds when none does. Key names are case-insensitive. A key the request
  does not carry makes a condition false, and a negated one true (IAM: "If the policy
  condition requires that the key is not matched, such as StringNotLike or ArnNotLike, and
  the right key is not present, the condition is true"); ``…IfExists`` holds when the key
  is absent; ``Null`` tests presence. An operator postroom does not know makes the
  statement not match.

The topology tool does not always know the request: ``Request.unknown`` names context keys
(and ``"resource"``) whose value cannot be known; a statement that depends on one matches
*perhaps*, and the decision is then ``Unknown`` unless a definite Deny or Allow settles it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Final, Literal

Effect = Literal["Allow", "Deny", "ImplicitDeny", "Unknown"]

SNS_PRINCIPAL: Final = "sns.amazonaws.com"
RESOURCE: Final = "resource"
"""The pseudo context key ``Request.unknown`` uses for a resource ARN that is not known."""


# ---- the request ---------------------------------------------------------------------------

@dataclass(frozen=True)
class Principal:
    """Who asks: an account (its root principal, as postroom has no IAM users) or an AWS
    service principal such as ``sns.amazonaws.com``."""

    account: str | None = None
    service: str | None = None

    @property
    def arn(self) -> str:
        return f"arn:aws:iam::{self.account}:root" if self.account else (self.service or "")


def account_principal(account: str) -> Principal:
    return Principal(account=account)


def service_principal(service: str) -> Principal:
    return Principal(service=service)


@dataclass(frozen=True)
class Request:
    """What is asked: who, which action(s) (aliases: a statement naming any of them matches,
    e.g. ``sqs:SendMessage`` and ``sqs:SendMessageBatch``), on which resource ARN, with which
    context keys (``aws:SourceArn``…, names compared case-insensitively)."""

    principal: Principal
    actions: tuple[str, ...]
    resource: str | None
    context: Mapping[str, str] = field(default_factory=dict)
    unknown: frozenset[str] = frozenset()
    """Lower-case context keys (and :data:`RESOURCE`) whose value is not known."""


@dataclass(frozen=True)
class Decision:
    effect: Effect
    reason: str
    statement: str | None = None
    """The deciding statement's Sid (or ``#<index>``)."""

    @property
    def allowed(self) -> bool:
        return self.effect == "Allow"

    @property
    def explicit_deny(self) -> bool:
        return self.effect == "Deny"


# ---- parsing ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class Condition:
    operator: str
    """Lower-case base operator, without ``IfExists``: ``stringequals``, ``arnlike``, ``null``…"""
    if_exists: bool
    key: str
    """Lower-case context key."""
    values: tuple[str, ...]


@dataclass(frozen=True)
class Statement:
    sid: str
    effect: str
    principal: Mapping[str, tuple[str, ...]] | None
    """``{"*": ("*",)}`` for ``"*"``; else principal type (``AWS``, ``Service``…) to values."""
    not_principal: Mapping[str, tuple[str, ...]] | None
    actions: tuple[str, ...] | None
    not_actions: tuple[str, ...] | None
    resources: tuple[str, ...] | None
    not_resources: tuple[str, ...] | None
    conditions: tuple[Condition, ...]
    valid: bool = True
    """False when the statement could not be understood (it then never matches)."""


@dataclass(frozen=True)
class Policy:
    statements: tuple[Statement, ...]


def _strings(value: Any) -> tuple[str, ...]:
    items = value if isinstance(value, list) else [value]
    return tuple(str(v).lower() if isinstance(v, bool) else str(v) for v in items if v is not None)


def _principal(value: Any) -> Mapping[str, tuple[str, ...]] | None:
    if value is None:
        return None
    if isinstance(value, str):
        return {"*": (value,)}
    if isinstance(value, dict):
        return {str(k): _strings(v) for k, v in value.items()}
    return {}


def _conditions(value: Any) -> tuple[tuple[Condition, ...], bool]:
    if value is None:
        return (), True
    if not isinstance(value, dict):
        return (), False
    out: list[Condition] = []
    for op, block in value.items():
        if not isinstance(block, dict):
            return (), False
        name = str(op).lower()
        if_exists = name.endswith("ifexists")
        base = name[:-len("ifexists")] if if_exists else name
        for key, values in block.items():
            out.append(Condition(base, if_exists, str(key).lower(), _strings(values)))
    return tuple(out), True


def _statement(index: int, raw: Any) -> Statement:
    if not isinstance(raw, dict):
        return Statement(f"#{index}", "", None, None, None, None, None, None, (), valid=False)
    conditions, ok = _conditions(raw.get("Condition"))
    effect = str(raw.get("Effect", ""))
    return Statement(
        sid=str(raw.get("Sid") or f"#{index}"), effect=effect,
        principal=_principal(raw.get("Principal")), not_principal=_principal(raw.get("NotPrincipal")),
        actions=_strings(raw["Action"]) if "Action" in raw else None,
        not_actions=_strings(raw["NotAction"]) if "NotAction" in raw else None,
        resources=_strings(raw["Resource"]) if "Resource" in raw else None,
        not_resources=_strings(raw["NotResource"]) if "NotResource" in raw else None,
        conditions=conditions, valid=ok and effect in ("Allow", "Deny"))


@lru_cache(maxsize=4096)
def parse_policy(text: str) -> Policy | None:
    """The policy a document states; ``None`` if it is no policy document at all. Cached by
    text, so evaluating the same stored policy again costs no parsing."""
    try:
        doc = json.loads(text)
    except (ValueError, RecursionError):
        return None
    if not isinstance(doc, dict):
        return None
    raw = doc.get("Statement", [])
    items = raw if isinstance(raw, list) else [raw]
    return Policy(tuple(_statement(i, s) for i, s in enumerate(items)))


# ---- matching ----------------------------------------------------------------------------------

@lru_cache(maxsize=8192)
def _wildcard(pattern: str, ignore_case: bool) -> re.Pattern[str]:
    body = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.compile(body, re.DOTALL | (re.IGNORECASE if ignore_case else 0))


def wildcard_match(pattern: str, value: str, *, ignore_case: bool = False) -> bool:
    """IAM's wildcards: ``*`` any run of characters, ``?`` any one; nothing else is special."""
    return _wildcard(pattern, ignore_case).fullmatch(value) is not None


def arn_match(pattern: str, arn: str) -> bool:
    """``ArnLike``/``ArnEquals``/``Resource``: part by part when both are ARNs (the sixth
    part keeps its colons; an ARN pattern of fewer parts matches no ARN), else the whole
    string (``*``)."""
    if pattern == "*":
        return True
    p_parts = pattern.split(":", 5)
    a_parts = arn.split(":", 5)
    if len(a_parts) == 6 and pattern.startswith("arn:"):
        return len(p_parts) == 6 and all(wildcard_match(p, a) for p, a in zip(p_parts, a_parts, strict=True))
    return wildcard_match(pattern, arn)


def action_match(pattern: str, action: str) -> bool:
    """``sqs:SendMessage`` against ``SQS:Send*``, ``sqs:*``, ``*`` — case-insensitive."""
    return wildcard_match(pattern, action, ignore_case=True)


def _principal_values_match(kind: str, values: Sequence[str], who: Principal) -> bool:
    for v in values:
        if v == "*" and kind in ("*", "AWS"):
            return True  # "Principal": "*" and {"AWS": "*"} are everyone, services included
        if kind == "AWS" and who.account is not None and v in (who.account, who.arn):
            return True
        if kind == "Service" and who.service is not None and (v == "*" or v.lower() == who.service):
            return True
    return False


def principal_match(spec: Mapping[str, tuple[str, ...]], who: Principal) -> bool:
    return any(_principal_values_match(kind, values, who) for kind, values in spec.items())


def _any_action(patterns: Sequence[str], actions: Sequence[str]) -> bool:
    return any(action_match(p, a) for p in patterns for a in actions)


def _resource(patterns: Sequence[str] | None, negated: Sequence[str] | None, req: Request) -> bool | None:
    if patterns is None and negated is None:
        return True
    if req.resource is None or RESOURCE in req.unknown:
        listed = patterns if patterns is not None else negated or ()
        if all(p == "*" for p in listed):
            return patterns is not None
        return None
    if patterns is not None:
        return any(arn_match(p, req.resource) for p in patterns)
    return not any(arn_match(p, req.resource) for p in negated or ())


_NEGATED: Final = {"stringnotequals", "stringnotequalsignorecase", "stringnotlike", "arnnotequals", "arnnotlike"}


def _value_match(op: str, pattern: str, value: str) -> bool | None:
    if op in ("stringequals", "stringnotequals"):
        return value == pattern
    if op in ("stringequalsignorecase", "stringnotequalsignorecase"):
        return value.lower() == pattern.lower()
    if op in ("stringlike", "stringnotlike"):
        return wildcard_match(pattern, value)
    if op in ("arnequals", "arnlike", "arnnotequals", "arnnotlike"):
        return arn_match(pattern, value)
    if op == "bool":
        return value.lower() == pattern.lower()
    return None


def _condition(c: Condition, req: Request, context: Mapping[str, str]) -> bool | None:
    """True, False, or None (depends on a key whose value is unknown)."""
    if c.key in req.unknown:
        return None
    value = context.get(c.key)
    if c.operator == "null":
        want_absent = any(v.lower() == "true" for v in c.values)
        return (value is None) == want_absent
    if value is None:
        if c.if_exists:
            return True
        return c.operator in _NEGATED
    results = [_value_match(c.operator, v, value) for v in c.values]
    if any(r is None for r in results):
        return False  # an operator postroom does not know: the statement does not apply
    hit = any(results)
    return not hit if c.operator in _NEGATED else hit


def _and(parts: Sequence[bool | None]) -> bool | None:
    if any(p is False for p in parts):
        return False
    if any(p is None for p in parts):
        return None
    return True


def statement_matches(st: Statement, req: Request) -> bool | None:
    """Whether ``st`` applies to ``req``: True, False, or None when it depends on an
    unknown value."""
    if not st.valid:
        return False
    if st.principal is not None:
        if not principal_match(st.principal, req.principal):
            return False
    elif st.not_principal is not None:
        if principal_match(st.not_principal, req.principal):
            return False
    else:
        return False  # a resource policy statement names its principal
    if st.actions is not None:
        if not _any_action(st.actions, req.actions):
            return False
    elif st.not_actions is not None:
        if all(_any_action(st.not_actions, (a,)) for a in req.actions):
            return False
    else:
        return False
    resource = _resource(st.resources, st.not_resources, req)
    if resource is False:
        return False
    context = {k.lower(): v for k, v in req.context.items()}
    return _and([resource, *(_condition(c, req, context) for c in st.conditions)])


def evaluate(policy: Policy | str | None, req: Request) -> Decision:
    """The resource policy's decision on ``req``: ``Deny`` (an explicit Deny matched),
    ``Allow``, ``ImplicitDeny`` (nothing allows), or ``Unknown`` (it depends on a value
    ``req.unknown`` says is not known)."""
    if isinstance(policy, str):
        policy = parse_policy(policy)
    what = f"{req.principal.arn} {'/'.join(req.actions)} on {req.resource or 'the resource'}"
    if policy is None:
        return Decision("ImplicitDeny", f"no resource-based policy allows {what}")
    allow: Statement | None = None
    maybe: Statement | None = None
    maybe_deny: Statement | None = None
    for st in policy.statements:
        hit = statement_matches(st, req)
        if hit is False:
            continue
        if st.effect == "Deny":
            if hit:
                return Decision("Deny", f"statement {st.sid} explicitly denies {what}", st.sid)
            maybe_deny = maybe_deny or st
        elif hit:
            allow = allow or st
        else:
            maybe = maybe or st
    if maybe_deny is not None:
        return Decision("Unknown", f"statement {maybe_deny.sid} may deny {what}", maybe_deny.sid)
    if allow is not None:
        return Decision("Allow", f"statement {allow.sid} allows {what}", allow.sid)
    if maybe is not None:
        return Decision("Unknown", f"statement {maybe.sid} may allow {what}", maybe.sid)
    return Decision("ImplicitDeny", f"no statement of the resource-based policy allows {what}")


# ---- the two decisions postroom enforces ------------------------------------------------------------

def account_access(owner: str, policy_text: str | None, principal: Principal, actions: tuple[str, ...],
                   resource: str, context: Mapping[str, str] | None = None) -> Decision:
    """May ``principal`` call ``actions`` on a resource ``owner`` owns, with this policy?

    The owner's own requests are allowed (postroom has no IAM identity policies: the caller
    is the account's principal), unless the resource policy explicitly denies them — IAM:
    "An explicit deny in any of the policies overrides the allow". Anyone else needs a
    matching Allow in the resource policy and no matching Deny (IAM "Cross-account policy
    evaluation logic"). Same-account requests without a policy never parse anything."""
    own = principal.account == owner
    if own and not policy_text:
        return Decision("Allow", "the resource's own account")
    req = Request(principal, actions, resource, dict(context or {}))
    decided = evaluate(policy_text, req)
    if own and decided.effect != "Deny":
        return Decision("Allow", "the resource's own account")
    return decided


def sns_delivery_request(queue_arn: str | None, topic_arn: str | None,
                         unknown: frozenset[str] = frozenset()) -> Request:
    """The request SNS makes to deliver a topic's message to a queue: the SNS service
    principal calling ``sqs:SendMessage`` on the queue, with ``aws:SourceArn`` the topic's
    ARN and ``aws:SourceAccount``/``aws:SourceOwner`` the topic owner's account."""
    context: dict[str, str] = {}
    missing = set(unknown)
    if topic_arn:
        parts = topic_arn.split(":")
        context["aws:SourceArn"] = topic_arn
        if len(parts) == 6:
            context["aws:SourceAccount"] = context["aws:SourceOwner"] = parts[4]
    else:
        missing |= {"aws:sourcearn", "aws:sourceaccount", "aws:sourceowner"}
    if not queue_arn:
        missing.add(RESOURCE)
    return Request(service_principal(SNS_PRINCIPAL), ("sqs:SendMessage",), queue_arn, context,
                   frozenset(missing))


def sns_delivery(queue_policy: str | None, queue_arn: str, topic_arn: str) -> Decision:
    """May the topic deliver to the queue? AWS: only if the queue's policy allows the SNS
    principal ``sqs:SendMessage`` (normally with an ``aws:SourceArn`` condition). postroom
    follows that for a topic of another account; within one account a queue without a
    policy allowing SNS still receives (nothing local would work otherwise), and only an
    explicit Deny stops the delivery."""
    same_account = queue_arn.split(":")[4:5] == topic_arn.split(":")[4:5]
    if same_account and not queue_policy:
        return Decision("Allow", "the topic's own account")
    decided = evaluate(queue_policy, sns_delivery_request(queue_arn, topic_arn))
    if same_account and decided.effect != "Deny":
        return Decision("Allow", "the topic's own account")
    return decided
