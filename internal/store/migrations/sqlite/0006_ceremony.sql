-- Key ceremonies (KEY-8): the keys that sign ceremony transcripts, and every
-- signed transcript, for the archive (ARC-1). Both tables are append-only:
-- triggers refuse UPDATE and DELETE. Times are fixed-width UTC text.

-- A transcript signing key. fingerprint is the hex SHA-256 of public_key (a
-- DER SubjectPublicKeyInfo): the value the witness writes down. The private
-- key stays in the service keystore under label.
CREATE TABLE ceremony_keys (
    fingerprint TEXT PRIMARY KEY,
    algorithm   TEXT NOT NULL,
    public_key  BLOB NOT NULL,
    label       TEXT NOT NULL,
    created_at  TEXT NOT NULL
);

-- A signed transcript, completed or aborted. transcript is transcript.json
-- byte for byte, sha256 its hex SHA-256; signature is the DER signature of
-- that SHA-256 by the key signer_key (whose public key is repeated here, so
-- that a row verifies on its own).
CREATE TABLE ceremony_transcripts (
    id                TEXT PRIMARY KEY,
    name              TEXT NOT NULL,
    status            TEXT NOT NULL CHECK (status IN ('completed', 'aborted')),
    sha256            TEXT NOT NULL,
    transcript        TEXT NOT NULL,
    signature         BLOB NOT NULL,
    signer_key        TEXT NOT NULL REFERENCES ceremony_keys(fingerprint),
    signer_public_key BLOB NOT NULL,
    created_at        TEXT NOT NULL
);
CREATE INDEX ceremony_transcripts_sha256 ON ceremony_transcripts (sha256);

CREATE TRIGGER ceremony_keys_no_update BEFORE UPDATE ON ceremony_keys
BEGIN SELECT RAISE(ABORT, 'ceremony_keys is append-only'); END;
CREATE TRIGGER ceremony_keys_no_delete BEFORE DELETE ON ceremony_keys
BEGIN SELECT RAISE(ABORT, 'ceremony_keys is append-only'); END;
CREATE TRIGGER ceremony_transcripts_no_update BEFORE UPDATE ON ceremony_transcripts
BEGIN SELECT RAISE(ABORT, 'ceremony_transcripts is append-only'); END;
CREATE TRIGGER ceremony_transcripts_no_delete BEFORE DELETE ON ceremony_transcripts
BEGIN SELECT RAISE(ABORT, 'ceremony_transcripts is append-only'); END;
