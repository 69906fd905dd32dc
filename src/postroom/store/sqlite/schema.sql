-- postroom embedded store: the whole current schema, as the migrations build it.
CREATE TABLE queues (
    queue_id     INTEGER PRIMARY KEY,
    account      TEXT    NOT NULL,
    region       TEXT    NOT NULL,
    name         TEXT    NOT NULL,
    attributes   TEXT    NOT NULL,
    tags         TEXT    NOT NULL,
    created_ms   INTEGER NOT NULL,
    modified_ms  INTEGER NOT NULL,
    next_seq     INTEGER NOT NULL DEFAULT 1,
    last_purge_ms INTEGER,
    UNIQUE (account, name)
);

-- Names of deleted queues, for AWS's 60-second reuse rule (QueueDeletedRecently).
CREATE TABLE deleted_queues (
    account     TEXT    NOT NULL,
    name        TEXT    NOT NULL,
    deleted_ms  INTEGER NOT NULL,
    PRIMARY KEY (account, name)
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
CREATE INDEX messages_by_group ON messages (queue_id, group_id, visible_ms) WHERE group_id IS NOT NULL;
CREATE INDEX messages_by_sent ON messages (queue_id, sent_ms);

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
