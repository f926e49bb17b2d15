-- KEY-4: every backup copy of a CA key is registered: where it was written,
-- when, by whom, under which approval and approvers (ROLE-3), the SHA-256 of
-- the file, and whether it was destroyed (KEY-6). The ID of a backup is also
-- the key ID of the m-of-n split of its wrapping key in key_splits.
CREATE TABLE key_backups (
    id           TEXT    PRIMARY KEY,
    ca_id        TEXT    NOT NULL,
    key_label    TEXT    NOT NULL,
    mechanism    TEXT    NOT NULL,
    location     TEXT    NOT NULL,
    sha256       TEXT    NOT NULL,
    created_at   TEXT    NOT NULL,
    created_by   TEXT    NOT NULL,
    approval_id  TEXT    NOT NULL UNIQUE,
    approvers    TEXT    NOT NULL,
    status       TEXT    NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'destroyed')),
    destroyed_at TEXT,
    destroyed_by TEXT
);
CREATE INDEX key_backups_ca ON key_backups (ca_id, created_at);
-- KEY-4: an approved import is carried out once.
CREATE TABLE key_imports (
    approval_id TEXT PRIMARY KEY,
    backup_id   TEXT NOT NULL REFERENCES key_backups(id),
    ca_id       TEXT NOT NULL,
    imported_at TEXT NOT NULL,
    imported_by TEXT NOT NULL,
    approvers   TEXT NOT NULL
);
