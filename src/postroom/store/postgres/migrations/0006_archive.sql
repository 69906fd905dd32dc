-- Topic archives, replays and the delivery audit (issue #12); see the SQLite migration 0006.
CREATE TABLE archive (
    id            BIGSERIAL PRIMARY KEY,
    topic_id      BIGINT  NOT NULL,
    topic_arn     TEXT    NOT NULL,
    message_id    TEXT    NOT NULL,
    published_ms  BIGINT  NOT NULL,
    message       TEXT    NOT NULL,
    subject       TEXT,
    structure     TEXT,
    attrs         TEXT,
    group_id      TEXT,
    dedup_id      TEXT,
    seq           BIGINT,
    unrouted      TEXT,
    expires_ms    BIGINT  NOT NULL
);
CREATE INDEX archive_by_topic ON archive (topic_id, id);
CREATE INDEX archive_by_time ON archive (topic_id, published_ms);
CREATE INDEX archive_by_expiry ON archive (expires_ms);

CREATE TABLE replays (
    replay_id      TEXT    PRIMARY KEY,
    topic_id       BIGINT  NOT NULL,
    topic_arn      TEXT    NOT NULL,
    sub_arn        TEXT,
    queue_target   TEXT,
    start_ms       BIGINT  NOT NULL,
    end_ms         BIGINT  NOT NULL,
    selection      TEXT    NOT NULL,
    rate           INTEGER,
    status         TEXT    NOT NULL,
    requested_by   TEXT    NOT NULL,
    origin         TEXT    NOT NULL,
    created_ms     BIGINT  NOT NULL,
    updated_ms     BIGINT  NOT NULL,
    cursor_id      BIGINT  NOT NULL DEFAULT 0,
    last_id        BIGINT  NOT NULL DEFAULT 0,
    total          BIGINT  NOT NULL DEFAULT 0,
    delivered      BIGINT  NOT NULL DEFAULT 0,
    skipped        BIGINT  NOT NULL DEFAULT 0,
    lease_until_ms BIGINT  NOT NULL DEFAULT 0,
    failure        TEXT
);
CREATE INDEX replays_by_status ON replays (status, created_ms);
CREATE INDEX replays_by_subscription ON replays (sub_arn, created_ms);

CREATE TABLE subscription_log (
    id        BIGSERIAL PRIMARY KEY,
    topic_arn TEXT    NOT NULL,
    sub_arn   TEXT    NOT NULL,
    protocol  TEXT    NOT NULL,
    endpoint  TEXT    NOT NULL,
    event     TEXT    NOT NULL,
    at_ms     BIGINT  NOT NULL
);
CREATE INDEX subscription_log_by_topic ON subscription_log (topic_arn, at_ms);

ALTER TABLE sns_counts ADD COLUMN bucket_ms BIGINT NOT NULL DEFAULT 0;
ALTER TABLE sns_counts ADD COLUMN unrouted_filtered BIGINT NOT NULL DEFAULT 0;
ALTER TABLE sns_counts ADD COLUMN unrouted_failed BIGINT NOT NULL DEFAULT 0;
DROP INDEX sns_counts_by_topic;
CREATE INDEX sns_counts_by_topic ON sns_counts (topic_arn, bucket_ms);

CREATE TABLE queue_stats (
    id        BIGSERIAL PRIMARY KEY,
    queue_arn TEXT    NOT NULL,
    bucket_ms BIGINT  NOT NULL,
    sent      BIGINT  NOT NULL DEFAULT 0,
    received  BIGINT  NOT NULL DEFAULT 0,
    deleted   BIGINT  NOT NULL DEFAULT 0
);
CREATE INDEX queue_stats_by_queue ON queue_stats (queue_arn, bucket_ms);
