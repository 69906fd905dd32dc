-- name: insert_message
INSERT INTO messages (queue_id, message_id, seq, group_id, dedup_id, body, md5_body, attrs, md5_attrs,
                      sys_attrs, md5_sys_attrs, sender_id, sent_ms, visible_ms, dlq_source_arn)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?);

-- name: insert_message_if_alive
-- A send: the row goes in only if its queue still exists in this transaction.
INSERT INTO messages (queue_id, message_id, seq, group_id, dedup_id, body, md5_body, attrs, md5_attrs,
                      sys_attrs, md5_sys_attrs, sender_id, sent_ms, visible_ms, dlq_source_arn)
SELECT ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ? WHERE EXISTS (SELECT 1 FROM queues WHERE queue_id = ?);

-- name: find_dedup
SELECT message_id, seq, expires_ms FROM dedup WHERE queue_id = ? AND scope = ? AND dedup_id = ?;

-- name: upsert_dedup
INSERT OR REPLACE INTO dedup (queue_id, scope, dedup_id, message_id, seq, expires_ms) VALUES (?, ?, ?, ?, ?, ?);

-- name: take_sequence
UPDATE queues SET next_seq = next_seq + ? WHERE queue_id = ? RETURNING next_seq - ?;

-- name: standard_candidates
SELECT id, message_id, seq, group_id, dedup_id, body, md5_body, attrs, md5_attrs, sys_attrs, md5_sys_attrs,
       sender_id, sent_ms, visible_ms, receive_count, first_receive_ms, dlq_source_arn, token
FROM messages WHERE queue_id = ? AND visible_ms <= ? ORDER BY visible_ms, id LIMIT ?;

-- name: fifo_next_group
-- The group a FIFO receive serves next (postroom.core.delivery_rules): among groups whose
-- first message is visible, the one whose first message became visible earliest. Walking
-- messages_by_visibility in (visible_ms, id) order stops at the first message that is its
-- group's first (one probe of messages_by_group, which is in id order within a group).
SELECT m.group_id FROM messages m INDEXED BY messages_by_visibility
WHERE m.queue_id = ? AND m.visible_ms <= ? AND m.group_id NOT IN (SELECT value FROM json_each(?))
  AND NOT EXISTS (SELECT 1 FROM messages i
                  WHERE i.queue_id = m.queue_id AND i.group_id = m.group_id AND i.id < m.id)
ORDER BY m.visible_ms, m.id LIMIT 1;

-- name: fifo_group_head
SELECT id, message_id, seq, group_id, dedup_id, body, md5_body, attrs, md5_attrs, sys_attrs, md5_sys_attrs,
       sender_id, sent_ms, visible_ms, receive_count, first_receive_ms, dlq_source_arn, token
FROM messages WHERE queue_id = ? AND group_id = ? ORDER BY id LIMIT ?;

-- name: mark_received
UPDATE messages SET visible_ms = ?, receive_count = receive_count + 1,
       first_receive_ms = COALESCE(first_receive_ms, ?), token = ?
WHERE id = ?;

-- name: next_visible
SELECT MIN(visible_ms) FROM messages WHERE queue_id = ? AND visible_ms > ?;

-- name: message_exists
-- The message a handle names is still in the queue (the MessageId guards against a reused row id).
SELECT 1 FROM messages WHERE id = ? AND queue_id = ? AND (?3 IS NULL OR message_id = ?3);

-- name: delete_by_handle
-- FIFO: only the handle's own receive, and only while it is in flight.
DELETE FROM messages WHERE id = ? AND queue_id = ? AND token = ? AND visible_ms > ?;

-- name: delete_by_message
-- Standard: any handle of the message deletes it; a handle of the older format (no
-- MessageId) only with its own receive's token.
DELETE FROM messages WHERE id = ?1 AND queue_id = ?2 AND (message_id = ?3 OR (?3 IS NULL AND token = ?4));

-- name: delete_message
DELETE FROM messages WHERE id = ?;

-- name: set_visibility
-- Only the receive the handle came from: a stale handle changes nothing.
UPDATE messages SET visible_ms = ? WHERE id = ? AND queue_id = ? AND token = ? AND receive_count > 0
                                     AND visible_ms > ?;

-- name: purge_messages
DELETE FROM messages WHERE queue_id = ?;

