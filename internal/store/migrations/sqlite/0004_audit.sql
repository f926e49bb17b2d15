-- The audit journal's proofs and life cycle (AUD-2, AUD-4, AUD-5, AUD-6, SYS-3).
-- Every table here but audit_cursors is append-only: triggers refuse UPDATE
-- and DELETE. See docs/audit.md.

-- AUD-2: the public keys that sign checkpoints. key_id is the hex SHA-256 of
-- public_key (a DER SubjectPublicKeyInfo); seq is the journal event
-- (audit.key_registered) that introduced the key.
CREATE TABLE audit_keys (
    key_id        TEXT    PRIMARY KEY,
    algorithm     TEXT    NOT NULL,
    public_key    BLOB    NOT NULL,
    label         TEXT    NOT NULL,
    registered_at TEXT    NOT NULL,
    seq           INTEGER NOT NULL
);

-- AUD-2: signed checkpoints of the chain head, numbered 1, 2, 3, … and
-- chained by prev_digest. kind 'archive' also states that the events up to
-- archived_through may leave audit_events for audit_archive (AUD-4).
CREATE TABLE audit_checkpoints (
    id               INTEGER PRIMARY KEY,
    seq              INTEGER NOT NULL,
    hash             BLOB    NOT NULL,
    at               TEXT    NOT NULL,
    kind             TEXT    NOT NULL CHECK (kind IN ('periodic', 'archive', 'final')),
    archived_through INTEGER NOT NULL,
    key_id           TEXT    NOT NULL,
    prev_digest      BLOB    NOT NULL,
    signature        BLOB    NOT NULL
);
CREATE INDEX audit_checkpoints_archive ON audit_checkpoints (archived_through) WHERE kind = 'archive';

-- AUD-4: events older than the live retention, moved here unchanged; the
-- chain runs on from the archive into audit_events.
CREATE TABLE audit_archive (
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

-- AUD-6: alerts raised by the analysis; seq is the audit.alert_raised event.
CREATE TABLE audit_alerts (
    seq     INTEGER PRIMARY KEY,
    at      TEXT    NOT NULL,
    rule    TEXT    NOT NULL,
    message TEXT    NOT NULL,
    details TEXT    NOT NULL
);

-- SYS-3: every version of the configuration, secrets redacted.
CREATE TABLE audit_config_versions (
    version  INTEGER PRIMARY KEY,
    at       TEXT    NOT NULL,
    sha256   TEXT    NOT NULL,
    snapshot TEXT    NOT NULL
);

-- Where the syslog forwarder and the analysis stand (mutable by design;
-- nothing here is evidence).
CREATE TABLE audit_cursors (
    name       TEXT    PRIMARY KEY,
    seq        INTEGER NOT NULL,
    updated_at TEXT    NOT NULL
);

CREATE TRIGGER audit_keys_no_update BEFORE UPDATE ON audit_keys
BEGIN SELECT RAISE(ABORT, 'audit_keys is append-only'); END;
CREATE TRIGGER audit_keys_no_delete BEFORE DELETE ON audit_keys
BEGIN SELECT RAISE(ABORT, 'audit_keys is append-only'); END;
CREATE TRIGGER audit_checkpoints_no_update BEFORE UPDATE ON audit_checkpoints
BEGIN SELECT RAISE(ABORT, 'audit_checkpoints is append-only'); END;
CREATE TRIGGER audit_checkpoints_no_delete BEFORE DELETE ON audit_checkpoints
BEGIN SELECT RAISE(ABORT, 'audit_checkpoints is append-only'); END;
CREATE TRIGGER audit_archive_no_update BEFORE UPDATE ON audit_archive
BEGIN SELECT RAISE(ABORT, 'audit_archive is append-only'); END;
CREATE TRIGGER audit_archive_no_delete BEFORE DELETE ON audit_archive
BEGIN SELECT RAISE(ABORT, 'audit_archive is append-only'); END;
CREATE TRIGGER audit_alerts_no_update BEFORE UPDATE ON audit_alerts
BEGIN SELECT RAISE(ABORT, 'audit_alerts is append-only'); END;
CREATE TRIGGER audit_alerts_no_delete BEFORE DELETE ON audit_alerts
BEGIN SELECT RAISE(ABORT, 'audit_alerts is append-only'); END;
CREATE TRIGGER audit_config_versions_no_update BEFORE UPDATE ON audit_config_versions
BEGIN SELECT RAISE(ABORT, 'audit_config_versions is append-only'); END;
CREATE TRIGGER audit_config_versions_no_delete BEFORE DELETE ON audit_config_versions
BEGIN SELECT RAISE(ABORT, 'audit_config_versions is append-only'); END;

-- AUD-4: an event leaves audit_events only for the archive: the database
-- refuses to delete it unless an identical copy is in audit_archive and an
-- archive checkpoint covers it. UPDATE stays refused.
DROP TRIGGER audit_events_no_delete;
CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events
WHEN NOT EXISTS (SELECT 1 FROM audit_archive a WHERE a.seq = OLD.seq AND a.hash = OLD.hash
        AND a.prev_hash = OLD.prev_hash AND a.at = OLD.at AND a.actor = OLD.actor AND a.role = OLD.role
        AND a.action = OLD.action AND a.object = OLD.object AND a.details = OLD.details)
    OR NOT EXISTS (SELECT 1 FROM audit_checkpoints c WHERE c.kind = 'archive' AND c.archived_through >= OLD.seq)
BEGIN SELECT RAISE(ABORT, 'audit_events is append-only: an event leaves it only for audit_archive, under an archive checkpoint'); END;
