-- Sceau core schema (PostgreSQL). Times are fixed-width UTC text (store.FormatTime).

-- AUD-2, AUD-7: the journal. Append-only: a trigger refuses UPDATE and DELETE
-- (the access issue also grants the service role INSERT and SELECT only).
CREATE TABLE audit_events (
    seq       BIGINT PRIMARY KEY,
    at        TEXT   NOT NULL,
    actor     TEXT   NOT NULL,
    role      TEXT   NOT NULL,
    action    TEXT   NOT NULL,
    object    TEXT   NOT NULL,
    details   TEXT   NOT NULL,
    prev_hash BYTEA  NOT NULL,
    hash      BYTEA  NOT NULL
);
CREATE FUNCTION audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_events is append-only';
END;
$$;
CREATE TRIGGER audit_events_no_change BEFORE UPDATE OR DELETE ON audit_events
    FOR EACH ROW EXECUTE FUNCTION audit_events_append_only();
CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events
    FOR EACH STATEMENT EXECUTE FUNCTION audit_events_append_only();

CREATE TABLE audit_head (
    id   INTEGER PRIMARY KEY CHECK (id = 1),
    seq  BIGINT NOT NULL,
    hash BYTEA  NOT NULL
);
INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, decode('0000000000000000000000000000000000000000000000000000000000000000', 'hex'));

CREATE TABLE cas (
    id            TEXT PRIMARY KEY,
    parent_id     TEXT REFERENCES cas(id),
    subject       TEXT NOT NULL,
    key_ref       TEXT NOT NULL,
    cert_der      BYTEA NOT NULL,
    not_before    TEXT NOT NULL,
    not_after     TEXT NOT NULL,
    ocsp_key_ref  TEXT,
    ocsp_cert_der BYTEA,
    created_at    TEXT NOT NULL
);

CREATE TABLE certificates (
    serial            TEXT PRIMARY KEY,
    ca_id             TEXT NOT NULL REFERENCES cas(id),
    profile           TEXT NOT NULL,
    subject           TEXT NOT NULL,
    status            TEXT NOT NULL CHECK (status IN ('reserved', 'issued')),
    tbs_der           BYTEA NOT NULL,
    cert_der          BYTEA,
    not_before        TEXT NOT NULL,
    not_after         TEXT NOT NULL,
    reserved_at       TEXT NOT NULL,
    issued_at         TEXT,
    revoked_at        TEXT,
    revocation_reason INTEGER,
    ocsp_response     BYTEA,
    ocsp_next_update  TEXT
);
CREATE INDEX certificates_ca_revoked ON certificates (ca_id, revoked_at);
CREATE INDEX certificates_ocsp_next ON certificates (ocsp_next_update);
CREATE INDEX certificates_status ON certificates (status, reserved_at);

CREATE TABLE crl_numbers (
    ca_id       TEXT PRIMARY KEY REFERENCES cas(id),
    last_number BIGINT NOT NULL
);
CREATE TABLE crls (
    ca_id       TEXT    NOT NULL REFERENCES cas(id),
    shard       INTEGER NOT NULL,
    number      BIGINT  NOT NULL,
    this_update TEXT    NOT NULL,
    next_update TEXT    NOT NULL,
    entries     INTEGER NOT NULL,
    der         BYTEA,
    PRIMARY KEY (ca_id, number, shard)
);
CREATE INDEX crls_latest ON crls (ca_id, shard, number);
