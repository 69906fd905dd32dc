"""From substituted, schema-checked file data to the shared model, with the checks that need the
whole file: references between resources, FIFO-only attributes, AWS's name rules, duplicate
subscriptions, check overrides.

Values become what AWS's Get*Attributes return, so that a declared and a live value compare
equal: booleans ``"true"``/``"false"``, integers as decimal strings, JSON documents in canonical
form (:func:`~postroom.topology.model.canonical_json`). A resource whose own entry broke the
schema is skipped here (its schema problem is already reported) but its name still counts as
declared, so a typo in one queue does not also make every reference to it an error.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping
from functools import partial
from typing import Any, Final, Literal, TypeVar
from urllib.parse import urlsplit

from postroom.core import limits
from postroom.core.sns.filter_policy import matches_attributes, matches_body, parse_filter_policy
from postroom.errors import PostroomError
from postroom.topology._problems import Problem
from postroom.topology._yamltree import Path, line_of, render_path
from postroom.topology.model import (
    CheckOverride,
    Consumer,
    Declared,
    Producer,
    Queue,
    RedriveAllow,
    Retirement,
    Sample,
    Subscription,
    SubscriptionKey,
    Topic,
    Topology,
    canonical_json,
    in_scope,
    is_fifo_name,
)
from postroom.topology.schema import (
    BOOLEAN_ATTRIBUTES,
    CHECK_IDS,
    FIFO_ONLY_QUEUE,
    FIFO_ONLY_TOPIC,
    INTEGER_LIMITS,
    JSON_ATTRIBUTES,
    QUEUE_CHOICES,
    QUEUE_KEYS,
    ROUTE_CHECKS,
    TOPIC_CHOICES,
    TOPIC_KEYS,
    choice_fix,
    did_you_mean,
)

Kind = Literal["queue", "topic"]
_NAME_RULES: Final[dict[Kind, tuple[re.Pattern[str], re.Pattern[str], int]]] = {
    "queue": (re.compile(r"[A-Za-z0-9_-]{1,80}"), re.compile(r"[A-Za-z0-9_-]{1,75}\.fifo"),
              limits.MAX_QUEUE_NAME_LENGTH),
    "topic": (re.compile(r"[A-Za-z0-9_-]{1,256}"), re.compile(r"[A-Za-z0-9_-]{1,251}\.fifo"), 256),
}
_PLURAL: Final = {"queue": "queues", "topic": "topics"}
T = TypeVar("T")


def resolve(doc: Mapping[str, Any], lines: dict[Path, int], schema_paths: set[Path], scope: tuple[str, ...],
            env: str | None) -> tuple[Declared, list[Problem]]:
    """The Declared of a substituted document, and every problem found on the way that the schema
    problems at ``schema_paths`` do not already report."""
    resolver = _Resolver(doc, lines, {path[:2] for path in schema_paths}, scope, env)
    declared = resolver.run()
    reported = {render_path(path) for path in schema_paths}
    problems = [p for p in resolver.problems
                if not any(p.path == r or p.path.startswith((r + ".", r + "[")) for r in reported)]
    return declared, problems


def _section(doc: Mapping[str, Any], name: str, kind: type) -> Any:
    value = doc.get(name)
    return value if isinstance(value, kind) else kind()


class _Resolver:
    def __init__(self, doc: Mapping[str, Any], lines: dict[Path, int], broken: set[Path],
                 scope: tuple[str, ...], env: str | None) -> None:
        self.doc = doc
        self.lines = lines
        self.broken = broken
        self.scope = scope
        self.env = env
        self.problems: list[Problem] = []
        self.overrides: list[CheckOverride] = []
        self.unrelated: dict[str, frozenset[str]] = {}
        self.samples: dict[SubscriptionKey, Sample] = {}
        self.retired: list[Retirement] = []
        self.names: dict[Kind, set[str]] = {"queue": set(_section(doc, "queues", dict)),
                                            "topic": set(_section(doc, "topics", dict))}

    def add(self, path: Path, message: str, fix: str) -> None:
        self.problems.append(Problem(line_of(self.lines, path), render_path(path), message, fix))

    def run(self) -> Declared:
        topology = Topology()
        for kind in ("queue", "topic"):
            for name in sorted(_section(self.doc, _PLURAL[kind], dict)):
                self._check_name(kind, name, (_PLURAL[kind], name))
        for name, spec in _section(self.doc, "queues", dict).items():
            if queue := self._guard(("queues", name), partial(self._queue, name, spec or {}, ("queues", name))):
                topology.queues[name] = queue
        for name, spec in _section(self.doc, "topics", dict).items():
            if topic := self._guard(("topics", name), partial(self._topic, name, spec or {}, ("topics", name))):
                topology.topics[name] = topic
        first_seen: dict[SubscriptionKey, int] = {}
        for index, spec in enumerate(_section(self.doc, "subscriptions", list)):
            path: Path = ("subscriptions", index)
            sub = self._guard(path, partial(self._subscription, spec, path))
            if sub is None:
                continue
            if sub.key in first_seen:
                earlier = first_seen[sub.key]
                self.add(path, f"duplicate subscription {sub.topic} → {sub.endpoint}: the same topic and endpoint "
                         f"as subscriptions[{earlier}] (line {line_of(self.lines, ('subscriptions', earlier))})",
                         "remove one of them: AWS keeps a single subscription per topic and endpoint")
                continue
            first_seen[sub.key] = index
            topology.subscriptions[sub.key] = sub
        declared = Declared(topology=topology)
        for name, spec in _section(self.doc, "consumers", dict).items():
            path = ("consumers", name)
            if consumer := self._guard(path, partial(self._consumer, name, spec, path)):
                declared.consumers[name] = consumer
        for name, spec in _section(self.doc, "producers", dict).items():
            path = ("producers", name)
            if producer := self._guard(path, partial(self._producer, name, spec or {}, path)):
                declared.producers[name] = producer
        for index, spec in enumerate(_section(self.doc, "checks", list)):
            path = ("checks", index)
            self._guard(path, partial(self._override, spec.get("check"), spec.get("resource", "*"), spec, path))
        for index, spec in enumerate(_section(self.doc, "retire", list)):
            path = ("retire", index)
            self._guard(path, partial(self._retire, spec, path, topology))
        declared.overrides = tuple(self.overrides)
        declared.unrelated = dict(self.unrelated)
        declared.samples = dict(self.samples)
        declared.retired = tuple(self.retired)
        return declared

    def _guard(self, path: Path, build: Callable[[], T]) -> T | None:
        """Resolve one entry. An entry that broke the schema is still looked at, for the problems
        the schema cannot see, but its result is not used, and a crash on its malformed values is
        no news (the schema problem already says what is wrong)."""
        if path not in self.broken:
            return build()
        try:
            build()
        except (KeyError, TypeError, AttributeError, ValueError):
            pass
        return None

    # ---- names and references -------------------------------------------------------------

    def _check_name(self, kind: Kind, name: str, path: Path) -> None:
        if "${" in name:
            return  # an unknown variable, already reported
        standard, fifo, longest = _NAME_RULES[kind]
        rule = fifo if is_fifo_name(name) else standard
        if rule.fullmatch(name) is None:
            base = name.removesuffix(".fifo")
            suggestion = re.sub(r"[^A-Za-z0-9_-]", "-", base)[: longest - 5 if is_fifo_name(name) else longest]
            if is_fifo_name(name):
                suggestion += ".fifo"
            self.add(path, f"'{name}' is not a valid {kind} name: AWS allows 1–{longest} letters, digits, hyphens and "
                     "underscores, and the suffix .fifo (counted in the length) for a FIFO " + kind,
                     f"rename it, e.g. '{suggestion}'" + ("" if is_fifo_name(name) else
                                                          f", or '{suggestion}.fifo' if it is meant to be FIFO"))
        if not in_scope(name, self.scope):
            self.add(path, f"{kind} '{name}' is outside environment {self.env}'s scope ({', '.join(self.scope)}): "
                     "plan would create it but never manage it afterwards",
                     f"name it inside the scope (e.g. with ${{prefix}}), or widen environments.{self.env}.scope")

    def _ref(self, kind: Kind, name: str, path: Path, what: str) -> bool:
        if name in self.names[kind] or "${" in name:
            return name in self.names[kind]
        other: Kind = "topic" if kind == "queue" else "queue"
        if name in self.names[other]:
            self.add(path, f"{what} '{name}' is a {other}, not a {kind}", f"name a declared {kind} here")
            return False
        close = did_you_mean(name, self.names[kind])
        fix = (f"did you mean '{close}'?" if close else
               f"declare it under {_PLURAL[kind]}:, or correct the name")
        self.add(path, f"{what} '{name}' is not declared in this file", fix)
        return False

    # ---- attributes -------------------------------------------------------------------------

    def _attributes(self, kind: Kind, name: str, spec: Mapping[str, Any], path: Path,
                    keys: Mapping[str, str], choices: Mapping[str, tuple[str, ...]]) -> dict[str, str]:
        attributes: dict[str, str] = {}
        origin: dict[str, Path] = {}
        entries = [((*path, key), aws, spec[key]) for key, aws in keys.items() if key in spec]
        entries += [((*path, "attributes", aws), aws, value) for aws, value in (spec.get("attributes") or {}).items()]
        for where, aws, value in entries:
            if aws in attributes:
                self.add(where, f"{aws} is declared twice (also at {render_path(origin[aws])})", "keep one of the two")
                continue
            text = self._attribute_value(aws, value, where, choices)
            if text is not None:
                attributes[aws] = text
                origin[aws] = where
        if not is_fifo_name(name):
            fifo_only = FIFO_ONLY_QUEUE if kind == "queue" else FIFO_ONLY_TOPIC
            for aws in sorted(fifo_only & attributes.keys()):
                self.add(origin[aws], f"{aws} applies only to FIFO {kind}s, and '{name}' is a standard {kind}",
                         f"remove it, or make the {kind} FIFO by naming it '{name}.fifo'")
        return attributes

    def _attribute_value(self, aws: str, value: Any, where: Path, choices: Mapping[str, tuple[str, ...]]
                         ) -> str | None:
        if aws in JSON_ATTRIBUTES:
            return self._json(value, where, aws)
        if isinstance(value, dict | list):
            self.add(where, f"{aws} takes a single value, not a {'mapping' if isinstance(value, dict) else 'list'}",
                     "write a plain value")
            return None
        if aws in BOOLEAN_ATTRIBUTES:
            text = ("true" if value else "false") if isinstance(value, bool) else str(value).lower()
            if text not in ("true", "false"):
                self.add(where, f"{aws} must be true or false, got {value!r}", "write true or false")
                return None
            return text
        if aws in INTEGER_LIMITS:
            lo, hi = INTEGER_LIMITS[aws]
            if isinstance(value, bool) or not re.fullmatch(r"-?[0-9]+", str(value)):
                self.add(where, f"{aws} must be a whole number, got {value!r}", f"write a number from {lo} to {hi}")
                return None
            number = int(str(value))
            if not lo <= number <= hi:
                self.add(where, f"{number} is outside AWS's range for {aws} ({lo}..{hi})",
                         f"use a value from {lo} to {hi}")
                return None
            return str(number)
        text = str(value)
        if aws in choices and text not in choices[aws]:
            self.add(where, f"{value!r} is not a valid {aws}", choice_fix(text, choices[aws]))
            return None
        return text

    def _json(self, value: Any, where: Path, what: str) -> str | None:
        try:
            document = json.loads(value) if isinstance(value, str) else value
        except ValueError as exc:
            self.add(where, f"{what} is not valid JSON: {exc}", "write it as a YAML mapping, or as a JSON string")
            return None
        if not isinstance(document, dict):
            self.add(where, f"{what} must be a JSON object", "write it as a YAML mapping")
            return None
        return canonical_json(document)

    def _tags(self, spec: Mapping[str, Any], path: Path) -> dict[str, str]:
        tags: dict[str, str] = {}
        for key, value in (spec.get("tags") or {}).items():
            text = ("true" if value else "false") if isinstance(value, bool) else str(value)
            if not 1 <= len(key) <= limits.MAX_TAG_KEY_LENGTH or key.lower().startswith("aws:"):
                self.add((*path, "tags", key), f"tag key '{key}' is not allowed: 1–{limits.MAX_TAG_KEY_LENGTH} "
                         "characters, not starting with 'aws:'", "rename the tag")
            elif len(text) > limits.MAX_TAG_VALUE_LENGTH:
                self.add((*path, "tags", key), f"tag value longer than {limits.MAX_TAG_VALUE_LENGTH} characters",
                         "shorten it")
            else:
                tags[key] = text
        return tags

    # ---- resources ----------------------------------------------------------------------------

    def _queue(self, name: str, spec: Mapping[str, Any], path: Path) -> Queue:
        attributes = self._attributes("queue", name, spec, path, QUEUE_KEYS, QUEUE_CHOICES)
        dlq, count = spec.get("dlq"), spec.get("max_receive_count")
        if dlq is not None:
            if count is None:
                self.add((*path, "dlq"), "a dead-letter queue needs max_receive_count (RedrivePolicy.maxReceiveCount)",
                         "add max_receive_count: 5 — how many receives before a message moves to the DLQ (1..1000)")
            if dlq == name:
                self.add((*path, "dlq"), "a queue cannot be its own dead-letter queue", "name another declared queue")
            else:
                self._ref("queue", dlq, (*path, "dlq"), "dead-letter queue")
        elif count is not None:
            self.add((*path, "max_receive_count"), "max_receive_count without a dlq has no effect",
                     "add dlq: <declared queue>, or remove max_receive_count")
        self._check_overrides(spec, path, name)
        self._unrelated(name, spec, path)
        return Queue(name=name, attributes=attributes, dlq=dlq, max_receive_count=count,
                     redrive_allow=self._redrive_allow(spec.get("redrive_allow"), (*path, "redrive_allow")),
                     tags=self._tags(spec, path), replaces=self._replaces(name, spec, path))

    def _redrive_allow(self, spec: Mapping[str, Any] | None, path: Path) -> RedriveAllow | None:
        if spec is None:
            return None
        permission, listed = spec["permission"], list(spec.get("sources") or ())
        sources = tuple(sorted(listed))  # a set to AWS; held sorted, as the live reader holds it
        if permission == "byQueue" and not sources:
            self.add(path, "permission byQueue needs the source queues", "add sources: [<queue>, …] (at most 10)")
        if permission != "byQueue" and sources:
            self.add((*path, "sources"), f"sources apply only to permission byQueue, not {permission}",
                     "set permission: byQueue, or remove sources")
        for index, source in enumerate(listed):
            self._ref("queue", source, (*path, "sources", index), "redrive source queue")
        return RedriveAllow(permission=permission, sources=sources)

    def _replaces(self, name: str, spec: Mapping[str, Any], path: Path) -> str | None:
        replaces = spec.get("replaces")
        if replaces == name:
            self.add((*path, "replaces"), f"'{name}' cannot replace itself", "name the old resource it takes over from")
        return str(replaces) if replaces is not None else None

    def _unrelated(self, name: str, spec: Mapping[str, Any], path: Path) -> None:
        names = [str(n) for n in spec.get("unrelated_to") or ()]
        for index, other in enumerate(names):
            if other == name:
                self.add((*path, "unrelated_to", index), f"'{name}' cannot be unrelated to itself",
                         "name the live resource this one must not be taken as replacing")
            elif other == spec.get("replaces"):
                self.add((*path, "unrelated_to", index), f"'{name}' both replaces and is unrelated to '{other}'",
                         "keep one of the two")
        if names:
            self.unrelated[name] = frozenset(names)

    def _topic(self, name: str, spec: Mapping[str, Any], path: Path) -> Topic:
        attributes = self._attributes("topic", name, spec, path, TOPIC_KEYS, TOPIC_CHOICES)
        self._check_overrides(spec, path, name)
        self._unrelated(name, spec, path)
        return Topic(name=name, attributes=attributes, tags=self._tags(spec, path),
                     replaces=self._replaces(name, spec, path))

    def _subscription(self, spec: Mapping[str, Any], path: Path) -> Subscription | None:
        topic, queue, endpoint = spec["topic"], spec.get("queue"), spec.get("endpoint")
        ok = self._ref("topic", topic, (*path, "topic"), "subscribed topic")
        if queue is not None and endpoint is not None:
            self.add(path, "a subscription delivers to a queue or to an endpoint, not both",
                     "keep queue: (SQS) or endpoint: (an http/https URL)")
            return None
        if queue is None and endpoint is None:
            self.add(path, "a subscription needs a queue: or an endpoint:",
                     "add queue: <declared queue> or endpoint: https://…")
            return None
        if queue is not None:
            protocol, target = "sqs", str(queue)
            ok = self._ref("queue", target, (*path, "queue"), "subscribed queue") and ok
        else:
            target = str(endpoint)
            parts = urlsplit(target)
            protocol = parts.scheme.lower()
            if target.startswith("arn:aws:sqs:"):
                self.add((*path, "endpoint"), "an SQS queue is named with queue:, not by ARN",
                         f"write queue: {target.rsplit(':', 1)[-1]}")
                return None
            if protocol not in ("http", "https") or not parts.netloc:
                self.add((*path, "endpoint"), f"unsupported endpoint '{target}': postroom.yaml manages sqs, http and "
                         "https subscriptions", "use queue: <name>, or an http:// or https:// URL")
                return None
        fields: dict[str, Any] = {"raw": bool(spec.get("raw", False)),
                                  "filter_scope": spec.get("filter_scope", "MessageAttributes")}
        if "filter_policy" in spec:
            fields["filter_policy"] = self._filter_policy(spec["filter_policy"], fields["filter_scope"],
                                                          (*path, "filter_policy"))
        if (dlq := spec.get("dlq")) is not None:
            self._ref("queue", dlq, (*path, "dlq"), "subscription dead-letter queue")
            fields["dlq"] = dlq
        self._check_overrides(spec, path, f"{topic} → {target}")
        if "sample" in spec:
            sample = self._sample(spec["sample"] or {}, fields, (*path, "sample"))
            if sample is not None:
                self.samples[(str(topic), protocol, target)] = sample
        return Subscription(topic=topic, protocol=protocol, endpoint=target, **fields) if ok else None

    def _sample(self, spec: Mapping[str, Any], fields: Mapping[str, Any], path: Path) -> Sample | None:
        """A subscription's probe sample; it must pass the subscription's filter policy (else its
        probe would be dropped and the route reported unconfirmed for the wrong reason)."""
        attributes: list[tuple[str, str, str]] = []
        for name, value in (spec.get("attributes") or {}).items():
            if name == "postroom-probe":
                self.add((*path, "attributes", name), "'postroom-probe' is the probe's own attribute",
                         "use another attribute name")
                return None
            if isinstance(value, bool):
                self.add((*path, "attributes", name), "a message attribute is a string, a number or a list",
                         f"write {name}: \"{str(value).lower()}\" (a String) or {name}: [{str(value).lower()}] "
                         "(a String.Array)")
                return None
            if isinstance(value, list):
                attributes.append((name, "String.Array", json.dumps(value)))
            elif isinstance(value, int | float):
                attributes.append((name, "Number", str(value)))
            else:
                attributes.append((name, "String", str(value)))
        body = spec.get("body")
        sample = Sample(attributes=tuple(attributes), body=body if isinstance(body, dict | str) else None)
        policy_text = fields.get("filter_policy")
        if policy_text:
            try:
                policy = parse_filter_policy(policy_text, fields["filter_scope"])
            except PostroomError:
                return sample  # the filter policy's own problem is reported
            if fields["filter_scope"] == "MessageBody":
                text = json.dumps(body) if isinstance(body, dict) else str(body or "")
                passes = matches_body(policy, text)
            else:
                passes = matches_attributes(policy, sample.attribute_map())
            if not passes:
                where = "body" if fields["filter_scope"] == "MessageBody" else "message attributes"
                self.add(path, f"the sample does not pass the subscription's filter policy ({where}): its probe "
                         "would be dropped", "change the sample so that the filter accepts it, or remove it "
                         "(verify --probe then derives one)")
        return sample

    def _filter_policy(self, value: Any, scope: str, path: Path) -> str | None:
        text = self._json(value, path, "filter_policy")
        if text is None:
            return None
        try:
            parse_filter_policy(text, scope)
        except PostroomError as exc:
            self.add(path, f"SNS would reject this filter policy: {exc.message}",
                     "see 'Amazon SNS subscription filter policies' in the SNS Developer Guide")
        return text

    def _consumer(self, name: str, spec: Mapping[str, Any], path: Path) -> Consumer:
        self._ref("queue", spec["queue"], (*path, "queue"), f"consumer {name}'s queue")
        receives = tuple(spec.get("receives") or ())
        self._refs("topic", receives, (*path, "receives"), f"topic received by consumer {name}")
        return Consumer(name=name, queue=spec["queue"], receives=receives)

    def _producer(self, name: str, spec: Mapping[str, Any], path: Path) -> Producer:
        publishes, sends = tuple(spec.get("publishes") or ()), tuple(spec.get("sends") or ())
        self._refs("topic", publishes, (*path, "publishes"), f"topic published by producer {name}")
        self._refs("queue", sends, (*path, "sends"), f"queue written by producer {name}")
        return Producer(name=name, publishes=publishes, sends=sends)

    def _refs(self, kind: Kind, names: Iterable[str], path: Path, what: str) -> None:
        for index, name in enumerate(names):
            self._ref(kind, name, (*path, index), what)

    # ---- check overrides ----------------------------------------------------------------------

    def _check_overrides(self, spec: Mapping[str, Any], path: Path, resource: str) -> None:
        for check, override in (spec.get("checks") or {}).items():
            self._override(check, resource, override, (*path, "checks", check))

    def _override(self, check: Any, resource: str, spec: Any, path: Path) -> None:
        if check not in CHECK_IDS:
            self.add(path, f"unknown check '{check}'", choice_fix(str(check), CHECK_IDS, "check ids"))
            return
        if not isinstance(spec, dict) or "reason" not in spec:
            return  # reported by the schema
        reason = str(spec["reason"]).strip()
        if not reason:
            self.add(path, f"the override of {check} has an empty reason",
                     "say why the check does not apply here: a silence is reviewed like a change")
            return
        if spec.get("severity") not in ("error", "warning", "info", "off"):
            return  # reported by the schema
        if check in ROUTE_CHECKS and resource.strip() == "*":
            self.add(path, f"{check} cannot be overridden for every resource at once: a lost route is accepted "
                     "route by route", "name the route (resource: \"orders → audit\"), the queue or the topic, or "
                     "list it under retire: with its reason")
            return
        self.overrides.append(CheckOverride(check=check, resource=resource, severity=spec["severity"], reason=reason))

    def _retire(self, spec: Mapping[str, Any], path: Path, topology: Topology) -> None:
        """A ``retire:`` entry: a route (topic + queue/endpoint), a queue or a topic the file drops on
        purpose. It accepts the route-loss findings that name it (ROUTE-LOSS, MIGRATION-GAP, and
        DESTRUCTIVE for a whole queue or topic) as info, with its reason."""
        topic, queue, endpoint = spec.get("topic"), spec.get("queue"), spec.get("endpoint")
        reason = str(spec["reason"]).strip()
        if not reason:
            self.add((*path, "reason"), "the retirement has an empty reason",
                     "say why this route may be dropped: it is reviewed with the plan")
            return
        if queue is not None and endpoint is not None:
            self.add(path, "a retired route goes to a queue or to an endpoint, not both",
                     "keep queue: or endpoint:, or write two entries")
            return
        target = queue if queue is not None else endpoint
        if topic is None and target is None:
            self.add(path, "retire: names nothing", "add topic: and queue: (a route), or only queue: or only topic:")
            return
        if endpoint is not None and topic is None:
            self.add(path, "an endpoint is retired as a route of a topic", "add topic: <the topic it is subscribed to>")
            return
        checks: tuple[str, ...]
        if topic is not None and target is not None:
            kind: Literal["route", "queue", "topic"] = "route"
            resource = f"{topic} → {target}"
            checks = ("ROUTE-LOSS", "MIGRATION-GAP")
            protocol = "sqs" if queue is not None else urlsplit(str(endpoint)).scheme.lower()
            if (str(topic), protocol, str(target)) in topology.subscriptions:
                self.add(path, f"the route {resource} is retired but still declared under subscriptions:",
                         "remove the subscription, or this retire: entry")
                return
        elif target is not None:
            kind, resource, checks = "queue", str(target), ("ROUTE-LOSS", "MIGRATION-GAP", "DESTRUCTIVE")
        else:
            kind, resource, checks = "topic", str(topic), ("ROUTE-LOSS", "MIGRATION-GAP", "DESTRUCTIVE")
        self.retired.append(Retirement(resource=resource, reason=reason, kind=kind))
        for check in checks:
            self.overrides.append(CheckOverride(check=check, resource=resource, severity="info",
                                                reason=f"retired: {reason}", retire=True))
