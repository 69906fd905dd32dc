-- postroom shared store on PostgreSQL: the whole current schema, as the migrations build it.
CREATE TABLE queues (
    queue_id      BIGSERIAL PRIMARY KEY,
    account       TEXT    NOT NULL,
    region        TEXT    NOT NULL,
    name          TEXT    NOT NULL,
    attributes    TEXT    NOT NULL,
    tags          TEXT    NOT NULL,
    created_ms    BIGINT  NOT NULL,
    modified_ms   BIGINT  NOT NULL,
    next_seq      BIGINT  NOT NULL DEFAULT 1,
    last_purge_ms BIGINT,
    UNIQUE (account, name)
);

CREATE TABLE deleted_queues (
    account     TEXT   NOT NULL,
    name        TEXT   NOT NULL,
    deleted_ms  BIGINT NOT NULL,
    PRIMARY KEY (account, name)
);

-- visible_ms: when the message can next be received. In flight: receive_count > 0 and
-- visible_ms > now. Deleting a queue cascades to its messages, so a node holding a
-- stale cache entry cannot insert into a deleted queue (the foreign key refuses it).
CREATE TABLE messages (
    id               BIGSERIAL PRIMARY KEY,
    queue_id         BIGINT  NOT NULL REFERENCES queues (queue_id) ON DELETE CASCADE,
    message_id       TEXT    NOT NULL,
    seq              BIGINT,
    group_id         TEXT,
    dedup_id         TEXT,
    body             TEXT    NOT NULL,
    md5_body         TEXT    NOT NULL,
    attrs            TEXT,
    md5_attrs        TEXT,
    sys_attrs        TEXT,
    md5_sys_attrs    TEXT,
    sender_id        TEXT    NOT NULL,
    sent_ms          BIGINT  NOT NULL,
    visible_ms       BIGINT  NOT NULL,
    receive_count    INTEGER NOT NULL DEFAULT 0,
    first_receive_ms BIGINT,
    token            TEXT,
    dlq_source_arn   TEXT
);
CREATE INDEX messages_by_visibility ON messages (queue_id, visible_ms, id);
CREATE INDEX messages_by_group ON messages (queue_id, group_id, id) WHERE group_id IS NOT NULL;
CREATE INDEX messages_by_sent ON messages (queue_id, sent_ms);

CREATE TABLE dedup (
    queue_id    BIGINT NOT NULL REFERENCES queues (queue_id) ON DELETE CASCADE,
    scope       TEXT   NOT NULL,
    dedup_id    TEXT   NOT NULL,
    message_id  TEXT   NOT NULL,
    seq         BIGINT,
    expires_ms  BIGINT NOT NULL,
    PRIMARY KEY (queue_id, scope, dedup_id)
);
CREATE INDEX dedup_by_expiry ON dedup (expires_ms);

CREATE TABLE receive_attempts (
    queue_id    BIGINT NOT NULL REFERENCES queues (queue_id) ON DELETE CASCADE,
    attempt_id  TEXT   NOT NULL,
    handles     TEXT   NOT NULL,
    expires_ms  BIGINT NOT NULL,
    PRIMARY KEY (queue_id, attempt_id)
);

CREATE TABLE move_tasks (
    task_handle     TEXT PRIMARY KEY,
    source_arn      TEXT    NOT NULL,
    destination_arn TEXT,
    max_per_second  INTEGER,
    status          TEXT    NOT NULL,
    started_ms      BIGINT  NOT NULL,
    moved           BIGINT  NOT NULL DEFAULT 0,
    to_move         BIGINT  NOT NULL DEFAULT 0,
    last_row        BIGINT  NOT NULL DEFAULT 0,
    last_tick_ms    BIGINT,
    failure_reason  TEXT
);
CREATE INDEX move_tasks_by_source ON move_tasks (source_arn, started_ms);
