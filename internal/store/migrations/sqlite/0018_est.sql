-- The EST server (RFC 7030; docs/est.md). A credential (a user name and
-- the hash of a random password) is made by a Registration Officer for a
-- validated dossier and fixes the CA, the profile and the subject its
-- enrollments carry (CA-4). Each certificate issued by EST is recorded
-- with its credential in the transaction that reserves its serial
-- (record before sign); a re-enrollment names the certificate it renews.
-- Nothing here is deleted.
CREATE TABLE est_credentials (
    username    TEXT    PRIMARY KEY,
    secret_hash TEXT    NOT NULL,
    dossier_id  INTEGER NOT NULL REFERENCES dossiers (id),
    ca_id       TEXT    NOT NULL,
    profile     TEXT    NOT NULL,
    subject     TEXT    NOT NULL,
    created_at  TEXT    NOT NULL,
    created_by  TEXT    NOT NULL,
    revoked_at  TEXT,
    revoked_by  TEXT
);

CREATE TABLE est_enrollments (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    serial      TEXT    NOT NULL UNIQUE,
    username    TEXT    NOT NULL REFERENCES est_credentials (username),
    dossier_id  INTEGER NOT NULL REFERENCES dossiers (id),
    kind        TEXT    NOT NULL CHECK (kind IN ('enroll', 'reenroll')),
    renews      TEXT,
    created_at  TEXT    NOT NULL
);
CREATE INDEX est_enrollments_dossier ON est_enrollments (dossier_id);

CREATE TRIGGER est_credentials_no_delete BEFORE DELETE ON est_credentials
BEGIN SELECT RAISE(ABORT, 'est: a credential is never deleted'); END;
CREATE TRIGGER est_enrollments_no_delete BEFORE DELETE ON est_enrollments
BEGIN SELECT RAISE(ABORT, 'est: an enrollment is never deleted'); END;
CREATE TRIGGER est_enrollments_no_update BEFORE UPDATE ON est_enrollments
BEGIN SELECT RAISE(ABORT, 'est: an enrollment is never changed'); END;