-- name: purge_dedup
-- PurgeQueue forgets the queue's deduplication ids too (observed on AWS: LocalStack's
-- AWS-validated test_purge_queue_clears_fifo_deduplication_cache).
DELETE FROM dedup WHERE queue_id = ?;

-- name: count_messages
SELECT COALESCE(SUM(visible_ms <= ?), 0),
       COALESCE(SUM(visible_ms > ? AND receive_count > 0), 0),
       COALESCE(SUM(visible_ms > ? AND receive_count = 0), 0),
       MIN(sent_ms)
FROM messages WHERE queue_id = ?;

-- name: expire_messages
DELETE FROM messages WHERE queue_id = ? AND sent_ms < ?;

-- name: expire_dedup
DELETE FROM dedup WHERE expires_ms <= ?;

-- name: expire_attempts
DELETE FROM receive_attempts WHERE expires_ms <= ?;

-- name: find_attempt
SELECT handles FROM receive_attempts WHERE queue_id = ? AND attempt_id = ? AND expires_ms > ?;

-- name: save_attempt
INSERT OR REPLACE INTO receive_attempts (queue_id, attempt_id, handles, expires_ms) VALUES (?, ?, ?, ?);

-- name: message_by_row
SELECT id, message_id, seq, group_id, dedup_id, body, md5_body, attrs, md5_attrs, sys_attrs, md5_sys_attrs,
       sender_id, sent_ms, visible_ms, receive_count, first_receive_ms, dlq_source_arn, token
FROM messages WHERE id = ? AND queue_id = ?;

-- name: insert_queue
-- dedup_scope: the DeduplicationScope the queue is created with, which it keeps (migration 0008).
INSERT INTO queues (account, region, name, attributes, tags, created_ms, modified_ms, dedup_scope)
VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, json_extract(?4, '$.DeduplicationScope')) RETURNING queue_id;

-- name: created_dedup_scope
SELECT dedup_scope FROM queues WHERE queue_id = ?;

-- name: queue_by_key
SELECT queue_id, account, region, name, attributes, tags, created_ms, modified_ms
FROM queues WHERE account = ? AND region = ? AND name = ?;

-- name: queue_by_id
SELECT queue_id, account, region, name, attributes, tags, created_ms, modified_ms
FROM queues WHERE queue_id = ?;

-- name: queue_alive
SELECT 1 FROM queues WHERE queue_id = ?;

-- name: retention_periods
SELECT queue_id, attributes FROM queues;

-- name: all_queues
SELECT queue_id, account, region, name, attributes, tags, created_ms, modified_ms FROM queues;

-- name: update_queue
UPDATE queues SET attributes = ?, tags = ?, modified_ms = ? WHERE queue_id = ?;

-- name: delete_queue
DELETE FROM queues WHERE queue_id = ?;

-- name: delete_queue_messages
DELETE FROM messages WHERE queue_id = ?;

-- name: delete_queue_dedup
DELETE FROM dedup WHERE queue_id = ?;

-- name: delete_queue_attempts
DELETE FROM receive_attempts WHERE queue_id = ?;

-- name: remember_deleted
INSERT OR REPLACE INTO deleted_queues (account, region, name, deleted_ms) VALUES (?, ?, ?, ?);

-- name: deleted_at
SELECT deleted_ms FROM deleted_queues WHERE account = ? AND region = ? AND name = ?;

-- name: last_purge
SELECT last_purge_ms FROM queues WHERE queue_id = ?;

-- name: set_last_purge
UPDATE queues SET last_purge_ms = ? WHERE queue_id = ?;

-- name: insert_move_task
INSERT INTO move_tasks (task_handle, source_arn, destination_arn, max_per_second, status, started_ms,
                        moved, to_move, last_row)
VALUES (?, ?, ?, ?, ?, ?, 0, ?, ?);

-- name: running_move_task
SELECT task_handle FROM move_tasks WHERE source_arn = ? AND status = 'RUNNING';

-- name: move_tasks_by_source
SELECT task_handle, source_arn, destination_arn, max_per_second, status, started_ms, moved, to_move,
       failure_reason
FROM move_tasks WHERE source_arn = ? ORDER BY started_ms DESC LIMIT ?;

