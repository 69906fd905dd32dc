-- Topic archives, replays and the delivery audit (issue #12).
-- archive: every message a topic keeps (its ArchivePolicy, else the server's default), and every
-- message that reached no one (unrouted: no-subscription | filtered | failed), written in the publish
-- transaction; expires_ms is fixed when the message is archived.
CREATE TABLE archive (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    topic_id      INTEGER NOT NULL,
    topic_arn     TEXT    NOT NULL,
    message_id    TEXT    NOT NULL,
    published_ms  INTEGER NOT NULL,
    message       TEXT    NOT NULL,
    subject       TEXT,
    structure     TEXT,
    attrs         TEXT,
    group_id      TEXT,
    dedup_id      TEXT,
    seq           INTEGER,
    unrouted      TEXT,
    expires_ms    INTEGER NOT NULL
);
CREATE INDEX archive_by_topic ON archive (topic_id, id);
CREATE INDEX archive_by_time ON archive (topic_id, published_ms);
CREATE INDEX archive_by_expiry ON archive (expires_ms);

-- replays: ReplayPolicy on a subscription, or `postroom replay`; any node resumes one from cursor_id.
CREATE TABLE replays (
    replay_id      TEXT    PRIMARY KEY,
    topic_id       INTEGER NOT NULL,
    topic_arn      TEXT    NOT NULL,
    sub_arn        TEXT,
    queue_target   TEXT,
    start_ms       INTEGER NOT NULL,
    end_ms         INTEGER NOT NULL,
    selection      TEXT    NOT NULL,
    rate           INTEGER,
    status         TEXT    NOT NULL,
    requested_by   TEXT    NOT NULL,
    origin         TEXT    NOT NULL,
    created_ms     INTEGER NOT NULL,
    updated_ms     INTEGER NOT NULL,
    cursor_id      INTEGER NOT NULL DEFAULT 0,
    last_id        INTEGER NOT NULL DEFAULT 0,
    total          INTEGER NOT NULL DEFAULT 0,
    delivered      INTEGER NOT NULL DEFAULT 0,
    skipped        INTEGER NOT NULL DEFAULT 0,
    lease_until_ms INTEGER NOT NULL DEFAULT 0,
    failure        TEXT
) WITHOUT ROWID;
CREATE INDEX replays_by_status ON replays (status, created_ms);
CREATE INDEX replays_by_subscription ON replays (sub_arn, created_ms);

-- Every subscription made or removed, for the audit's "subscriber set shrank".
CREATE TABLE subscription_log (
    id        INTEGER PRIMARY KEY,
    topic_arn TEXT    NOT NULL,
    sub_arn   TEXT    NOT NULL,
    protocol  TEXT    NOT NULL,
    endpoint  TEXT    NOT NULL,
    event     TEXT    NOT NULL,
    at_ms     INTEGER NOT NULL
);
CREATE INDEX subscription_log_by_topic ON subscription_log (topic_arn, at_ms);

-- The SNS accounting by minute (bucket_ms), with the unrouted causes beside no_subscribers.
CREATE TABLE sns_counts_v6 (
    id                INTEGER PRIMARY KEY,
    topic_arn         TEXT    NOT NULL,
    sub_arn           TEXT,
    bucket_ms         INTEGER NOT NULL DEFAULT 0,
    published         INTEGER NOT NULL DEFAULT 0,
    no_subscribers    INTEGER NOT NULL DEFAULT 0,
    unrouted_filtered INTEGER NOT NULL DEFAULT 0,
    unrouted_failed   INTEGER NOT NULL DEFAULT 0,
    delivered         INTEGER NOT NULL DEFAULT 0,
    filtered_out      INTEGER NOT NULL DEFAULT 0,
    failed            INTEGER NOT NULL DEFAULT 0
);
INSERT INTO sns_counts_v6 (id, topic_arn, sub_arn, published, no_subscribers, delivered, filtered_out, failed)
SELECT id, topic_arn, sub_arn, published, no_subscribers, delivered, filtered_out, failed FROM sns_counts;
DROP TABLE sns_counts;
ALTER TABLE sns_counts_v6 RENAME TO sns_counts;
CREATE INDEX sns_counts_by_topic ON sns_counts (topic_arn, bucket_ms);

-- SQS's NumberOfMessagesSent / Received / Deleted per queue and minute, flushed by every node.
CREATE TABLE queue_stats (
    id        INTEGER PRIMARY KEY,
    queue_arn TEXT    NOT NULL,
    bucket_ms INTEGER NOT NULL,
    sent      INTEGER NOT NULL DEFAULT 0,
    received  INTEGER NOT NULL DEFAULT 0,
    deleted   INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX queue_stats_by_queue ON queue_stats (queue_arn, bucket_ms);
