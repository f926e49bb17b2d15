-- PUB-1, PUB-2: what the publication site serves besides the CA
-- certificates and CRLs. A file is stored once under its SHA-256 (the site's
-- /sha256/<hex> URL); a document version points at one and, once published,
-- never changes: it can only be marked withdrawn (it stays listed and
-- downloadable). Manifests are numbered and append-only.
CREATE TABLE publication_files (
    sha256     TEXT    PRIMARY KEY,
    media_type TEXT    NOT NULL,
    size       BIGINT  NOT NULL,
    content    BYTEA   NOT NULL,
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
    size              BIGINT NOT NULL,
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
    number     BIGINT  PRIMARY KEY,
    created_at TEXT    NOT NULL,
    digest     TEXT    NOT NULL,
    body       BYTEA   NOT NULL,
    signature  BYTEA   NOT NULL
);
CREATE FUNCTION publication_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only', TG_TABLE_NAME;
END;
$$;
CREATE TRIGGER publication_files_no_change BEFORE UPDATE OR DELETE ON publication_files
    FOR EACH ROW EXECUTE FUNCTION publication_append_only();
CREATE TRIGGER publication_files_no_truncate BEFORE TRUNCATE ON publication_files
    FOR EACH STATEMENT EXECUTE FUNCTION publication_append_only();
CREATE TRIGGER publication_manifests_no_change BEFORE UPDATE OR DELETE ON publication_manifests
    FOR EACH ROW EXECUTE FUNCTION publication_append_only();
CREATE TRIGGER publication_manifests_no_truncate BEFORE TRUNCATE ON publication_manifests
    FOR EACH STATEMENT EXECUTE FUNCTION publication_append_only();
CREATE TRIGGER publication_documents_no_truncate BEFORE TRUNCATE ON publication_documents
    FOR EACH STATEMENT EXECUTE FUNCTION publication_append_only();
-- The only change a published version accepts is its withdrawal, once.
CREATE FUNCTION publication_documents_withdraw_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'a published document version is never deleted: withdraw it';
    END IF;
    IF OLD.withdrawn_at IS NOT NULL OR NEW.withdrawn_at IS NULL
       OR (NEW.id, NEW.kind, NEW.ident, NEW.version, NEW.lang, NEW.title, NEW.effective_at, NEW.media_type,
           NEW.sha256, NEW.size, NEW.published_at, NEW.published_by, NEW.approval_id)
          IS DISTINCT FROM
          (OLD.id, OLD.kind, OLD.ident, OLD.version, OLD.lang, OLD.title, OLD.effective_at, OLD.media_type,
           OLD.sha256, OLD.size, OLD.published_at, OLD.published_by, OLD.approval_id) THEN
        RAISE EXCEPTION 'a published document version is immutable: it can only be withdrawn, once';
    END IF;
    RETURN NEW;
END;
$$;
CREATE TRIGGER publication_documents_guard BEFORE UPDATE OR DELETE ON publication_documents
    FOR EACH ROW EXECUTE FUNCTION publication_documents_withdraw_only();
