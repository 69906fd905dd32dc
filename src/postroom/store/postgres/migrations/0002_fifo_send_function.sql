-- FIFO send in one round trip: the dedup check, the sequence number and the insert
-- happen inside PostgreSQL under the queue row's lock, so the lock is held for
-- microseconds rather than for several client round trips. It sends no NOTIFY: PostgreSQL
-- serialises the commits of transactions that NOTIFY, so nodes announce wake-ups after
-- commit (store/postgres/wakeups.py).
CREATE FUNCTION postroom_send_fifo(
    p_queue_id BIGINT, p_scope TEXT, p_dedup_id TEXT, p_message_id TEXT, p_group_id TEXT, p_body TEXT,
    p_md5_body TEXT, p_attrs TEXT, p_md5_attrs TEXT, p_sys_attrs TEXT, p_md5_sys_attrs TEXT, p_sender_id TEXT,
    p_now_ms BIGINT, p_visible_ms BIGINT, p_window_ms BIGINT,
    OUT message_id TEXT, OUT seq BIGINT, OUT duplicate BOOLEAN)
LANGUAGE plpgsql AS $$
DECLARE
    seen RECORD;
BEGIN
    SELECT next_seq INTO seq FROM queues WHERE queue_id = p_queue_id FOR UPDATE;
    IF NOT FOUND THEN
        RAISE foreign_key_violation USING MESSAGE = 'queue does not exist';
    END IF;
    SELECT d.message_id, d.seq, d.expires_ms INTO seen FROM dedup d
    WHERE d.queue_id = p_queue_id AND d.scope = p_scope AND d.dedup_id = p_dedup_id;
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
    VALUES (p_queue_id, p_scope, p_dedup_id, p_message_id, seq, p_now_ms + p_window_ms)
    ON CONFLICT (queue_id, scope, dedup_id)
    DO UPDATE SET message_id = EXCLUDED.message_id, seq = EXCLUDED.seq, expires_ms = EXCLUDED.expires_ms;
    message_id := p_message_id;
    duplicate := FALSE;
END;
$$;