-- name: move_task
SELECT task_handle, source_arn, destination_arn, max_per_second, status, started_ms, moved, to_move,
       failure_reason, last_row
FROM move_tasks WHERE task_handle = ?;

-- name: update_move_task
UPDATE move_tasks SET status = ?, moved = ?, failure_reason = ? WHERE task_handle = ?;

-- name: move_candidates
SELECT id, message_id, seq, group_id, dedup_id, body, md5_body, attrs, md5_attrs, sys_attrs, md5_sys_attrs,
       sender_id, sent_ms, visible_ms, receive_count, first_receive_ms, dlq_source_arn, token
FROM messages WHERE queue_id = ? AND id <= ? ORDER BY id LIMIT ?;

-- name: max_row
SELECT COALESCE(MAX(id), 0), COUNT(*) FROM messages WHERE queue_id = ?;

-- name: running_move_tasks
SELECT task_handle, source_arn, destination_arn, max_per_second, status, started_ms, moved, to_move,
       failure_reason
FROM move_tasks WHERE status = 'RUNNING' ORDER BY started_ms;

-- name: insert_topic
INSERT INTO topics (account, region, name, attributes, tags, created_ms) VALUES (?, ?, ?, ?, ?, ?) RETURNING topic_id;

-- name: topic_by_key
SELECT topic_id, account, region, name, attributes, tags, created_ms FROM topics
WHERE account = ? AND region = ? AND name = ?;

-- name: topic_by_id
SELECT topic_id, account, region, name, attributes, tags, created_ms FROM topics WHERE topic_id = ?;

-- name: topic_versions
SELECT subs_version, next_seq FROM topics WHERE topic_id = ?;

-- name: bump_subscriptions
UPDATE topics SET subs_version = subs_version + 1 WHERE topic_id = ?;

-- name: subscriptions_of_topic
SELECT sub_id, topic_arn, owner, protocol, endpoint, attributes, confirmed, token FROM subscriptions
WHERE topic_id = ? ORDER BY created_ms, sub_id;

-- name: subscription_by_id
SELECT s.sub_id, s.topic_id, s.topic_arn, s.owner, s.protocol, s.endpoint, s.attributes, s.confirmed, s.token
FROM subscriptions s WHERE s.sub_id = ?;

-- name: subscription_by_token
SELECT sub_id, topic_arn, owner, protocol, endpoint, attributes, confirmed, token FROM subscriptions
WHERE topic_id = ? AND token = ?;

-- name: all_topics
SELECT topic_id, account, region, name, attributes, tags, created_ms, subs_version FROM topics;

-- name: update_topic
UPDATE topics SET attributes = ?, tags = ? WHERE topic_id = ?;

-- name: delete_topic
DELETE FROM topics WHERE topic_id = ?;

-- name: delete_topic_subscriptions
DELETE FROM subscriptions WHERE topic_id = ?;

-- name: delete_topic_dedup
DELETE FROM topic_dedup WHERE topic_id = ?;

-- name: all_subscriptions
SELECT sub_id, topic_id, topic_arn, owner, protocol, endpoint, attributes, confirmed, token FROM subscriptions
ORDER BY created_ms, sub_id;

-- name: subscription_by_endpoint
SELECT sub_id, topic_arn, owner, protocol, endpoint, attributes, confirmed, token FROM subscriptions
WHERE topic_id = ? AND protocol = ? AND endpoint = ?;

-- name: insert_subscription
INSERT INTO subscriptions (sub_id, topic_id, topic_arn, owner, protocol, endpoint, attributes, confirmed, token,
                           created_ms)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?);

-- name: update_subscription
UPDATE subscriptions SET attributes = ?, confirmed = ?, token = ? WHERE sub_id = ?;

-- name: delete_subscription
DELETE FROM subscriptions WHERE sub_id = ?;

-- name: find_topic_dedup
SELECT message_id, seq, expires_ms FROM topic_dedup WHERE topic_id = ? AND dedup_id = ?;

-- name: upsert_topic_dedup
INSERT OR REPLACE INTO topic_dedup (topic_id, dedup_id, message_id, seq, expires_ms) VALUES (?, ?, ?, ?, ?);

-- name: take_topic_sequence
UPDATE topics SET next_seq = next_seq + 1 WHERE topic_id = ? RETURNING next_seq - 1;

