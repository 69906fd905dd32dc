-- Issue #13, "Fidelity". A FIFO queue deduplicates in the DeduplicationScope it was created
-- with: AWS accepts a later SetQueueAttributes DeduplicationScope and reports the new value,
-- but keeps deduplicating as before (observed; LocalStack's AWS-validated high-throughput
-- tests, localstack#10324 and #10887). dedup_scope keeps the value from CreateQueue; queues
-- that exist already keep the one they have now. postroom_send_fifo reads it under the queue
-- row's lock instead of taking the scope from the caller.
ALTER TABLE queues ADD COLUMN dedup_scope TEXT;
UPDATE queues SET dedup_scope = attributes::json->>'DeduplicationScope';
DROP FUNCTION postroom_send_fifo(BIGINT, TEXT, TEXT, TEXT, TEXT, TEXT, TEXT, TEXT, TEXT, TEXT, TEXT, TEXT, BIGINT,
                                 BIGINT, BIGINT);
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
