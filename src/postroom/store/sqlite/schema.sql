-- postroom embedded store: the whole current schema, as the migrations build it.
-- dedup_scope: the DeduplicationScope a FIFO queue was created with and keeps (migration 0008).
CREATE TABLE "queues" (
    queue_id      INTEGER PRIMARY KEY AUTOINCREMENT,
    account       TEXT    NOT NULL,
    region        TEXT    NOT NULL,
    name          TEXT    NOT NULL,
    attributes    TEXT    NOT NULL,
    tags          TEXT    NOT NULL,
    created_ms    INTEGER NOT NULL,
    modified_ms   INTEGER NOT NULL,
    next_seq      INTEGER NOT NULL DEFAULT 1,
    last_purge_ms INTEGER, dedup_scope TEXT,
    UNIQUE (account, region, name)
);

-- Names of deleted queues, for AWS's 60-second reuse rule (QueueDeletedRecently).
CREATE TABLE "deleted_queues" (
    account     TEXT    NOT NULL,
    region      TEXT    NOT NULL,
    name        TEXT    NOT NULL,
    deleted_ms  INTEGER NOT NULL,
    PRIMARY KEY (account, region, name)
) WITHOUT ROWID;

-- One row per stored message. visible_ms is when it can next be received: the send
-- time plus its delay, then receive time plus visibility timeout. A message is in
-- flight when receive_count > 0 and visible_ms > now.
CREATE TABLE messages (
    id               INTEGER PRIMARY KEY,
    queue_id         INTEGER NOT NULL,
    message_id       TEXT    NOT NULL,
    seq              INTEGER,
    group_id         TEXT,
    dedup_id         TEXT,
    body             TEXT    NOT NULL,
    md5_body         TEXT    NOT NULL,
    attrs            TEXT,
    md5_attrs        TEXT,
    sys_attrs        TEXT,
    md5_sys_attrs    TEXT,
    sender_id        TEXT    NOT NULL,
    sent_ms          INTEGER NOT NULL,
    visible_ms       INTEGER NOT NULL,
    receive_count    INTEGER NOT NULL DEFAULT 0,
    first_receive_ms INTEGER,
    token            TEXT,
    dlq_source_arn   TEXT
);
CREATE INDEX messages_by_visibility ON messages (queue_id, visible_ms);
CREATE INDEX messages_by_group ON messages (queue_id, group_id) WHERE group_id IS NOT NULL;
CREATE INDEX messages_by_sent ON messages (queue_id, sent_ms);
CREATE INDEX messages_by_queue_order ON messages (queue_id, id);

-- FIFO deduplication: (queue, scope, dedup id) seen within the 5-minute window.
-- scope is '' for DeduplicationScope=queue and the group id for messageGroup.
CREATE TABLE dedup (
    queue_id    INTEGER NOT NULL,
    scope       TEXT    NOT NULL,
    dedup_id    TEXT    NOT NULL,
    message_id  TEXT    NOT NULL,
    seq         INTEGER,
    expires_ms  INTEGER NOT NULL,
    PRIMARY KEY (queue_id, scope, dedup_id)
) WITHOUT ROWID;
CREATE INDEX dedup_by_expiry ON dedup (expires_ms);

-- FIFO ReceiveRequestAttemptId: the rows handed out by an attempt, for 5 minutes.
CREATE TABLE receive_attempts (
    queue_id    INTEGER NOT NULL,
    attempt_id  TEXT    NOT NULL,
    handles     TEXT    NOT NULL,
    expires_ms  INTEGER NOT NULL,
    PRIMARY KEY (queue_id, attempt_id)
) WITHOUT ROWID;

