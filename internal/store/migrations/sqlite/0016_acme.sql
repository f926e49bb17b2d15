-- The ACME server (RFC 8555; docs/acme.md). An EAB key is made by a
-- Registration Officer for a validated dossier and fixes the CA, the
-- profile and the DNS names its account may obtain (CA-4). Accounts,
-- orders, authorizations and challenges move forward only; nothing here
-- is deleted.
CREATE TABLE acme_eab_keys (
    kid         TEXT    PRIMARY KEY,
    hmac_key    BLOB    NOT NULL,
    dossier_id  INTEGER NOT NULL REFERENCES dossiers (id),
    ca_id       TEXT    NOT NULL,
    profile     TEXT    NOT NULL,
    dns_names   TEXT    NOT NULL,
    created_at  TEXT    NOT NULL,
    created_by  TEXT    NOT NULL,
    account_id  INTEGER,
    revoked_at  TEXT,
    revoked_by  TEXT
);

CREATE TABLE acme_accounts (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
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
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id  INTEGER NOT NULL REFERENCES acme_accounts (id),
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
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    order_id    INTEGER NOT NULL REFERENCES acme_orders (id),
    account_id  INTEGER NOT NULL REFERENCES acme_accounts (id),
    identifier  TEXT    NOT NULL,
    status      TEXT    NOT NULL CHECK (status IN ('pending', 'valid', 'invalid', 'deactivated', 'expired', 'revoked')),
    expires_at  TEXT    NOT NULL,
    updated_at  TEXT    NOT NULL
);
CREATE INDEX acme_authorizations_order ON acme_authorizations (order_id);

CREATE TABLE acme_challenges (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    authz_id    INTEGER NOT NULL REFERENCES acme_authorizations (id),
    type        TEXT    NOT NULL CHECK (type IN ('http-01', 'dns-01', 'tls-alpn-01')),
    token       TEXT    NOT NULL,
    status      TEXT    NOT NULL CHECK (status IN ('pending', 'processing', 'valid', 'invalid')),
    validated_at TEXT,
    error       TEXT
);
CREATE INDEX acme_challenges_authz ON acme_challenges (authz_id);

CREATE TRIGGER acme_eab_keys_no_delete BEFORE DELETE ON acme_eab_keys
BEGIN SELECT RAISE(ABORT, 'acme: an EAB key is never deleted'); END;
CREATE TRIGGER acme_accounts_no_delete BEFORE DELETE ON acme_accounts
BEGIN SELECT RAISE(ABORT, 'acme: an account is never deleted'); END;
CREATE TRIGGER acme_orders_no_delete BEFORE DELETE ON acme_orders
BEGIN SELECT RAISE(ABORT, 'acme: an order is never deleted'); END;
