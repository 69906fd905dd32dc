"""Changes to a queue's settable state, as pure functions of the queue as stored.

SetQueueAttributes, TagQueue, UntagQueue, AddPermission and RemovePermission each change
part of a queue. Each action here returns a :data:`~postroom.core.model.QueueMutation`
that the store applies to the current row inside the transaction that writes it, so two
concurrent changes (one setting VisibilityTimeout, another DelaySeconds; two
AddPermission calls) both survive. Any error raised here (a duplicate label, too many
tags) is raised inside that transaction and changes nothing.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from typing import Any, Final

from postroom.core.model import Queue, QueueChange, QueueMutation
from postroom.core.sqs import queue_attributes as qa
from postroom.core.sqs.validate import validate_tags
from postroom.errors import InvalidParameterValue, MissingParameter, OverLimit

MAX_TAGS = 50
"""AWS: "Amazon SQS supports up to 50 tags per queue"; more is OverLimit."""

GRANTABLE_ACTIONS: Final = frozenset({
    "*", "SendMessage", "SendMessageBatch", "ReceiveMessage", "DeleteMessage", "DeleteMessageBatch",
    "ChangeMessageVisibility", "ChangeMessageVisibilityBatch", "GetQueueAttributes", "GetQueueUrl",
    "ListDeadLetterSourceQueues", "PurgeQueue",
})
"""AddPermission ``Actions``: AWS's API reference lists ``*``, ChangeMessageVisibility,
DeleteMessage, GetQueueAttributes, GetQueueUrl, ListDeadLetterSourceQueues, PurgeQueue,
ReceiveMessage and SendMessage ("the name of any action"); the batch forms are the same
permissions under their own names."""

OWNER_ONLY_ACTIONS: Final = frozenset({
    "AddPermission", "RemovePermission", "CreateQueue", "DeleteQueue", "ListQueues", "ListQueueTags",
    "SetQueueAttributes", "TagQueue", "UntagQueue", "StartMessageMoveTask", "CancelMessageMoveTask",
    "ListMessageMoveTasks",
})
"""The actions AWS's API reference marks "Cross-account permissions don't apply to this
action": AddPermission refuses them with "Only the queue owner is allowed to invoke this
action."."""

MAX_PERMISSION_ACTIONS: Final = 7
"""AddPermission with more actions is refused: OverLimit (403) "8 Actions were found,
maximum allowed is 7." (the answer moto and other emulators give; not recorded against
AWS here)."""

POLICY_VERSION: Final = "2008-10-17"
"""The ``Version`` of the policy AddPermission writes. AWS's docs show "2012-10-17" in
hand-written policies, but the document AddPermission generates carries "2008-10-17"
(observed: LocalStack's AWS-recorded test_sqs_permission_lifecycle snapshot)."""

_LABEL: Final = re.compile(r"[A-Za-z0-9_-]{1,80}")


def set_attributes(raw: Mapping[str, str]) -> QueueMutation:
    """SetQueueAttributes: the given attributes validated and applied over the current ones."""
    wanted = dict(raw)

    def change(queue: Queue) -> QueueChange:
        return QueueChange(attributes=qa.updated_attributes(queue.attributes, wanted))

    return change


def tag(tags: Mapping[str, str]) -> QueueMutation:
    """TagQueue: the new tags merged over the current ones; more than 50 in all is OverLimit."""
    added = dict(tags)
    validate_tags(added)

    def change(queue: Queue) -> QueueChange:
        merged = {**queue.tags, **added}
        if len(merged) > MAX_TAGS:
            raise OverLimit(f"Too many tags added for queue {queue.name}.")
        return QueueChange(tags=merged)

    return change


def untag(keys: Sequence[str]) -> QueueMutation:
    """UntagQueue: the named tags removed; a key the queue does not have is ignored."""
    gone = frozenset(keys)

    def change(queue: Queue) -> QueueChange:
        return QueueChange(tags={k: v for k, v in queue.tags.items() if k not in gone})

    return change


