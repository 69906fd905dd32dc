-- name: insert_deliveries
-- Standard-queue deliveries of a publish, into any number of queues, in one statement.
INSERT INTO messages (queue_id, message_id, seq, group_id, dedup_id, body, md5_body, attrs, md5_attrs,
                      sys_attrs, md5_sys_attrs, sender_id, sent_ms, visible_ms, dlq_source_arn)
SELECT * FROM unnest($1::bigint[], $2::text[], $3::bigint[], $4::text[], $5::text[], $6::text[], $7::text[],
                     $8::text[], $9::text[], $10::text[], $11::text[], $12::text[], $13::bigint[], $14::bigint[],
                     $15::text[]);

-- name: insert_message
INSERT INTO messages (queue_id, message_id, seq, group_id, dedup_id, body, md5_body, attrs, md5_attrs,
                      sys_attrs, md5_sys_attrs, sender_id, sent_ms, visible_ms, dlq_source_arn)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15);

-- name: take_sequence
UPDATE queues SET next_seq = next_seq + 1 WHERE queue_id = $1 RETURNING next_seq - 1;

-- name: find_dedup
SELECT message_id, seq, expires_ms FROM dedup WHERE queue_id = $1 AND scope = $2 AND dedup_id = $3;

-- name: upsert_dedup
INSERT INTO dedup (queue_id, scope, dedup_id, message_id, seq, expires_ms) VALUES ($1, $2, $3, $4, $5, $6)
ON CONFLICT (queue_id, scope, dedup_id)
DO UPDATE SET message_id = EXCLUDED.message_id, seq = EXCLUDED.seq, expires_ms = EXCLUDED.expires_ms;

-- name: standard_receive
-- SKIP LOCKED: two nodes receiving at once never hand out the same message.
UPDATE messages m SET visible_ms = $3, receive_count = m.receive_count + 1,
       first_receive_ms = COALESCE(m.first_receive_ms, $2), token = md5(random()::text || m.id::text)
FROM (SELECT id FROM messages WHERE queue_id = $1 AND visible_ms <= $2 ORDER BY visible_ms, id
      LIMIT $4 FOR UPDATE SKIP LOCKED) c
WHERE m.id = c.id
RETURNING m.id, m.message_id, m.seq, m.group_id, m.dedup_id, m.body, m.md5_body, m.attrs, m.md5_attrs,
          m.sys_attrs, m.md5_sys_attrs, m.sender_id, m.sent_ms, m.visible_ms, m.receive_count,
          m.first_receive_ms, m.dlq_source_arn, m.token;

-- name: fifo_lock
-- FIFO receives of one queue are decided one at a time across every node.
SELECT pg_advisory_xact_lock(7710, $1::int);

-- name: fifo_next_group
-- The group a FIFO receive serves next (postroom.core.delivery_rules): among groups whose
-- first message is visible, the one whose first message became visible earliest. The walk
-- of messages_by_visibility in (visible_ms, id) order stops at the first message that is
-- its group's first (one probe of messages_by_group).
SELECT m.group_id FROM messages m
WHERE m.queue_id = $1 AND m.visible_ms <= $2 AND NOT (m.group_id = ANY($3::text[]))
  AND NOT EXISTS (SELECT 1 FROM messages i
                  WHERE i.queue_id = m.queue_id AND i.group_id = m.group_id AND i.id < m.id)
ORDER BY m.visible_ms, m.id LIMIT 1;

-- name: fifo_group_head
SELECT id, message_id, seq, group_id, dedup_id, body, md5_body, attrs, md5_attrs, sys_attrs, md5_sys_attrs,
       sender_id, sent_ms, visible_ms, receive_count, first_receive_ms, dlq_source_arn, token
FROM messages WHERE queue_id = $1 AND group_id = $2 ORDER BY id LIMIT $3;

-- name: mark_received
UPDATE messages SET visible_ms = $1, receive_count = receive_count + 1,
       first_receive_ms = COALESCE(first_receive_ms, $2), token = $3
WHERE id = $4;

-- name: next_visible
SELECT MIN(visible_ms) FROM messages WHERE queue_id = $1 AND visible_ms > $2;

-- name: delete_message
DELETE FROM messages WHERE id = $1;

-- name: messages_present
-- Which of the (row, MessageId) pairs a batch of handles names are still in the queue.
SELECT m.id FROM messages m JOIN unnest($2::bigint[], $3::text[]) AS d(id, message_id)
  ON m.id = d.id AND (d.message_id IS NULL OR m.message_id = d.message_id)
