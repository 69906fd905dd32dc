-- Values the whole bus shares, written once (e.g. the SNS signing key and certificate).
CREATE TABLE settings (
    name   TEXT PRIMARY KEY,
    value  TEXT NOT NULL
) WITHOUT ROWID;