-- name: insert_counts
INSERT INTO sns_counts (topic_arn, sub_arn, bucket_ms, published, no_subscribers, unrouted_filtered,
                        unrouted_failed, delivered, filtered_out, failed)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?);

-- name: topic_counts
SELECT topic_arn, COALESCE(SUM(published), 0), COALESCE(SUM(no_subscribers), 0),
       COALESCE(SUM(unrouted_filtered), 0), COALESCE(SUM(unrouted_failed), 0)
FROM sns_counts WHERE sub_arn IS NULL GROUP BY topic_arn;

-- name: insert_archive
INSERT INTO archive (topic_id, topic_arn, message_id, published_ms, message, subject, structure, attrs, group_id,
                     dedup_id, seq, unrouted, expires_ms)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?);

-- name: subscription_counts
SELECT sub_arn, COALESCE(SUM(delivered), 0), COALESCE(SUM(filtered_out), 0), COALESCE(SUM(failed), 0)
FROM sns_counts WHERE sub_arn IS NOT NULL GROUP BY sub_arn;

-- name: insert_outbox
INSERT INTO outbox (sub_arn, endpoint, body, headers, next_attempt_ms, created_ms) VALUES (?, ?, ?, ?, ?, ?);

-- name: due_outbox
SELECT id, sub_arn, endpoint, body, headers, attempts FROM outbox WHERE next_attempt_ms <= ? ORDER BY id LIMIT ?;

-- name: claim_outbox
UPDATE outbox SET next_attempt_ms = ? WHERE id = ?;

-- name: reschedule_outbox
UPDATE outbox SET attempts = attempts + 1, next_attempt_ms = ? WHERE id = ?;

-- name: delete_outbox
DELETE FROM outbox WHERE id = ?;

-- name: insert_setting
INSERT OR IGNORE INTO settings (name, value) VALUES (?, ?);

-- name: setting
SELECT value FROM settings WHERE name = ?;

-- name: max_count_id
SELECT COALESCE(MAX(id), 0), COUNT(*) FROM sns_counts;

-- name: fold_counts
INSERT INTO sns_counts (topic_arn, sub_arn, bucket_ms, published, no_subscribers, unrouted_filtered,
                        unrouted_failed, delivered, filtered_out, failed)
SELECT topic_arn, sub_arn, bucket_ms, SUM(published), SUM(no_subscribers), SUM(unrouted_filtered),
       SUM(unrouted_failed), SUM(delivered), SUM(filtered_out), SUM(failed)
FROM sns_counts WHERE id <= ? GROUP BY topic_arn, sub_arn, bucket_ms;

-- name: drop_folded_counts
DELETE FROM sns_counts WHERE id <= ?;

-- name: expire_archive
-- Expired archive rows, a batch at a time, never one a running replay still has to deliver.
DELETE FROM archive WHERE id IN (
    SELECT a.id FROM archive a WHERE a.expires_ms <= ?
      AND NOT EXISTS (SELECT 1 FROM replays r WHERE r.topic_id = a.topic_id AND r.status IN ('Pending', 'In progress')
                      AND a.id > r.cursor_id)
    ORDER BY a.expires_ms LIMIT ?);

-- name: archive_stats
SELECT topic_arn, COUNT(*),
       COALESCE(SUM(LENGTH(CAST(message AS BLOB)) + COALESCE(LENGTH(CAST(attrs AS BLOB)), 0)
                    + COALESCE(LENGTH(CAST(subject AS BLOB)), 0)), 0),
       MIN(published_ms), COALESCE(SUM(unrouted IS NOT NULL), 0)
FROM archive GROUP BY topic_arn;

-- name: archive_start
SELECT MIN(published_ms) FROM archive WHERE topic_id = ?;

-- name: archive_page
-- The next archived messages a replay delivers, in archive (publish) order.
SELECT id, topic_arn, message_id, published_ms, message, subject, structure, attrs, group_id, dedup_id, seq, unrouted
FROM archive
WHERE topic_id = ? AND id > ? AND id <= ? AND published_ms >= ? AND published_ms <= ?
  AND (? = 0 OR unrouted IS NOT NULL)
ORDER BY id LIMIT ?;