WHERE m.queue_id = $1;

-- name: message_exists
SELECT 1 FROM messages WHERE id = $1 AND queue_id = $2 AND ($3::text IS NULL OR message_id = $3);

-- name: delete_messages
DELETE FROM messages WHERE id = ANY($1::bigint[]);

-- name: set_visibility
-- Only the receive the handle came from: the token is matched in the UPDATE itself, so a
-- stale handle never changes the timeout of the message's next receiver.
UPDATE messages SET visible_ms = $1
WHERE id = $2 AND queue_id = $3 AND token = $4 AND receive_count > 0 AND visible_ms > $5
RETURNING id;

-- name: purge_messages
-- PurgeQueue deletes the messages and forgets the deduplication ids (observed on AWS:
-- LocalStack's AWS-validated test_purge_queue_clears_fifo_deduplication_cache).
WITH forgotten AS (DELETE FROM dedup WHERE queue_id = $1)
DELETE FROM messages WHERE queue_id = $1;

-- name: count_messages
SELECT COUNT(*) FILTER (WHERE visible_ms <= $2),
       COUNT(*) FILTER (WHERE visible_ms > $2 AND receive_count > 0),
       COUNT(*) FILTER (WHERE visible_ms > $2 AND receive_count = 0),
       MIN(sent_ms)
FROM messages WHERE queue_id = $1;

-- name: expire_messages
DELETE FROM messages WHERE queue_id = $1 AND sent_ms < $2;

-- name: expire_dedup
DELETE FROM dedup WHERE expires_ms <= $1;

-- name: expire_attempts
DELETE FROM receive_attempts WHERE expires_ms <= $1;

-- name: find_attempt
SELECT handles FROM receive_attempts WHERE queue_id = $1 AND attempt_id = $2 AND expires_ms > $3;

-- name: save_attempt
INSERT INTO receive_attempts (queue_id, attempt_id, handles, expires_ms) VALUES ($1, $2, $3, $4)
ON CONFLICT (queue_id, attempt_id) DO UPDATE SET handles = EXCLUDED.handles, expires_ms = EXCLUDED.expires_ms;

-- name: message_by_row
SELECT id, message_id, seq, group_id, dedup_id, body, md5_body, attrs, md5_attrs, sys_attrs, md5_sys_attrs,
       sender_id, sent_ms, visible_ms, receive_count, first_receive_ms, dlq_source_arn, token
FROM messages WHERE id = $1 AND queue_id = $2;

-- name: insert_queue
-- dedup_scope: the DeduplicationScope the queue is created with, which it keeps (migration 0008).
INSERT INTO queues (account, region, name, attributes, tags, created_ms, modified_ms, dedup_scope)
VALUES ($1, $2, $3, $4::text, $5, $6, $6, $4::text::json->>'DeduplicationScope')
ON CONFLICT (account, region, name) DO NOTHING
RETURNING queue_id;

-- name: queue_by_key
SELECT queue_id, account, region, name, attributes, tags, created_ms, modified_ms
FROM queues WHERE account = $1 AND region = $2 AND name = $3;

-- name: lock_queue_by_key
SELECT queue_id, account, region, name, attributes, tags, created_ms, modified_ms
FROM queues WHERE account = $1 AND region = $2 AND name = $3 FOR UPDATE;

-- name: list_queues
SELECT queue_id, account, region, name, attributes, tags, created_ms, modified_ms
FROM queues WHERE account = $1 AND region = $2 AND starts_with(name, $3) AND name COLLATE "C" > $4
ORDER BY name COLLATE "C" LIMIT $5;

-- name: dead_letter_sources
SELECT queue_id, account, region, name, attributes, tags, created_ms, modified_ms
FROM queues WHERE account = $1 AND region = $2 AND strpos(attributes, $3) > 0 ORDER BY name COLLATE "C";

-- name: update_queue
UPDATE queues SET attributes = $2, tags = $3, modified_ms = $4 WHERE queue_id = $1;

-- name: delete_queue
DELETE FROM queues WHERE queue_id = $1;

-- name: remember_deleted
INSERT INTO deleted_queues (account, region, name, deleted_ms) VALUES ($1, $2, $3, $4)
ON CONFLICT (account, region, name) DO UPDATE SET deleted_ms = EXCLUDED.deleted_ms;

-- name: deleted_at
SELECT deleted_ms FROM deleted_queues WHERE account = $1 AND region = $2 AND name = $3;

-- name: purge_guard
SELECT last_purge_ms FROM queues WHERE queue_id = $1 FOR UPDATE;

-- name: set_last_purge
UPDATE queues SET last_purge_ms = $1 WHERE queue_id = $2;

-- name: retention_periods
SELECT queue_id, attributes FROM queues;

-- name: insert_move_task
INSERT INTO move_tasks (task_handle, source_arn, destination_arn, max_per_second, status, started_ms,
                        moved, to_move, last_row, last_tick_ms)
VALUES ($1, $2, $3, $4, 'RUNNING', $5, 0, $6, $7, $5);

-- name: running_move_task
SELECT task_handle FROM move_tasks WHERE source_arn = $1 AND status = 'RUNNING' FOR UPDATE;

-- name: source_lock
SELECT pg_advisory_xact_lock(7711, hashtext($1));

-- name: move_tasks_by_source
SELECT task_handle, source_arn, destination_arn, max_per_second, status, started_ms, moved, to_move,
       failure_reason
FROM move_tasks WHERE source_arn = $1 ORDER BY started_ms DESC LIMIT $2;

-- name: running_move_tasks
SELECT task_handle, source_arn, destination_arn, max_per_second, status, started_ms, moved, to_move,
       failure_reason
FROM move_tasks WHERE status = 'RUNNING' ORDER BY started_ms;

-- name: move_task
SELECT task_handle, source_arn, destination_arn, max_per_second, status, started_ms, moved, to_move,
       failure_reason, last_row, last_tick_ms
FROM move_tasks WHERE task_handle = $1;

-- name: lock_move_task
SELECT task_handle, source_arn, destination_arn, max_per_second, status, started_ms, moved, to_move,
       failure_reason, last_row, last_tick_ms
FROM move_tasks WHERE task_handle = $1 FOR UPDATE SKIP LOCKED;

-- name: update_move_task
UPDATE move_tasks SET status = $1, moved = $2, failure_reason = $3, last_tick_ms = $5 WHERE task_handle = $4;

-- name: move_candidates
SELECT id, message_id, seq, group_id, dedup_id, body, md5_body, attrs, md5_attrs, sys_attrs, md5_sys_attrs,
       sender_id, sent_ms, visible_ms, receive_count, first_receive_ms, dlq_source_arn, token
FROM messages WHERE queue_id = $1 AND id <= $2 ORDER BY id LIMIT $3;

-- name: max_row
SELECT COALESCE(MAX(id), 0), COUNT(*) FROM messages WHERE queue_id = $1;

-- name: notify
SELECT pg_notify($1, $2);

-- name: send_fifo
-- One FIFO message, deduplicated in the scope the queue was created with (migration 0008).
SELECT message_id, seq, duplicate
FROM postroom_send_fifo($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14);

-- name: delete_by_handles
-- Standard queues ($4 IS NULL): any handle of the message deletes it (a handle of the older
-- format, without MessageId, only with its own receive's token). FIFO queues ($4 = now):
-- only the handle of the receive still in flight.
DELETE FROM messages m USING unnest($2::bigint[], $3::text[], $5::text[]) AS d(id, token, message_id)
WHERE m.queue_id = $1 AND m.id = d.id
  AND CASE WHEN $4::bigint IS NULL
           THEN m.message_id = d.message_id OR (d.message_id IS NULL AND m.token = d.token)
           ELSE m.token = d.token AND m.visible_ms > $4 END
RETURNING m.id;

-- name: insert_topic
INSERT INTO topics (account, region, name, attributes, tags, created_ms) VALUES ($1, $2, $3, $4, $5, $6)
ON CONFLICT (account, region, name) DO NOTHING RETURNING topic_id;

-- name: topic_by_key
SELECT topic_id, account, region, name, attributes, tags, created_ms FROM topics
WHERE account = $1 AND region = $2 AND name = $3;

-- name: lock_topic_by_key
SELECT topic_id, account, region, name, attributes, tags, created_ms FROM topics
WHERE account = $1 AND region = $2 AND name = $3 FOR UPDATE;

-- name: topics_of
SELECT topic_id, account, region, name, attributes, tags, created_ms FROM topics WHERE account = $1 AND region = $2
ORDER BY name COLLATE "C";

-- name: topic_version
SELECT subs_version FROM topics WHERE topic_id = $1;

-- name: bump_subscriptions
UPDATE topics SET subs_version = subs_version + 1 WHERE topic_id = $1;

-- name: subscription_set
-- One statement, one snapshot: the version and the subscriptions it counts.
SELECT t.subs_version, s.sub_id, s.topic_arn, s.owner, s.protocol, s.endpoint, s.attributes, s.confirmed, s.token
FROM topics t LEFT JOIN subscriptions s ON s.topic_id = t.topic_id
WHERE t.topic_id = $1 ORDER BY s.created_ms, s.sub_id;

-- name: update_topic
UPDATE topics SET attributes = $2, tags = $3 WHERE topic_id = $1;

-- name: delete_topic
DELETE FROM topics WHERE topic_id = $1;

-- name: subscriptions_in
SELECT s.sub_id, s.topic_arn, s.owner, s.protocol, s.endpoint, s.attributes, s.confirmed, s.token
FROM subscriptions s JOIN topics t ON t.topic_id = s.topic_id
WHERE t.account = $1 AND t.region = $2 ORDER BY s.topic_arn, s.sub_id;

-- name: subscription_by_id
SELECT sub_id, topic_id, topic_arn, owner, protocol, endpoint, attributes, confirmed, token FROM subscriptions
WHERE sub_id = $1;

-- name: lock_subscription
SELECT sub_id, topic_id, topic_arn, owner, protocol, endpoint, attributes, confirmed, token FROM subscriptions
WHERE sub_id = $1 FOR UPDATE;

-- name: subscription_by_token
SELECT sub_id, topic_id, topic_arn, owner, protocol, endpoint, attributes, confirmed, token FROM subscriptions
WHERE topic_id = $1 AND token = $2 FOR UPDATE;

-- name: subscription_by_endpoint
SELECT sub_id, topic_arn, owner, protocol, endpoint, attributes, confirmed, token FROM subscriptions
WHERE topic_id = $1 AND protocol = $2 AND endpoint = $3;

-- name: insert_subscription
INSERT INTO subscriptions (sub_id, topic_id, topic_arn, owner, protocol, endpoint, attributes, confirmed, token,
                           created_ms)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
ON CONFLICT (topic_id, protocol, endpoint) DO NOTHING;

-- name: update_subscription
UPDATE subscriptions SET attributes = $2, confirmed = $3, token = $4 WHERE sub_id = $1;

-- name: delete_subscription
DELETE FROM subscriptions WHERE sub_id = $1;

-- name: lock_topic
SELECT next_seq, subs_version FROM topics WHERE topic_id = $1 FOR UPDATE;

-- name: take_topic_sequence
UPDATE topics SET next_seq = next_seq + 1 WHERE topic_id = $1 RETURNING next_seq - 1;

-- name: find_topic_dedup
SELECT message_id, seq, expires_ms FROM topic_dedup WHERE topic_id = $1 AND dedup_id = $2;

-- name: upsert_topic_dedup
INSERT INTO topic_dedup (topic_id, dedup_id, message_id, seq, expires_ms) VALUES ($1, $2, $3, $4, $5)
ON CONFLICT (topic_id, dedup_id)
DO UPDATE SET message_id = EXCLUDED.message_id, seq = EXCLUDED.seq, expires_ms = EXCLUDED.expires_ms;

-- name: insert_counts
INSERT INTO sns_counts (topic_arn, sub_arn, bucket_ms, published, no_subscribers, unrouted_filtered,
                        unrouted_failed, delivered, filtered_out, failed)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10);

-- name: topic_counts
SELECT topic_arn, COALESCE(SUM(published), 0), COALESCE(SUM(no_subscribers), 0),
       COALESCE(SUM(unrouted_filtered), 0), COALESCE(SUM(unrouted_failed), 0)
FROM sns_counts WHERE sub_arn IS NULL GROUP BY topic_arn;

-- name: insert_archive
INSERT INTO archive (topic_id, topic_arn, message_id, published_ms, message, subject, structure, attrs, group_id,
                     dedup_id, seq, unrouted, expires_ms)
SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[], $4::bigint[], $5::text[], $6::text[], $7::text[],
                     $8::text[], $9::text[], $10::text[], $11::bigint[], $12::text[], $13::bigint[]);

