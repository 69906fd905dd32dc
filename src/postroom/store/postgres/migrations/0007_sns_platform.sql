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
