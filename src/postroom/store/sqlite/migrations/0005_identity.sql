-- Resource identity is (account, region, name), as on AWS: regions are isolated, so the same
-- queue or topic name may exist once per region. Queue and topic ids are never reused
-- (AUTOINCREMENT): a request that resolved a queue before it was deleted can never reach a
-- new queue that took its id. Messages orphaned by the old DeleteQueue/SendMessage race are
-- dropped. topics.subs_version moves with every change to a topic's subscriptions; a publish
-- commits only against the version it was planned from.
DELETE FROM messages WHERE queue_id NOT IN (SELECT queue_id FROM queues);
DELETE FROM dedup WHERE queue_id NOT IN (SELECT queue_id FROM queues);
DELETE FROM receive_attempts WHERE queue_id NOT IN (SELECT queue_id FROM queues);

CREATE TABLE queues_v5 (
    queue_id      INTEGER PRIMARY KEY AUTOINCREMENT,
    account       TEXT    NOT NULL,
    region        TEXT    NOT NULL,
    name          TEXT    NOT NULL,
    attributes    TEXT    NOT NULL,
    tags          TEXT    NOT NULL,
    created_ms    INTEGER NOT NULL,
    modified_ms   INTEGER NOT NULL,
    next_seq      INTEGER NOT NULL DEFAULT 1,
    last_purge_ms INTEGER,
    UNIQUE (account, region, name)
);
INSERT INTO queues_v5 (queue_id, account, region, name, attributes, tags, created_ms, modified_ms, next_seq,
                       last_purge_ms)
SELECT queue_id, account, region, name, attributes, tags, created_ms, modified_ms, next_seq, last_purge_ms
FROM queues;
DROP TABLE queues;
ALTER TABLE queues_v5 RENAME TO queues;

CREATE TABLE deleted_queues_v5 (
    account     TEXT    NOT NULL,
    region      TEXT    NOT NULL,
    name        TEXT    NOT NULL,
    deleted_ms  INTEGER NOT NULL,
    PRIMARY KEY (account, region, name)
) WITHOUT ROWID;
INSERT INTO deleted_queues_v5 (account, region, name, deleted_ms)
SELECT account, 'us-east-1', name, deleted_ms FROM deleted_queues;
DROP TABLE deleted_queues;
ALTER TABLE deleted_queues_v5 RENAME TO deleted_queues;

CREATE TABLE topics_v5 (
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
INSERT INTO topics_v5 (topic_id, account, region, name, attributes, tags, created_ms, next_seq)
SELECT topic_id, account, region, name, attributes, tags, created_ms, next_seq FROM topics;
DROP TABLE topics;
ALTER TABLE topics_v5 RENAME TO topics;