-- name: subscription_counts
SELECT sub_arn, COALESCE(SUM(delivered), 0), COALESCE(SUM(filtered_out), 0), COALESCE(SUM(failed), 0)
FROM sns_counts WHERE sub_arn IS NOT NULL GROUP BY sub_arn;

-- name: insert_outbox
INSERT INTO outbox (sub_arn, endpoint, body, headers, next_attempt_ms, created_ms) VALUES ($1, $2, $3, $4, $5, $5);

-- name: claim_outbox
UPDATE outbox o SET next_attempt_ms = $2
FROM (SELECT id FROM outbox WHERE next_attempt_ms <= $1 ORDER BY id LIMIT $3 FOR UPDATE SKIP LOCKED) c
WHERE o.id = c.id
RETURNING o.id, o.sub_arn, o.endpoint, o.body, o.headers, o.attempts;

-- name: reschedule_outbox
UPDATE outbox SET attempts = attempts + 1, next_attempt_ms = $2 WHERE id = $1;

-- name: delete_outbox
DELETE FROM outbox WHERE id = $1;

-- name: insert_setting
INSERT INTO settings (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING;

-- name: setting
SELECT value FROM settings WHERE name = $1;

-- name: fold_counts
-- Exactly the rows this statement deleted are summed back in, so folding concurrently with
-- publishes (or on several nodes at once) neither loses nor doubles a count.
WITH gone AS (DELETE FROM sns_counts WHERE id IN (SELECT id FROM sns_counts ORDER BY id LIMIT $1)
              RETURNING topic_arn, sub_arn, bucket_ms, published, no_subscribers, unrouted_filtered,
                        unrouted_failed, delivered, filtered_out, failed)
INSERT INTO sns_counts (topic_arn, sub_arn, bucket_ms, published, no_subscribers, unrouted_filtered,
                        unrouted_failed, delivered, filtered_out, failed)
SELECT topic_arn, sub_arn, bucket_ms, SUM(published), SUM(no_subscribers), SUM(unrouted_filtered),
       SUM(unrouted_failed), SUM(delivered), SUM(filtered_out), SUM(failed)
FROM gone GROUP BY topic_arn, sub_arn, bucket_ms;

-- name: expire_archive
-- Expired archive rows, a batch at a time, never one a running replay still has to deliver.
DELETE FROM archive WHERE id IN (
    SELECT a.id FROM archive a WHERE a.expires_ms <= $1
      AND NOT EXISTS (SELECT 1 FROM replays r WHERE r.topic_id = a.topic_id AND r.status IN ('Pending', 'In progress')
                      AND a.id > r.cursor_id)
    ORDER BY a.expires_ms LIMIT $2);

-- name: archive_stats
SELECT topic_arn, COUNT(*),
       COALESCE(SUM(OCTET_LENGTH(message) + COALESCE(OCTET_LENGTH(attrs), 0) + COALESCE(OCTET_LENGTH(subject), 0)), 0),
       MIN(published_ms), COUNT(*) FILTER (WHERE unrouted IS NOT NULL)
FROM archive GROUP BY topic_arn;

-- name: archive_start
SELECT MIN(published_ms) FROM archive WHERE topic_id = $1;

-- name: archive_page
-- The next archived messages a replay delivers, in archive (publish) order.
SELECT id, topic_arn, message_id, published_ms, message, subject, structure, attrs, group_id, dedup_id, seq, unrouted
FROM archive
WHERE topic_id = $1 AND id > $2 AND id <= $3 AND published_ms >= $4 AND published_ms <= $5
  AND ($6 = 0 OR unrouted IS NOT NULL)
ORDER BY id LIMIT $7;

-- name: archive_list
SELECT id, topic_arn, message_id, published_ms, message, subject, structure, attrs, group_id, dedup_id, seq, unrouted
FROM archive
WHERE ($1 = '' OR topic_arn = $2) AND published_ms >= $3 AND published_ms <= $4
  AND ($5 = 0 OR unrouted IS NOT NULL)
ORDER BY id LIMIT $6;

-- name: archive_window
-- What a replay of this window covers: messages, FIFO groups, first and last publish time.
SELECT COUNT(*), COUNT(DISTINCT group_id), MIN(published_ms), MAX(published_ms), COALESCE(MAX(id), 0)
FROM archive
WHERE topic_id = $1 AND id <= $2 AND published_ms >= $3 AND published_ms <= $4
  AND ($5 = 0 OR unrouted IS NOT NULL);

-- name: max_archive_id
SELECT COALESCE(MAX(id), 0) FROM archive;

-- name: supersede_replays
UPDATE replays SET status = 'Superseded', updated_ms = $2
WHERE sub_arn = $1 AND status IN ('Pending', 'In progress');

-- name: insert_replay
INSERT INTO replays (replay_id, topic_id, topic_arn, sub_arn, queue_target, start_ms, end_ms, selection, rate, status, requested_by, origin, created_ms, updated_ms, cursor_id, last_id, total, delivered, skipped, failure)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20);

