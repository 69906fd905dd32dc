-- Amazon SNS: topics, subscriptions, topic deduplication, delivery accounting, HTTP outbox.
CREATE TABLE topics (
    topic_id    INTEGER PRIMARY KEY,
    account     TEXT    NOT NULL,
    region      TEXT    NOT NULL,
    name        TEXT    NOT NULL,
    attributes  TEXT    NOT NULL,
    tags        TEXT    NOT NULL,
    created_ms  INTEGER NOT NULL,
    next_seq    INTEGER NOT NULL DEFAULT 1,
    UNIQUE (account, name)
);

CREATE TABLE subscriptions (
    sub_id      TEXT    PRIMARY KEY,
    topic_id    INTEGER NOT NULL,
    topic_arn   TEXT    NOT NULL,
    owner       TEXT    NOT NULL,
    protocol    TEXT    NOT NULL,
    endpoint    TEXT    NOT NULL,
    attributes  TEXT    NOT NULL,
    confirmed   INTEGER NOT NULL,
    token       TEXT,
    created_ms  INTEGER NOT NULL,
    UNIQUE (topic_id, protocol, endpoint)
);
CREATE INDEX subscriptions_by_owner ON subscriptions (owner, sub_id);

CREATE TABLE topic_dedup (
    topic_id    INTEGER NOT NULL,
    dedup_id    TEXT    NOT NULL,
    message_id  TEXT    NOT NULL,
    seq         INTEGER,
    expires_ms  INTEGER NOT NULL,
    PRIMARY KEY (topic_id, dedup_id)
) WITHOUT ROWID;

-- Delivery accounting, insert-only (no hot counter row for concurrent publishers to
-- fight over); readers sum, and a sweep folds old rows together.
CREATE TABLE sns_counts (
    id             INTEGER PRIMARY KEY,
    topic_arn      TEXT    NOT NULL,
    sub_arn        TEXT,
    published      INTEGER NOT NULL DEFAULT 0,
    no_subscribers INTEGER NOT NULL DEFAULT 0,
    delivered      INTEGER NOT NULL DEFAULT 0,
    filtered_out   INTEGER NOT NULL DEFAULT 0,
    failed         INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX sns_counts_by_topic ON sns_counts (topic_arn);

-- Deliveries to HTTP/HTTPS endpoints, committed with the publish and retried by the
-- subscription's delivery policy.
CREATE TABLE outbox (
    id               INTEGER PRIMARY KEY,
    sub_arn          TEXT    NOT NULL,
    endpoint         TEXT    NOT NULL,
    body             TEXT    NOT NULL,
    headers          TEXT    NOT NULL,
    attempts         INTEGER NOT NULL DEFAULT 0,
    next_attempt_ms  INTEGER NOT NULL,
    created_ms       INTEGER NOT NULL
);
CREATE INDEX outbox_due ON outbox (next_attempt_ms);
