-- FIFO receives serve a group when its first message is visible (issue #13, "Fidelity"), so
-- they look for a group's first message by id. An index on (queue_id, group_id) keeps each
-- group's rows in id (rowid) order: finding whether a message is its group's first, and
-- reading a group from its head, is one index probe instead of a walk of the group.
DROP INDEX messages_by_group;
CREATE INDEX messages_by_group ON messages (queue_id, group_id) WHERE group_id IS NOT NULL;

-- A FIFO queue deduplicates in the DeduplicationScope it was created with: AWS accepts a later
-- SetQueueAttributes DeduplicationScope and reports the new value, but keeps deduplicating as
-- before (observed; LocalStack's AWS-validated high-throughput tests, localstack#10324 and
-- #10887). dedup_scope keeps the value from CreateQueue; existing queues keep the one they have.
ALTER TABLE queues ADD COLUMN dedup_scope TEXT;
UPDATE queues SET dedup_scope = json_extract(attributes, '$.DeduplicationScope');