-- name: replay_by_id
SELECT replay_id, topic_id, topic_arn, sub_arn, queue_target, start_ms, end_ms, selection, rate, status, requested_by, origin, created_ms, updated_ms, cursor_id, last_id, total, delivered, skipped, failure FROM replays WHERE replay_id = $1;

-- name: replays_of
SELECT replay_id, topic_id, topic_arn, sub_arn, queue_target, start_ms, end_ms, selection, rate, status, requested_by, origin, created_ms, updated_ms, cursor_id, last_id, total, delivered, skipped, failure FROM replays WHERE ($1 = '' OR sub_arn = $2 OR topic_arn = $3)
ORDER BY created_ms DESC LIMIT $4;

-- name: claimable_replay
SELECT replay_id, topic_id, topic_arn, sub_arn, queue_target, start_ms, end_ms, selection, rate, status, requested_by, origin, created_ms, updated_ms, cursor_id, last_id, total, delivered, skipped, failure FROM replays
WHERE status IN ('Pending', 'In progress') AND lease_until_ms <= $1 AND created_ms <= $2
ORDER BY created_ms LIMIT 1;

-- name: lease_replay
UPDATE replays SET lease_until_ms = $1, status = 'In progress', last_id = $2, total = $3,
                   updated_ms = $4
WHERE replay_id = $5 AND status IN ('Pending', 'In progress') AND lease_until_ms <= $4;