def add_permission(label: str, accounts: Sequence[str], actions: Sequence[str]) -> QueueMutation:
    """AddPermission writes one statement into the queue's ``Policy`` (AWS keeps
    permissions only there), in the shape AWS generates (observed: LocalStack's
    AWS-recorded test_sqs_permission_lifecycle snapshot)::

        {"Version": "2008-10-17", "Id": "<queue arn>/SQSDefaultPolicy", "Statement": [
          {"Sid": "<Label>", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::<acct>:root"},
           "Action": "SQS:SendMessage", "Resource": "<queue arn>"}]}

    ``Principal.AWS`` and ``Action`` are a string for one value and a list for several,
    in request order. A queue whose Policy was set by SetQueueAttributes keeps that
    document; the statement is appended to it.

    Errors, checked before anything is written. Observed on AWS: a Label already in the
    policy is InvalidParameterValue "Value <label> for parameter Label is invalid.
    Reason: Already exists.". Not recorded against AWS here, so in the words moto (and
    other emulators) give them: an action only the owner may call is
    InvalidParameterValue "Value SQS:<action> for parameter ActionName is invalid.
    Reason: Only the queue owner is allowed to invoke this action."; more than 7
    actions is OverLimit "<n> Actions were found, maximum allowed is 7."; no actions is
    MissingParameter "The request must contain the parameter Actions."; no accounts is
    InvalidParameterValue "Value [] for parameter PrincipalId is invalid. Reason:
    Unable to verify."; an unknown action name is "… Reason: Please refer to the
    appropriate WSDL for a list of valid actions." (Eucalyptus's AWS-compatible text)."""
    _check_label(label)
    if not actions:
        raise MissingParameter("The request must contain the parameter Actions.")
    if not accounts:
        raise InvalidParameterValue("Value [] for parameter PrincipalId is invalid. Reason: Unable to verify.")
    for action in actions:
        if action in OWNER_ONLY_ACTIONS:
            raise InvalidParameterValue(
                f"Value SQS:{action} for parameter ActionName is invalid. Reason: Only the queue owner "
                "is allowed to invoke this action.")
        if action not in GRANTABLE_ACTIONS:
            raise InvalidParameterValue(
                f"Value SQS:{action} for parameter ActionName is invalid. Reason: Please refer to the "
                "appropriate WSDL for a list of valid actions.")
    if len(actions) > MAX_PERMISSION_ACTIONS:
        raise OverLimit(f"{len(actions)} Actions were found, maximum allowed is {MAX_PERMISSION_ACTIONS}.")
    principals = [f"arn:aws:iam::{a}:root" for a in accounts]
    acts = [f"SQS:{a}" for a in actions]

    def change(queue: Queue) -> QueueChange:
        policy = _policy(queue)
        statements: list[dict[str, Any]] = policy["Statement"]
        if any(_sid(s) == label for s in statements):
            raise InvalidParameterValue(f"Value {label} for parameter Label is invalid. Reason: Already exists.")
        statements.append({
            "Sid": label, "Effect": "Allow",
            "Principal": {"AWS": principals[0] if len(principals) == 1 else principals},
            "Action": acts[0] if len(acts) == 1 else acts, "Resource": queue.arn,
        })
        return QueueChange(attributes=_with_policy(queue, policy))

    return change


def remove_permission(label: str) -> QueueMutation:
    """RemovePermission drops the statement whose ``Sid`` is the label. With its last
    statement the ``Policy`` attribute goes away: GetQueueAttributes then returns no
    Policy at all (observed: AWS answered ``"Attributes": {}`` for ``Policy``). A label
    the policy does not have is InvalidParameterValue "Value <label> for parameter Label
    is invalid. Reason: can't find label." (observed; older answers added "on existing
    policy")."""
    if not label:
        raise MissingParameter("The request must contain the parameter Label.")

    def change(queue: Queue) -> QueueChange:
        policy = _policy(queue)
        kept = [s for s in policy["Statement"] if _sid(s) != label]
        if len(kept) == len(policy["Statement"]):
            raise InvalidParameterValue(f"Value {label} for parameter Label is invalid. Reason: can't find label.")
        policy["Statement"] = kept
        return QueueChange(attributes=_with_policy(queue, policy if kept else None))

    return change


def _check_label(label: str) -> None:
    """AWS (AddPermission, Label): "Maximum 80 characters. Allowed characters include
    alphanumeric characters, hyphens (-), and underscores (_)."; an empty one is a
    missing Label. AWS's wording for a bad Label is not recorded; this is the
    InvalidParameterValue text other emulators use."""
    if not label:
        raise MissingParameter("The request must contain the parameter Label.")
    if _LABEL.fullmatch(label) is None:
        raise InvalidParameterValue(
            f"Value {label} for parameter Label is invalid. Reason: Can only include alphanumeric characters, "
            "hyphens, or underscores. 1 to 80 in length.")


def _policy(queue: Queue) -> dict[str, Any]:
    """The queue's policy document, with ``Statement`` as a list (IAM also allows a
    single statement object, which a policy set by SetQueueAttributes may use)."""
    text = queue.attributes.get("Policy")
    if text:
        loaded: dict[str, Any] = json.loads(text)
        statements = loaded.get("Statement")
        # any JSON object is a storable Policy: a Statement that is neither an object nor a list
        # (null, a string) holds no statement
        loaded["Statement"] = ([statements] if isinstance(statements, dict)
                               else list(statements) if isinstance(statements, list) else [])
        return loaded
    return {"Version": POLICY_VERSION, "Id": f"{queue.arn}/SQSDefaultPolicy", "Statement": []}


def _sid(statement: object) -> object:
    return statement.get("Sid") if isinstance(statement, dict) else None


def _with_policy(queue: Queue, policy: dict[str, Any] | None) -> dict[str, str]:
    attrs = dict(queue.attributes)
    if policy is None:
        attrs.pop("Policy", None)
    else:
        attrs["Policy"] = json.dumps(policy, separators=(",", ":"))
    return attrs


def apply(queue: Queue, change: QueueChange, now_ms: int) -> Queue:
    """The queue after ``change``: attributes move LastModifiedTimestamp, tags do not."""
    attributes = change.attributes if change.attributes is not None else queue.attributes
    tags = change.tags if change.tags is not None else queue.tags
    modified = now_ms if change.attributes is not None else queue.modified_ms
    return Queue(queue.queue_id, queue.account, queue.region, queue.name, dict(attributes), dict(tags),
                 queue.created_ms, modified)
