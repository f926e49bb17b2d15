-- The ACME server (RFC 8555; docs/acme.md). An EAB key is made by a
-- Registration Officer for a validated dossier and fixes the CA, the
-- profile and the DNS names its account may obtain (CA-4). Accounts,
-- orders, authorizations and challenges move forward only; nothing here
-- is deleted.
CREATE TABLE acme_eab_keys (
    kid         TEXT    PRIMARY KEY,
    hmac_key    BYTEA   NOT NULL,
    dossier_id  BIGINT  NOT NULL REFERENCES dossiers (id),
    ca_id       TEXT    NOT NULL,
    profile     TEXT    NOT NULL,
    dns_names   TEXT    NOT NULL,
    created_at  TEXT    NOT NULL,
    created_by  TEXT    NOT NULL,
    account_id  BIGINT,
    revoked_at  TEXT,
    revoked_by  TEXT
);

CREATE TABLE acme_accounts (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    directory   TEXT    NOT NULL,
    thumbprint  TEXT    NOT NULL UNIQUE,
    jwk         TEXT    NOT NULL,
    status      TEXT    NOT NULL CHECK (status IN ('valid', 'deactivated', 'revoked')),
    contact     TEXT    NOT NULL,
    eab_kid     TEXT    REFERENCES acme_eab_keys (kid),
    created_at  TEXT    NOT NULL,
    updated_at  TEXT    NOT NULL
);

CREATE TABLE acme_orders (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    account_id  BIGINT  NOT NULL REFERENCES acme_accounts (id),
    status      TEXT    NOT NULL CHECK (status IN ('pending', 'ready', 'processing', 'valid', 'invalid')),
    identifiers TEXT    NOT NULL,
    expires_at  TEXT    NOT NULL,
    error       TEXT,
    serial      TEXT,
    created_at  TEXT    NOT NULL,
    updated_at  TEXT    NOT NULL
);
CREATE INDEX acme_orders_account ON acme_orders (account_id, id);
CREATE INDEX acme_orders_serial ON acme_orders (serial);

CREATE TABLE acme_authorizations (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    order_id    BIGINT  NOT NULL REFERENCES acme_orders (id),
    account_id  BIGINT  NOT NULL REFERENCES acme_accounts (id),
    identifier  TEXT    NOT NULL,
    status      TEXT    NOT NULL CHECK (status IN ('pending', 'valid', 'invalid', 'deactivated', 'expired', 'revoked')),
    expires_at  TEXT    NOT NULL,
    updated_at  TEXT    NOT NULL
);
CREATE INDEX acme_authorizations_order ON acme_authorizations (order_id);

CREATE TABLE acme_challenges (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    authz_id    BIGINT  NOT NULL REFERENCES acme_authorizations (id),
    type        TEXT    NOT NULL CHECK (type IN ('http-01', 'dns-01', 'tls-alpn-01')),
    token       TEXT    NOT NULL,
    status      TEXT    NOT NULL CHECK (status IN ('pending', 'processing', 'valid', 'invalid')),
    validated_at TEXT,
    error       TEXT
);
CREATE INDEX acme_challenges_authz ON acme_challenges (authz_id);

CREATE FUNCTION acme_keep() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'acme: % is never deleted (CA-4)', TG_TABLE_NAME;
END;
$$;
CREATE TRIGGER acme_eab_keys_no_delete BEFORE DELETE ON acme_eab_keys
    FOR EACH ROW EXECUTE FUNCTION acme_keep();
CREATE TRIGGER acme_accounts_no_delete BEFORE DELETE ON acme_accounts
    FOR EACH ROW EXECUTE FUNCTION acme_keep();
CREATE TRIGGER acme_orders_no_delete BEFORE DELETE ON acme_orders
    FOR EACH ROW EXECUTE FUNCTION acme_keep();