-- name: advance_replay
UPDATE replays SET cursor_id = $1, delivered = delivered + $2, skipped = skipped + $3,
                   lease_until_ms = $4, updated_ms = $5
WHERE replay_id = $6 AND status = 'In progress' AND lease_until_ms >= $5;

-- name: end_replay
UPDATE replays SET status = $1, failure = $2, updated_ms = $3, lease_until_ms = 0
WHERE replay_id = $4 AND status IN ('Pending', 'In progress');

-- name: log_subscription
INSERT INTO subscription_log (topic_arn, sub_arn, protocol, endpoint, event, at_ms) VALUES ($1, $2, $3, $4, $5, $6);

-- name: audit_counts
SELECT topic_arn, sub_arn, SUM(published), SUM(no_subscribers), SUM(unrouted_filtered), SUM(unrouted_failed),
       SUM(delivered), SUM(filtered_out), SUM(failed)
FROM sns_counts WHERE bucket_ms >= $1 AND bucket_ms < $2 GROUP BY topic_arn, sub_arn;

-- name: subscription_events
SELECT topic_arn, sub_arn, protocol, endpoint, event, at_ms FROM subscription_log
WHERE at_ms >= $1 AND at_ms < $2 ORDER BY at_ms;

-- name: insert_queue_stats
INSERT INTO queue_stats (queue_arn, bucket_ms, sent, received, deleted) VALUES ($1, $2, $3, $4, $5);

-- name: queue_stats
SELECT queue_arn, SUM(sent), SUM(received), SUM(deleted) FROM queue_stats GROUP BY queue_arn;

-- name: every_topic
SELECT topic_id, account, region, name, attributes, tags, created_ms FROM topics ORDER BY account, region, name;

-- name: every_queue
SELECT queue_id, account, region, name, attributes, tags, created_ms, modified_ms FROM queues
ORDER BY account, region, name;

-- name: every_subscription
SELECT sub_id, topic_arn, owner, protocol, endpoint, attributes, confirmed, token FROM subscriptions
ORDER BY topic_arn, sub_id;

-- name: archived_since
-- By topic id, so the count walks archive_by_time rather than the whole archive.
SELECT COUNT(*) FROM archive
WHERE topic_id = (SELECT topic_id FROM topics WHERE account = $1 AND region = $2 AND name = $3)
  AND published_ms > $4 AND published_ms < $5;

-- name: release_replay
UPDATE replays SET lease_until_ms = 0 WHERE replay_id = $1;
