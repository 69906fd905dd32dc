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
    dedup_scope   TEXT,
    UNIQUE (account, region, name)
);

CREATE TABLE deleted_queues (
    account     TEXT   NOT NULL,
    name        TEXT   NOT NULL,
    deleted_ms  BIGINT NOT NULL,
    region      TEXT   NOT NULL,
    PRIMARY KEY (account, region, name)
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
CREATE FUNCTION postroom_send_fifo(
    p_queue_id BIGINT, p_dedup_id TEXT, p_message_id TEXT, p_group_id TEXT, p_body TEXT,
    p_md5_body TEXT, p_attrs TEXT, p_md5_attrs TEXT, p_sys_attrs TEXT, p_md5_sys_attrs TEXT, p_sender_id TEXT,
    p_now_ms BIGINT, p_visible_ms BIGINT, p_window_ms BIGINT,
    OUT message_id TEXT, OUT seq BIGINT, OUT duplicate BOOLEAN)
LANGUAGE plpgsql AS $$
DECLARE
    seen RECORD;
    v_created_scope TEXT;
    v_scope TEXT;
BEGIN
    SELECT q.next_seq, q.dedup_scope INTO seq, v_created_scope FROM queues q WHERE q.queue_id = p_queue_id
    FOR UPDATE;
    IF NOT FOUND THEN
        RAISE foreign_key_violation USING MESSAGE = 'queue does not exist';
    END IF;
    -- postroom.core.delivery_rules.dedup_scope: the scope the queue was created with.
    v_scope := CASE WHEN v_created_scope = 'messageGroup' THEN coalesce(p_group_id, '') ELSE '' END;
    SELECT d.message_id, d.seq, d.expires_ms INTO seen FROM dedup d
    WHERE d.queue_id = p_queue_id AND d.scope = v_scope AND d.dedup_id = p_dedup_id;
    IF FOUND AND seen.expires_ms > p_now_ms THEN
        message_id := seen.message_id;
        seq := seen.seq;
        duplicate := TRUE;
        RETURN;
    END IF;
    UPDATE queues SET next_seq = seq + 1 WHERE queue_id = p_queue_id;
    INSERT INTO messages (queue_id, message_id, seq, group_id, dedup_id, body, md5_body, attrs, md5_attrs,
                          sys_attrs, md5_sys_attrs, sender_id, sent_ms, visible_ms)
    VALUES (p_queue_id, p_message_id, seq, p_group_id, p_dedup_id, p_body, p_md5_body, p_attrs, p_md5_attrs,
            p_sys_attrs, p_md5_sys_attrs, p_sender_id, p_now_ms, p_visible_ms);
    INSERT INTO dedup (queue_id, scope, dedup_id, message_id, seq, expires_ms)
    VALUES (p_queue_id, v_scope, p_dedup_id, p_message_id, seq, p_now_ms + p_window_ms)
    ON CONFLICT (queue_id, scope, dedup_id)
    DO UPDATE SET message_id = EXCLUDED.message_id, seq = EXCLUDED.seq, expires_ms = EXCLUDED.expires_ms;
    message_id := p_message_id;
    duplicate := FALSE;
END;
$$;
CREATE TABLE topics (
    topic_id    BIGSERIAL PRIMARY KEY,
    account     TEXT    NOT NULL,
    region      TEXT    NOT NULL,
    name        TEXT    NOT NULL,
    attributes  TEXT    NOT NULL,
    tags        TEXT    NOT NULL,
    created_ms  BIGINT NOT NULL,
    next_seq    BIGINT  NOT NULL DEFAULT 1,
    subs_version BIGINT NOT NULL DEFAULT 0,
    UNIQUE (account, region, name)
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
    failed         BIGINT  NOT NULL DEFAULT 0,
    bucket_ms      BIGINT  NOT NULL DEFAULT 0,
    unrouted_filtered BIGINT NOT NULL DEFAULT 0,
    unrouted_failed   BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX sns_counts_by_topic ON sns_counts (topic_arn, bucket_ms);

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
CREATE TABLE settings (
    name   TEXT PRIMARY KEY,
    value  TEXT NOT NULL
);
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

CREATE TABLE queue_stats (
    id        BIGSERIAL PRIMARY KEY,
    queue_arn TEXT    NOT NULL,
    bucket_ms BIGINT  NOT NULL,
    sent      BIGINT  NOT NULL DEFAULT 0,
    received  BIGINT  NOT NULL DEFAULT 0,
    deleted   BIGINT  NOT NULL DEFAULT 0
);
CREATE INDEX queue_stats_by_queue ON queue_stats (queue_arn, bucket_ms);

-- Amazon SNS mobile push, SMS, email and data protection (issue #13); see the SQLite migration 0007.
CREATE TABLE platform_apps (
    arn          TEXT    PRIMARY KEY,
    account      TEXT    NOT NULL,
    region       TEXT    NOT NULL,
    name         TEXT    NOT NULL,
    platform     TEXT    NOT NULL,
    attributes   TEXT    NOT NULL,
    credentials  TEXT    NOT NULL,
    created_ms   BIGINT  NOT NULL
);
CREATE INDEX platform_apps_by_owner ON platform_apps (account, region, arn);

CREATE TABLE platform_endpoints (
    arn          TEXT    PRIMARY KEY,
    app_arn      TEXT    NOT NULL,
    token        TEXT    NOT NULL,
    attributes   TEXT    NOT NULL,
    created_ms   BIGINT  NOT NULL
);
CREATE INDEX platform_endpoints_by_app ON platform_endpoints (app_arn, token);

CREATE TABLE sms_settings (
    account      TEXT    NOT NULL,
    region       TEXT    NOT NULL,
    attributes   TEXT    NOT NULL,
    PRIMARY KEY (account, region)
);

CREATE TABLE sms_numbers (
    account      TEXT    NOT NULL,
    region       TEXT    NOT NULL,
    kind         TEXT    NOT NULL,
    phone        TEXT    NOT NULL,
    status       TEXT    NOT NULL,
    secret       TEXT,
    created_ms   BIGINT  NOT NULL,
    PRIMARY KEY (account, region, kind, phone)
);

CREATE TABLE data_protection (
    topic_id     BIGINT  PRIMARY KEY,
    policy       TEXT    NOT NULL
);

CREATE TABLE notification_outbox (
    id           BIGSERIAL PRIMARY KEY,
    kind         TEXT    NOT NULL,
    destination  TEXT    NOT NULL,
    doc          TEXT    NOT NULL,
    created_ms   BIGINT  NOT NULL
);
CREATE INDEX notification_outbox_by_kind ON notification_outbox (kind, id);