CREATE TABLE move_tasks (
    task_handle     TEXT PRIMARY KEY,
    source_arn      TEXT    NOT NULL,
    destination_arn TEXT,
    max_per_second  INTEGER,
    status          TEXT    NOT NULL,
    started_ms      INTEGER NOT NULL,
    moved           INTEGER NOT NULL DEFAULT 0,
    to_move         INTEGER NOT NULL DEFAULT 0,
    last_row        INTEGER NOT NULL DEFAULT 0,
    failure_reason  TEXT
);
CREATE INDEX move_tasks_by_source ON move_tasks (source_arn, started_ms);
-- subs_version moves with every change to the topic's subscriptions (see migration 0005).
CREATE TABLE "topics" (
    topic_id     INTEGER PRIMARY KEY AUTOINCREMENT,
    account      TEXT    NOT NULL,
    region       TEXT    NOT NULL,
    name         TEXT    NOT NULL,
    attributes   TEXT    NOT NULL,
    tags         TEXT    NOT NULL,
    created_ms   INTEGER NOT NULL,
    next_seq     INTEGER NOT NULL DEFAULT 1,
    subs_version INTEGER NOT NULL DEFAULT 0,
    UNIQUE (account, region, name)
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

-- Delivery accounting by minute (bucket_ms), insert-only (no hot counter row for concurrent
-- publishers to fight over); readers sum, and a sweep folds old rows together.
CREATE TABLE "sns_counts" (
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
CREATE INDEX sns_counts_by_topic ON sns_counts (topic_arn, bucket_ms);

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
CREATE TABLE settings (
    name   TEXT PRIMARY KEY,
    value  TEXT NOT NULL
) WITHOUT ROWID;
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

-- Amazon SNS mobile push, SMS, email and data protection (issue #13).
-- platform_apps / platform_endpoints: CreatePlatformApplication and CreatePlatformEndpoint; an
-- application's credentials are kept (PlatformCredential, PlatformPrincipal) but never shown.
CREATE TABLE platform_apps (
    arn          TEXT    PRIMARY KEY,
    account      TEXT    NOT NULL,
    region       TEXT    NOT NULL,
    name         TEXT    NOT NULL,
    platform     TEXT    NOT NULL,
    attributes   TEXT    NOT NULL,
    credentials  TEXT    NOT NULL,
    created_ms   INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX platform_apps_by_owner ON platform_apps (account, region, arn);

CREATE TABLE platform_endpoints (
    arn          TEXT    PRIMARY KEY,
    app_arn      TEXT    NOT NULL,
    token        TEXT    NOT NULL,
    attributes   TEXT    NOT NULL,
    created_ms   INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX platform_endpoints_by_app ON platform_endpoints (app_arn, token);

-- SetSMSAttributes (one row per account and region), opted-out numbers and the SMS sandbox's
-- destination numbers (kind: opted-out | sandbox).
CREATE TABLE sms_settings (
    account      TEXT    NOT NULL,
    region       TEXT    NOT NULL,
    attributes   TEXT    NOT NULL,
    PRIMARY KEY (account, region)
) WITHOUT ROWID;

CREATE TABLE sms_numbers (
    account      TEXT    NOT NULL,
    region       TEXT    NOT NULL,
    kind         TEXT    NOT NULL,
    phone        TEXT    NOT NULL,
    status       TEXT    NOT NULL,
    secret       TEXT,
    created_ms   INTEGER NOT NULL,
    PRIMARY KEY (account, region, kind, phone)
) WITHOUT ROWID;

-- PutDataProtectionPolicy, by topic id: a topic re-created under the same name starts without one.
CREATE TABLE data_protection (
    topic_id     INTEGER PRIMARY KEY,
    policy       TEXT    NOT NULL
);

-- What SMS, email and mobile push would have sent (kind: sms | email | push), newest last;
-- each kind keeps its last 1,000 entries.
CREATE TABLE notification_outbox (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    kind         TEXT    NOT NULL,
    destination  TEXT    NOT NULL,
    doc          TEXT    NOT NULL,
    created_ms   INTEGER NOT NULL
);
CREATE INDEX notification_outbox_by_kind ON notification_outbox (kind, id);
