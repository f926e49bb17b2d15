-- The registration authority (CA-4; docs/registration.md). Dossiers move
-- forward only; evidence, CGU acceptances and revocation requests are
-- inserted once (a request is then only marked processed). Nothing here is
-- ever deleted: triggers refuse it.
CREATE TABLE dossiers (
    id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind            TEXT    NOT NULL CHECK (kind IN ('natural', 'legal', 'natural_of_legal', 'device')),
    ca_id           TEXT    NOT NULL,
    profile         TEXT    NOT NULL,
    state           TEXT    NOT NULL CHECK (state IN ('draft', 'submitted', 'validated', 'rejected', 'issued', 'delivered')),
    subject         TEXT    NOT NULL,
    contact         TEXT    NOT NULL,
    mandate         TEXT,
    created_at      TEXT    NOT NULL,
    created_by      TEXT    NOT NULL,
    updated_at      TEXT    NOT NULL,
    submitted_at    TEXT,
    decided_at      TEXT,
    decided_by      TEXT,
    reason          TEXT,
    serial          TEXT UNIQUE,
    issued_at       TEXT,
    issued_by       TEXT,
    delivered_at    TEXT,
    delivery        TEXT,
    secret_hash     TEXT,
    secret_failures INTEGER NOT NULL DEFAULT 0,
    secret_failed_at TEXT
);
CREATE INDEX dossiers_state ON dossiers (state, updated_at);

CREATE TABLE dossier_evidence (
    id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    dossier_id      BIGINT  NOT NULL REFERENCES dossiers (id),
    doc_type        TEXT    NOT NULL,
    doc_number      TEXT    NOT NULL,
    issuing_country TEXT    NOT NULL,
    expires         TEXT    NOT NULL,
    method          TEXT    NOT NULL,
    added_at        TEXT    NOT NULL,
    added_by        TEXT    NOT NULL,
    scan_leaf       BIGINT NOT NULL,
    scan_sha256     TEXT    NOT NULL,
    scan_type       TEXT    NOT NULL,
    scan_size       BIGINT NOT NULL
);
CREATE INDEX dossier_evidence_dossier ON dossier_evidence (dossier_id);

CREATE TABLE cgu_acceptances (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    dossier_id  BIGINT  NOT NULL REFERENCES dossiers (id),
    document    TEXT    NOT NULL,
    sha256      TEXT    NOT NULL,
    url         TEXT    NOT NULL,
    how         TEXT    NOT NULL CHECK (how IN ('signed', 'handwritten', 'click')),
    accepted_at TEXT    NOT NULL,
    recorded_by TEXT    NOT NULL,
    proof_leaf  BIGINT NOT NULL
);
CREATE INDEX cgu_acceptances_dossier ON cgu_acceptances (dossier_id, id);

-- A PKCS#12 waiting behind its one-time download link; the content is
-- cleared when it is downloaded or expires (KEY-3: no key is kept).
CREATE TABLE download_links (
    token_hash    TEXT    PRIMARY KEY,
    dossier_id    BIGINT  NOT NULL REFERENCES dossiers (id),
    content       BYTEA,
    created_at    TEXT    NOT NULL,
    expires_at    TEXT    NOT NULL,
    downloaded_at TEXT
);

CREATE TABLE revocation_requests (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    dossier_id   BIGINT  NOT NULL REFERENCES dossiers (id),
    serial       TEXT    NOT NULL,
    source       TEXT    NOT NULL CHECK (source IN ('holder', 'organisation', 'officer')),
    requester    TEXT    NOT NULL,
    reason       TEXT    NOT NULL,
    note         TEXT    NOT NULL,
    received_at  TEXT    NOT NULL,
    due_at       TEXT    NOT NULL,
    state        TEXT    NOT NULL CHECK (state IN ('received', 'revoked', 'refused')),
    checked_by   TEXT,
    done_at      TEXT,
    decision     TEXT
);
CREATE INDEX revocation_requests_state ON revocation_requests (state, due_at);

CREATE FUNCTION registration_keep() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'registration: % is never deleted or rewritten (CA-4)', TG_TABLE_NAME;
END;
$$;
CREATE TRIGGER dossiers_no_delete BEFORE DELETE ON dossiers
    FOR EACH ROW EXECUTE FUNCTION registration_keep();
CREATE TRIGGER dossier_evidence_no_change BEFORE UPDATE OR DELETE ON dossier_evidence
    FOR EACH ROW EXECUTE FUNCTION registration_keep();
CREATE TRIGGER cgu_acceptances_no_change BEFORE UPDATE OR DELETE ON cgu_acceptances
    FOR EACH ROW EXECUTE FUNCTION registration_keep();
CREATE TRIGGER revocation_requests_no_delete BEFORE DELETE ON revocation_requests
    FOR EACH ROW EXECUTE FUNCTION registration_keep();
CREATE TRIGGER dossiers_no_truncate BEFORE TRUNCATE ON dossiers
    FOR EACH STATEMENT EXECUTE FUNCTION registration_keep();
CREATE TRIGGER dossier_evidence_no_truncate BEFORE TRUNCATE ON dossier_evidence
    FOR EACH STATEMENT EXECUTE FUNCTION registration_keep();
CREATE TRIGGER cgu_acceptances_no_truncate BEFORE TRUNCATE ON cgu_acceptances
    FOR EACH STATEMENT EXECUTE FUNCTION registration_keep();
CREATE TRIGGER revocation_requests_no_truncate BEFORE TRUNCATE ON revocation_requests
    FOR EACH STATEMENT EXECUTE FUNCTION registration_keep();
