-- Accounts, trusted roles, sessions, personnel records and dual control
-- (ROLE-1..ROLE-6, PUB-4, SYS-1). Times are fixed-width UTC text.

-- ROLE-4, PUB-4: one row per person. password_hash is an Argon2id PHC
-- string carrying its own parameters; NULL for a person who authenticates
-- by client certificate only. totp_last_step is the last RFC 6238 time
-- step accepted, so a code is never accepted twice.
CREATE TABLE accounts (
    name                 TEXT    PRIMARY KEY,
    full_name            TEXT    NOT NULL,
    password_hash        TEXT,
    must_change_password INTEGER NOT NULL DEFAULT 0,
    totp_secret          TEXT,
    totp_last_step       INTEGER NOT NULL DEFAULT 0,
    failed_logins        INTEGER NOT NULL DEFAULT 0,
    locked_until         TEXT,
    created_at           TEXT    NOT NULL,
    created_by           TEXT    NOT NULL
);

-- ROLE-4: client certificates of the admin CA that stand in for a person's
-- password and TOTP, by SHA-256 of the certificate.
CREATE TABLE account_certificates (
    sha256     TEXT PRIMARY KEY,
    account    TEXT NOT NULL REFERENCES accounts(name),
    subject    TEXT NOT NULL,
    not_after  TEXT NOT NULL,
    bound_at   TEXT NOT NULL,
    bound_by   TEXT NOT NULL,
    revoked_at TEXT
);
CREATE INDEX account_certificates_account ON account_certificates (account);

-- ROLE-1, ROLE-6: every assignment with its dates; a current assignment has
-- no removed_at. At most one current assignment per account and role.
CREATE TABLE role_assignments (
    id               TEXT PRIMARY KEY,
    account          TEXT NOT NULL REFERENCES accounts(name),
    role             TEXT NOT NULL,
    granted_at       TEXT NOT NULL,
    granted_by       TEXT NOT NULL,
    grant_approval   TEXT,
    removed_at       TEXT,
    removed_by       TEXT,
    removal_approval TEXT
);
CREATE UNIQUE INDEX role_assignments_current ON role_assignments (account, role) WHERE removed_at IS NULL;

-- ROLE-6: background checks and training, with their date and who attests.
CREATE TABLE attestations (
    id          TEXT PRIMARY KEY,
    account     TEXT NOT NULL REFERENCES accounts(name),
    kind        TEXT NOT NULL CHECK (kind IN ('background-check', 'training')),
    on_date     TEXT NOT NULL,
    attested_by TEXT NOT NULL,
    note        TEXT NOT NULL,
    recorded_at TEXT NOT NULL,
    recorded_by TEXT NOT NULL
);
CREATE INDEX attestations_account ON attestations (account, on_date);

-- ROLE-4: sessions of people who logged in with password and TOTP. Only the
-- SHA-256 of the token is kept; the session is bound to the terminal's
-- client certificate.
CREATE TABLE sessions (
    token_hash BLOB NOT NULL PRIMARY KEY,
    id         TEXT NOT NULL UNIQUE,
    account    TEXT NOT NULL REFERENCES accounts(name),
    terminal   TEXT NOT NULL,
    created_at TEXT NOT NULL,
    last_seen  TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    ended_at   TEXT
);
CREATE INDEX sessions_account ON sessions (account);

-- ROLE-3: requests under dual control and the votes on them. A person votes
-- once per request, whatever the session.
CREATE TABLE approval_requests (
    id             TEXT    PRIMARY KEY,
    action         TEXT    NOT NULL,
    resource_kind  TEXT    NOT NULL,
    resource_id    TEXT    NOT NULL,
    subject        TEXT    NOT NULL,
    payload        TEXT    NOT NULL,
    requester      TEXT    NOT NULL,
    requester_role TEXT    NOT NULL,
    required       INTEGER NOT NULL CHECK (required >= 1),
    status         TEXT    NOT NULL CHECK (status IN ('pending', 'executed', 'rejected', 'expired', 'failed')),
    created_at     TEXT    NOT NULL,
    expires_at     TEXT    NOT NULL,
    decided_at     TEXT,
    result         TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX approval_requests_status ON approval_requests (status, created_at);
CREATE TABLE approval_votes (
    request_id TEXT NOT NULL REFERENCES approval_requests(id),
    account    TEXT NOT NULL,
    role       TEXT NOT NULL,
    vote       TEXT NOT NULL CHECK (vote IN ('approve', 'reject')),
    reason     TEXT NOT NULL,
    session_id TEXT NOT NULL,
    at         TEXT NOT NULL,
    PRIMARY KEY (request_id, account)
);
