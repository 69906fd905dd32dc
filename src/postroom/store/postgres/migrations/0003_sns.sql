-- Amazon SNS (postgres): topics, subscriptions, topic deduplication, delivery accounting, HTTP outbox.
CREATE TABLE topics (
    topic_id    BIGSERIAL PRIMARY KEY,
    account     TEXT    NOT NULL,
    region      TEXT    NOT NULL,
    name        TEXT    NOT NULL,
    attributes  TEXT    NOT NULL,
    tags        TEXT    NOT NULL,
    created_ms  BIGINT NOT NULL,
    next_seq    BIGINT  NOT NULL DEFAULT 1,
    UNIQUE (account, name)
);

CREATE TABLE subscriptions (
    sub_id      TEXT    PRIMARY KEY,
    topic_id    BIGINT  NOT NULL REFERENCES topics (topic_id) ON DELETE CASCADE,
    topic_arn   TEXT    NOT NULL,
    owner       TEXT    NOT NULL,
    protocol    TEXT    NOT NULL,
    endpoint    TEXT    NOT NULL,
    attributes  TEXT    NOT NULL,
    confirmed   BOOLEAN NOT NULL,
    token       TEXT,
    created_ms  BIGINT NOT NULL,
    UNIQUE (topic_id, protocol, endpoint)
);
CREATE INDEX subscriptions_by_owner ON subscriptions (owner, sub_id);

CREATE TABLE topic_dedup (
    topic_id    BIGINT  NOT NULL REFERENCES topics (topic_id) ON DELETE CASCADE,
    dedup_id    TEXT    NOT NULL,
    message_id  TEXT    NOT NULL,
    seq         BIGINT,
    expires_ms  BIGINT NOT NULL,
    PRIMARY KEY (topic_id, dedup_id)
);

-- Delivery accounting, insert-only (no hot counter row for concurrent publishers to
-- fight over); readers sum, and a sweep folds old rows together.
CREATE TABLE sns_counts (
    id             BIGSERIAL PRIMARY KEY,
    topic_arn      TEXT    NOT NULL,
    sub_arn        TEXT,
    published      BIGINT  NOT NULL DEFAULT 0,
    no_subscribers BIGINT  NOT NULL DEFAULT 0,
    delivered      BIGINT  NOT NULL DEFAULT 0,
    filtered_out   BIGINT  NOT NULL DEFAULT 0,
    failed         BIGINT  NOT NULL DEFAULT 0
);
CREATE INDEX sns_counts_by_topic ON sns_counts (topic_arn);

-- Deliveries to HTTP/HTTPS endpoints, committed with the publish and retried by the
-- subscription's delivery policy.
CREATE TABLE outbox (
    id               BIGSERIAL PRIMARY KEY,
    sub_arn          TEXT    NOT NULL,
    endpoint         TEXT    NOT NULL,
    body             TEXT    NOT NULL,
    headers          TEXT    NOT NULL,
    attempts         INTEGER NOT NULL DEFAULT 0,
    next_attempt_ms  BIGINT NOT NULL,
    created_ms       BIGINT  NOT NULL
);
CREATE INDEX outbox_due ON outbox (next_attempt_ms);
