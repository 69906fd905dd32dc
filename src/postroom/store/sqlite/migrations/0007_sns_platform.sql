-- Amazon SNS mobile push, SMS, email and data protection (issue #13).
-- platform_apps / platform_endpoints: CreatePlatformApplication and CreatePlatformEndpoint; an
-- application's credentials are kept (PlatformCredential, PlatformPrincipal) but never shown.
CREATE TABLE platform_apps (
    arn          TEXT    PRIMARY KEY,
    account      TEXT    NOT NULL,
    region       TEXT    NOT NULL,
    name         TEXT    NOT NULL,
    platform     TEXT    NOT NULL,
    attributes   TEXT    NOT NULL,
    credentials  TEXT    NOT NULL,
    created_ms   INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX platform_apps_by_owner ON platform_apps (account, region, arn);

CREATE TABLE platform_endpoints (
    arn          TEXT    PRIMARY KEY,
    app_arn      TEXT    NOT NULL,
    token        TEXT    NOT NULL,
    attributes   TEXT    NOT NULL,
    created_ms   INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX platform_endpoints_by_app ON platform_endpoints (app_arn, token);

-- SetSMSAttributes (one row per account and region), opted-out numbers and the SMS sandbox's
-- destination numbers (kind: opted-out | sandbox).
CREATE TABLE sms_settings (
    account      TEXT    NOT NULL,
    region       TEXT    NOT NULL,
    attributes   TEXT    NOT NULL,
    PRIMARY KEY (account, region)
) WITHOUT ROWID;

CREATE TABLE sms_numbers (
    account      TEXT    NOT NULL,
    region       TEXT    NOT NULL,
    kind         TEXT    NOT NULL,
    phone        TEXT    NOT NULL,
    status       TEXT    NOT NULL,
    secret       TEXT,
    created_ms   INTEGER NOT NULL,
    PRIMARY KEY (account, region, kind, phone)
) WITHOUT ROWID;

-- PutDataProtectionPolicy, by topic id: a topic re-created under the same name starts without one.
CREATE TABLE data_protection (
    topic_id     INTEGER PRIMARY KEY,
    policy       TEXT    NOT NULL
);

-- What SMS, email and mobile push would have sent (kind: sms | email | push), newest last;
-- each kind keeps its last 1,000 entries.
CREATE TABLE notification_outbox (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    kind         TEXT    NOT NULL,
    destination  TEXT    NOT NULL,
    doc          TEXT    NOT NULL,
    created_ms   INTEGER NOT NULL
);
CREATE INDEX notification_outbox_by_kind ON notification_outbox (kind, id);
