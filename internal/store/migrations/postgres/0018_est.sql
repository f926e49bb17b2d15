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
    dossier_id  BIGINT  NOT NULL REFERENCES dossiers (id),
    ca_id       TEXT    NOT NULL,
    profile     TEXT    NOT NULL,
    subject     TEXT    NOT NULL,
    created_at  TEXT    NOT NULL,
    created_by  TEXT    NOT NULL,
    revoked_at  TEXT,
    revoked_by  TEXT
);

CREATE TABLE est_enrollments (
    id          BIGINT  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    serial      TEXT    NOT NULL UNIQUE,
    username    TEXT    NOT NULL REFERENCES est_credentials (username),
    dossier_id  BIGINT  NOT NULL REFERENCES dossiers (id),
    kind        TEXT    NOT NULL CHECK (kind IN ('enroll', 'reenroll')),
    renews      TEXT,
    created_at  TEXT    NOT NULL
);
CREATE INDEX est_enrollments_dossier ON est_enrollments (dossier_id);

CREATE FUNCTION est_keep() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'est: % is never deleted or rewritten (CA-4)', TG_TABLE_NAME;
END;
$$;
CREATE TRIGGER est_credentials_no_delete BEFORE DELETE ON est_credentials
    FOR EACH ROW EXECUTE FUNCTION est_keep();
CREATE TRIGGER est_enrollments_no_change BEFORE UPDATE OR DELETE ON est_enrollments
    FOR EACH ROW EXECUTE FUNCTION est_keep();
CREATE TRIGGER est_credentials_no_truncate BEFORE TRUNCATE ON est_credentials
    FOR EACH STATEMENT EXECUTE FUNCTION est_keep();
CREATE TRIGGER est_enrollments_no_truncate BEFORE TRUNCATE ON est_enrollments
    FOR EACH STATEMENT EXECUTE FUNCTION est_keep();
