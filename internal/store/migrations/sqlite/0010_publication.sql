-- PUB-1, PUB-2: what the publication site serves besides the CA
-- certificates and CRLs. A file is stored once under its SHA-256 (the site's
-- /sha256/<hex> URL); a document version points at one and, once published,
-- never changes: it can only be marked withdrawn (it stays listed and
-- downloadable). Manifests are numbered and append-only.
CREATE TABLE publication_files (
    sha256     TEXT    PRIMARY KEY,
    media_type TEXT    NOT NULL,
    size       INTEGER NOT NULL,
    content    BLOB    NOT NULL,
    stored_at  TEXT    NOT NULL,
    stored_by  TEXT    NOT NULL
);
CREATE TABLE publication_documents (
    id                TEXT PRIMARY KEY,
    kind              TEXT NOT NULL,
    ident             TEXT NOT NULL,
    version           TEXT NOT NULL,
    lang              TEXT NOT NULL,
    title             TEXT NOT NULL,
    effective_at      TEXT NOT NULL,
    media_type        TEXT NOT NULL,
    sha256            TEXT NOT NULL REFERENCES publication_files(sha256),
    size              INTEGER NOT NULL,
    published_at      TEXT NOT NULL,
    published_by      TEXT NOT NULL,
    approval_id       TEXT NOT NULL,
    withdrawn_at      TEXT,
    withdrawn_by      TEXT,
    withdrawn_reason  TEXT,
    withdrawal_id     TEXT,
    UNIQUE (kind, ident, version, lang)
);
CREATE INDEX publication_documents_published ON publication_documents (published_at);
CREATE TABLE publication_manifests (
    number     INTEGER PRIMARY KEY,
    created_at TEXT    NOT NULL,
    digest     TEXT    NOT NULL,
    body       BLOB    NOT NULL,
    signature  BLOB    NOT NULL
);
CREATE TRIGGER publication_files_no_update BEFORE UPDATE ON publication_files
BEGIN SELECT RAISE(ABORT, 'publication_files is append-only'); END;
CREATE TRIGGER publication_files_no_delete BEFORE DELETE ON publication_files
BEGIN SELECT RAISE(ABORT, 'publication_files is append-only'); END;
CREATE TRIGGER publication_manifests_no_update BEFORE UPDATE ON publication_manifests
BEGIN SELECT RAISE(ABORT, 'publication_manifests is append-only'); END;
CREATE TRIGGER publication_manifests_no_delete BEFORE DELETE ON publication_manifests
BEGIN SELECT RAISE(ABORT, 'publication_manifests is append-only'); END;
CREATE TRIGGER publication_documents_no_delete BEFORE DELETE ON publication_documents
BEGIN SELECT RAISE(ABORT, 'a published document version is never deleted: withdraw it'); END;
-- The only change a published version accepts is its withdrawal, once.
CREATE TRIGGER publication_documents_withdraw_only BEFORE UPDATE ON publication_documents
WHEN OLD.withdrawn_at IS NOT NULL OR NEW.withdrawn_at IS NULL
  OR NEW.id IS NOT OLD.id OR NEW.kind IS NOT OLD.kind OR NEW.ident IS NOT OLD.ident
  OR NEW.version IS NOT OLD.version OR NEW.lang IS NOT OLD.lang OR NEW.title IS NOT OLD.title
  OR NEW.effective_at IS NOT OLD.effective_at OR NEW.media_type IS NOT OLD.media_type
  OR NEW.sha256 IS NOT OLD.sha256 OR NEW.size IS NOT OLD.size
  OR NEW.published_at IS NOT OLD.published_at OR NEW.published_by IS NOT OLD.published_by
  OR NEW.approval_id IS NOT OLD.approval_id
BEGIN SELECT RAISE(ABORT, 'a published document version is immutable: it can only be withdrawn, once'); END;
