"""``GET /metrics``: Prometheus text, named after AWS's CloudWatch metrics.

``postroom_sns_number_of_messages_published_total`` is SNS's NumberOfMessagesPublished,
``postroom_sqs_approximate_number_of_messages_visible`` SQS's
ApproximateNumberOfMessagesVisible, and so on (the CloudWatch name in snake case, as the
usual CloudWatch exporters write it), plus what CloudWatch has no name for: messages that
reached no one (by cause), the archive's size, replay progress.

Every figure is read from the store when scraped (SQS's sent/received/deleted counters
are gathered by each node and flushed to the store every few seconds). On PostgreSQL every
node reads the same rows, so every node reports the same bus-wide figures — scrape any one
of them, or all (and don't sum them).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric

from postroom.store.base import Store

CONTENT_TYPE = b"text/plain; version=0.0.4; charset=utf-8"


@dataclass
class Snapshot:
    families: list[Metric] = field(default_factory=list)


class _Collector:
    def __init__(self, snapshot: Snapshot) -> None:
        self.snapshot = snapshot

    def collect(self) -> Iterator[Metric]:
        yield from self.snapshot.families


def _counter(name: str, doc: str, labels: list[str]) -> CounterMetricFamily:
    return CounterMetricFamily(name, doc, labels=labels)


def _gauge(name: str, doc: str, labels: list[str]) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, doc, labels=labels)


async def render(store: Store, now_ms: int) -> bytes:
    """The whole exposition, read from the store now."""
    fams: list[Any] = []
    topics, subs = await store.sns_counts()
    published = _counter("postroom_sns_number_of_messages_published", "SNS NumberOfMessagesPublished", ["topic"])
    unrouted = _counter("postroom_sns_unrouted_messages",
                        "Messages published that reached no one, by cause (no-subscription, filtered, failed)",
                        ["topic", "cause"])
    for arn, c in sorted(topics.items()):
        published.add_metric([arn], c.published)
        unrouted.add_metric([arn, "no-subscription"], c.no_subscribers)
        unrouted.add_metric([arn, "filtered"], c.unrouted_filtered)
        unrouted.add_metric([arn, "failed"], c.unrouted_failed)
    delivered = _counter("postroom_sns_number_of_notifications_delivered", "SNS NumberOfNotificationsDelivered",
                         ["topic", "subscription"])
    failed = _counter("postroom_sns_number_of_notifications_failed", "SNS NumberOfNotificationsFailed",
                      ["topic", "subscription"])
    filtered = _counter("postroom_sns_number_of_notifications_filtered_out", "SNS NumberOfNotificationsFilteredOut",
                        ["topic", "subscription"])
    for arn, s in sorted(subs.items()):
        topic = arn.rsplit(":", 1)[0]
        delivered.add_metric([topic, arn], s.delivered)
        failed.add_metric([topic, arn], s.failed)
        filtered.add_metric([topic, arn], s.filtered_out)
    fams += [published, unrouted, delivered, failed, filtered]

    archived = _gauge("postroom_sns_archive_messages", "Messages in the topic's archive", ["topic"])
    archived_bytes = _gauge("postroom_sns_archive_bytes", "Bytes of message data in the topic's archive", ["topic"])
    archived_unrouted = _gauge("postroom_sns_archive_unrouted_messages",
                               "Archived messages that reached no one", ["topic"])
    for st in await store.archive_stats():
        archived.add_metric([st.topic_arn], st.messages)
        archived_bytes.add_metric([st.topic_arn], st.bytes)
        archived_unrouted.add_metric([st.topic_arn], st.unrouted)
    fams += [archived, archived_bytes, archived_unrouted]

    replay_total = _gauge("postroom_sns_replay_messages", "Archived messages a replay covers",
                          ["replay", "topic", "target", "status"])
    replay_done = _gauge("postroom_sns_replay_delivered_messages", "Messages a replay has delivered so far",
                         ["replay", "topic", "target", "status"])
    for r in await store.replays(None, 100):
        target = r.sub_arn or (r.queue.queue_arn if r.queue else "")
        replay_total.add_metric([r.replay_id, r.topic_arn, target, r.status], r.total)
        replay_done.add_metric([r.replay_id, r.topic_arn, target, r.status], r.delivered)
    fams += [replay_total, replay_done]

    visible = _gauge("postroom_sqs_approximate_number_of_messages_visible", "SQS ApproximateNumberOfMessagesVisible",
                     ["queue"])
    not_visible = _gauge("postroom_sqs_approximate_number_of_messages_not_visible",
                         "SQS ApproximateNumberOfMessagesNotVisible", ["queue"])
    delayed = _gauge("postroom_sqs_approximate_number_of_messages_delayed", "SQS ApproximateNumberOfMessagesDelayed",
                     ["queue"])
    oldest = _gauge("postroom_sqs_approximate_age_of_oldest_message_seconds", "SQS ApproximateAgeOfOldestMessage",
                    ["queue"])
    for q in await store.every_queue():
        counts = await store.counts(q, now_ms)
        visible.add_metric([q.arn], counts.visible)
        not_visible.add_metric([q.arn], counts.in_flight)
        delayed.add_metric([q.arn], counts.delayed)
        oldest.add_metric([q.arn], max(0, now_ms - counts.oldest_sent_ms) / 1000 if counts.oldest_sent_ms else 0)
    stats = await store.queue_stats()
    sent = _counter("postroom_sqs_number_of_messages_sent", "SQS NumberOfMessagesSent", ["queue"])
    received = _counter("postroom_sqs_number_of_messages_received", "SQS NumberOfMessagesReceived", ["queue"])
    deleted = _counter("postroom_sqs_number_of_messages_deleted", "SQS NumberOfMessagesDeleted", ["queue"])
    for arn, (n_sent, n_received, n_deleted) in sorted(stats.items()):
        sent.add_metric([arn], n_sent)
        received.add_metric([arn], n_received)
        deleted.add_metric([arn], n_deleted)
    fams += [visible, not_visible, delayed, oldest, sent, received, deleted]

    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Collector(Snapshot(fams)))
    return bytes(generate_latest(registry))
