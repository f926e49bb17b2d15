-- Sceau core schema (SQLite). Times are fixed-width UTC text (store.FormatTime).

-- AUD-2, AUD-7: the journal. Append-only: triggers refuse UPDATE and DELETE.
CREATE TABLE audit_events (
    seq       INTEGER PRIMARY KEY,
    at        TEXT    NOT NULL,
    actor     TEXT    NOT NULL,
    role      TEXT    NOT NULL,
    action    TEXT    NOT NULL,
    object    TEXT    NOT NULL,
    details   TEXT    NOT NULL,
    prev_hash BLOB    NOT NULL,
    hash      BLOB    NOT NULL
);
CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events
BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END;
CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events
BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END;

-- The chain head, one row; updating it serializes appenders on every engine.
CREATE TABLE audit_head (
    id   INTEGER PRIMARY KEY CHECK (id = 1),
    seq  INTEGER NOT NULL,
    hash BLOB    NOT NULL
);
INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, X'0000000000000000000000000000000000000000000000000000000000000000');

-- Certification authorities of the hierarchy (CA-1).
CREATE TABLE cas (
    id            TEXT PRIMARY KEY,
    parent_id     TEXT REFERENCES cas(id),
    subject       TEXT NOT NULL,
    key_ref       TEXT NOT NULL,
    cert_der      BLOB NOT NULL,
    not_before    TEXT NOT NULL,
    not_after     TEXT NOT NULL,
    ocsp_key_ref  TEXT,
    ocsp_cert_der BLOB,
    created_at    TEXT NOT NULL
);

-- Certificates. A row exists from reservation on (record before sign):
-- status 'reserved' holds the linted to-be-signed certificate, 'issued'
-- holds the signed one too. Serials are unique across the installation (CA-2).
CREATE TABLE certificates (
    serial            TEXT PRIMARY KEY,
    ca_id             TEXT NOT NULL REFERENCES cas(id),
    profile           TEXT NOT NULL,
    subject           TEXT NOT NULL,
    status            TEXT NOT NULL CHECK (status IN ('reserved', 'issued')),
    tbs_der           BLOB NOT NULL,
    cert_der          BLOB,
    not_before        TEXT NOT NULL,
    not_after         TEXT NOT NULL,
    reserved_at       TEXT NOT NULL,
    issued_at         TEXT,
    revoked_at        TEXT,
    revocation_reason INTEGER,
    ocsp_response     BLOB,
    ocsp_next_update  TEXT
);
CREATE INDEX certificates_ca_revoked ON certificates (ca_id, revoked_at);
CREATE INDEX certificates_ocsp_next ON certificates (ocsp_next_update);
CREATE INDEX certificates_status ON certificates (status, reserved_at);

-- CRLs (CA-3): numbers are monotonic per CA across all shards.
CREATE TABLE crl_numbers (
    ca_id       TEXT PRIMARY KEY REFERENCES cas(id),
    last_number INTEGER NOT NULL
);
CREATE TABLE crls (
    ca_id       TEXT    NOT NULL REFERENCES cas(id),
    shard       INTEGER NOT NULL,
    number      INTEGER NOT NULL,
    this_update TEXT    NOT NULL,
    next_update TEXT    NOT NULL,
    entries     INTEGER NOT NULL,
    der         BLOB,
    PRIMARY KEY (ca_id, number, shard)
);
CREATE INDEX crls_latest ON crls (ca_id, shard, number);
