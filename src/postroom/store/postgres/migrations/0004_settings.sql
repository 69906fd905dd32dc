-- Values every node shares, written once by the first node (e.g. the SNS signing key and
-- certificate, so that all nodes sign with one key and serve one certificate).
CREATE TABLE settings (
    name   TEXT PRIMARY KEY,
    value  TEXT NOT NULL
);
