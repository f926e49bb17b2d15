-- Key ceremonies (KEY-8): the keys that sign ceremony transcripts, and every
-- signed transcript, for the archive (ARC-1). Both tables are append-only:
-- triggers refuse UPDATE, DELETE and TRUNCATE; the service role should be
-- granted INSERT and SELECT only. Times are fixed-width UTC text.

-- A transcript signing key. fingerprint is the hex SHA-256 of public_key (a
-- DER SubjectPublicKeyInfo): the value the witness writes down. The private
-- key stays in the service keystore under label.
CREATE TABLE ceremony_keys (
    fingerprint TEXT  PRIMARY KEY,
    algorithm   TEXT  NOT NULL,
    public_key  BYTEA NOT NULL,
    label       TEXT  NOT NULL,
    created_at  TEXT  NOT NULL
);

-- A signed transcript, completed or aborted. transcript is transcript.json
-- byte for byte, sha256 its hex SHA-256; signature is the DER signature of
-- that SHA-256 by the key signer_key (whose public key is repeated here, so
-- that a row verifies on its own).
CREATE TABLE ceremony_transcripts (
    id                TEXT  PRIMARY KEY,
    name              TEXT  NOT NULL,
    status            TEXT  NOT NULL CHECK (status IN ('completed', 'aborted')),
    sha256            TEXT  NOT NULL,
    transcript        TEXT  NOT NULL,
    signature         BYTEA NOT NULL,
    signer_key        TEXT  NOT NULL REFERENCES ceremony_keys(fingerprint),
    signer_public_key BYTEA NOT NULL,
    created_at        TEXT  NOT NULL
);
CREATE INDEX ceremony_transcripts_sha256 ON ceremony_transcripts (sha256);

CREATE FUNCTION ceremony_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only', TG_TABLE_NAME;
END;
$$;
CREATE TRIGGER ceremony_keys_no_change BEFORE UPDATE OR DELETE ON ceremony_keys
    FOR EACH ROW EXECUTE FUNCTION ceremony_append_only();
CREATE TRIGGER ceremony_keys_no_truncate BEFORE TRUNCATE ON ceremony_keys
    FOR EACH STATEMENT EXECUTE FUNCTION ceremony_append_only();
CREATE TRIGGER ceremony_transcripts_no_change BEFORE UPDATE OR DELETE ON ceremony_transcripts
    FOR EACH ROW EXECUTE FUNCTION ceremony_append_only();
CREATE TRIGGER ceremony_transcripts_no_truncate BEFORE TRUNCATE ON ceremony_transcripts
    FOR EACH STATEMENT EXECUTE FUNCTION ceremony_append_only();