-- name: archive_list
SELECT id, topic_arn, message_id, published_ms, message, subject, structure, attrs, group_id, dedup_id, seq, unrouted
FROM archive
WHERE (? = '' OR topic_arn = ?) AND published_ms >= ? AND published_ms <= ?
  AND (? = 0 OR unrouted IS NOT NULL)
ORDER BY id LIMIT ?;

-- name: archive_window
-- What a replay of this window covers: messages, FIFO groups, first and last publish time.
SELECT COUNT(*), COUNT(DISTINCT group_id), MIN(published_ms), MAX(published_ms), COALESCE(MAX(id), 0)
FROM archive
WHERE topic_id = ? AND id <= ? AND published_ms >= ? AND published_ms <= ?
  AND (? = 0 OR unrouted IS NOT NULL);

-- name: max_archive_id
SELECT COALESCE(MAX(id), 0) FROM archive;

-- name: supersede_replays
UPDATE replays SET status = 'Superseded', updated_ms = ?
WHERE sub_arn = ? AND status IN ('Pending', 'In progress');

-- name: insert_replay
INSERT INTO replays (replay_id, topic_id, topic_arn, sub_arn, queue_target, start_ms, end_ms, selection, rate, status, requested_by, origin, created_ms, updated_ms, cursor_id, last_id, total, delivered, skipped, failure)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?);

-- name: replay_by_id
SELECT replay_id, topic_id, topic_arn, sub_arn, queue_target, start_ms, end_ms, selection, rate, status, requested_by, origin, created_ms, updated_ms, cursor_id, last_id, total, delivered, skipped, failure FROM replays WHERE replay_id = ?;

-- name: replays_of
SELECT replay_id, topic_id, topic_arn, sub_arn, queue_target, start_ms, end_ms, selection, rate, status, requested_by, origin, created_ms, updated_ms, cursor_id, last_id, total, delivered, skipped, failure FROM replays WHERE (? = '' OR sub_arn = ? OR topic_arn = ?)
ORDER BY created_ms DESC LIMIT ?;

-- name: claimable_replay
SELECT replay_id, topic_id, topic_arn, sub_arn, queue_target, start_ms, end_ms, selection, rate, status, requested_by, origin, created_ms, updated_ms, cursor_id, last_id, total, delivered, skipped, failure FROM replays
WHERE status IN ('Pending', 'In progress') AND lease_until_ms <= ? AND created_ms <= ?
ORDER BY created_ms LIMIT 1;

-- name: lease_replay
UPDATE replays SET lease_until_ms = ?, status = 'In progress', last_id = ?, total = ?,
                   updated_ms = ?
WHERE replay_id = ? AND status IN ('Pending', 'In progress') AND lease_until_ms <= ?;

-- name: advance_replay
UPDATE replays SET cursor_id = ?, delivered = delivered + ?, skipped = skipped + ?,
                   lease_until_ms = ?, updated_ms = ?
WHERE replay_id = ? AND status = 'In progress' AND lease_until_ms >= ?;

-- name: end_replay
UPDATE replays SET status = ?, failure = ?, updated_ms = ?, lease_until_ms = 0
WHERE replay_id = ? AND status IN ('Pending', 'In progress');

-- name: log_subscription
INSERT INTO subscription_log (topic_arn, sub_arn, protocol, endpoint, event, at_ms) VALUES (?, ?, ?, ?, ?, ?);

-- name: audit_counts
SELECT topic_arn, sub_arn, SUM(published), SUM(no_subscribers), SUM(unrouted_filtered), SUM(unrouted_failed),
       SUM(delivered), SUM(filtered_out), SUM(failed)
FROM sns_counts WHERE bucket_ms >= ? AND bucket_ms < ? GROUP BY topic_arn, sub_arn;

-- name: subscription_events
SELECT topic_arn, sub_arn, protocol, endpoint, event, at_ms FROM subscription_log
WHERE at_ms >= ? AND at_ms < ? ORDER BY at_ms;

-- name: insert_queue_stats
INSERT INTO queue_stats (queue_arn, bucket_ms, sent, received, deleted) VALUES (?, ?, ?, ?, ?);

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
WHERE topic_id = (SELECT topic_id FROM topics WHERE account = ? AND region = ? AND name = ?)
  AND published_ms > ? AND published_ms < ?;

-- name: release_replay
UPDATE replays SET lease_until_ms = 0 WHERE replay_id = ?;
