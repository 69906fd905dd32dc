-- Resource identity is (account, region, name), as on AWS: regions are isolated, so the same
-- queue or topic name may exist once per region. topics.subs_version moves with every change
-- to a topic's subscriptions; a publish commits only against the version it was planned from,
-- so no node can publish past a subscription another node has already confirmed.
ALTER TABLE queues DROP CONSTRAINT queues_account_name_key;
ALTER TABLE queues ADD UNIQUE (account, region, name);

ALTER TABLE deleted_queues ADD COLUMN region TEXT NOT NULL DEFAULT 'us-east-1';
ALTER TABLE deleted_queues ALTER COLUMN region DROP DEFAULT;
ALTER TABLE deleted_queues DROP CONSTRAINT deleted_queues_pkey;
ALTER TABLE deleted_queues ADD PRIMARY KEY (account, region, name);

ALTER TABLE topics DROP CONSTRAINT topics_account_name_key;
ALTER TABLE topics ADD UNIQUE (account, region, name);
ALTER TABLE topics ADD COLUMN subs_version BIGINT NOT NULL DEFAULT 0;
