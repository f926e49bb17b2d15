-- The audit journal's proofs and life cycle (AUD-2, AUD-4, AUD-5, AUD-6, SYS-3).
-- Every table here but audit_cursors is append-only: triggers refuse UPDATE,
-- DELETE and TRUNCATE. The service role should also be granted no more than
-- docs/audit.md lists (INSERT and SELECT on the append-only tables).

CREATE TABLE audit_keys (
    key_id        TEXT   PRIMARY KEY,
    algorithm     TEXT   NOT NULL,
    public_key    BYTEA  NOT NULL,
    label         TEXT   NOT NULL,
    registered_at TEXT   NOT NULL,
    seq           BIGINT NOT NULL
);

CREATE TABLE audit_checkpoints (
    id               BIGINT PRIMARY KEY,
    seq              BIGINT NOT NULL,
    hash             BYTEA  NOT NULL,
    at               TEXT   NOT NULL,
    kind             TEXT   NOT NULL CHECK (kind IN ('periodic', 'archive', 'final')),
    archived_through BIGINT NOT NULL,
    key_id           TEXT   NOT NULL,
    prev_digest      BYTEA  NOT NULL,
    signature        BYTEA  NOT NULL
);
CREATE INDEX audit_checkpoints_archive ON audit_checkpoints (archived_through) WHERE kind = 'archive';

CREATE TABLE audit_archive (
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

CREATE TABLE audit_alerts (
    seq     BIGINT PRIMARY KEY,
    at      TEXT   NOT NULL,
    rule    TEXT   NOT NULL,
    message TEXT   NOT NULL,
    details TEXT   NOT NULL
);

CREATE TABLE audit_config_versions (
    version  BIGINT PRIMARY KEY,
    at       TEXT   NOT NULL,
    sha256   TEXT   NOT NULL,
    snapshot TEXT   NOT NULL
);

CREATE TABLE audit_cursors (
    name       TEXT   PRIMARY KEY,
    seq        BIGINT NOT NULL,
    updated_at TEXT   NOT NULL
);

CREATE FUNCTION audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only', TG_TABLE_NAME;
END;
$$;
CREATE TRIGGER audit_keys_no_change BEFORE UPDATE OR DELETE ON audit_keys
    FOR EACH ROW EXECUTE FUNCTION audit_append_only();
CREATE TRIGGER audit_keys_no_truncate BEFORE TRUNCATE ON audit_keys
    FOR EACH STATEMENT EXECUTE FUNCTION audit_append_only();
CREATE TRIGGER audit_checkpoints_no_change BEFORE UPDATE OR DELETE ON audit_checkpoints
    FOR EACH ROW EXECUTE FUNCTION audit_append_only();
CREATE TRIGGER audit_checkpoints_no_truncate BEFORE TRUNCATE ON audit_checkpoints
    FOR EACH STATEMENT EXECUTE FUNCTION audit_append_only();
CREATE TRIGGER audit_archive_no_change BEFORE UPDATE OR DELETE ON audit_archive
    FOR EACH ROW EXECUTE FUNCTION audit_append_only();
CREATE TRIGGER audit_archive_no_truncate BEFORE TRUNCATE ON audit_archive
    FOR EACH STATEMENT EXECUTE FUNCTION audit_append_only();
CREATE TRIGGER audit_alerts_no_change BEFORE UPDATE OR DELETE ON audit_alerts
    FOR EACH ROW EXECUTE FUNCTION audit_append_only();
CREATE TRIGGER audit_alerts_no_truncate BEFORE TRUNCATE ON audit_alerts
    FOR EACH STATEMENT EXECUTE FUNCTION audit_append_only();
CREATE TRIGGER audit_config_versions_no_change BEFORE UPDATE OR DELETE ON audit_config_versions
    FOR EACH ROW EXECUTE FUNCTION audit_append_only();
CREATE TRIGGER audit_config_versions_no_truncate BEFORE TRUNCATE ON audit_config_versions
    FOR EACH STATEMENT EXECUTE FUNCTION audit_append_only();

-- AUD-4: an event leaves audit_events only for the archive: the database
-- refuses to delete it unless an identical copy is in audit_archive and an
-- archive checkpoint covers it. UPDATE and TRUNCATE stay refused.
CREATE FUNCTION audit_events_delete_archived() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM audit_archive a WHERE a.seq = OLD.seq AND a.hash = OLD.hash
            AND a.prev_hash = OLD.prev_hash AND a.at = OLD.at AND a.actor = OLD.actor AND a.role = OLD.role
            AND a.action = OLD.action AND a.object = OLD.object AND a.details = OLD.details)
        OR NOT EXISTS (SELECT 1 FROM audit_checkpoints c WHERE c.kind = 'archive' AND c.archived_through >= OLD.seq) THEN
        RAISE EXCEPTION 'audit_events is append-only: an event leaves it only for audit_archive, under an archive checkpoint';
    END IF;
    RETURN OLD;
END;
$$;
DROP TRIGGER audit_events_no_change ON audit_events;
CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events
    FOR EACH ROW EXECUTE FUNCTION audit_events_append_only();
CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events
    FOR EACH ROW EXECUTE FUNCTION audit_events_delete_archived();
