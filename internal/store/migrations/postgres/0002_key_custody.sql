-- KEY-2: each activation secret is split m-of-n at a ceremony; the split and
-- every holder's share are registered here (never the shares themselves).
CREATE TABLE key_splits (
    key_id     TEXT    PRIMARY KEY,
    set_id     BYTEA    NOT NULL,
    threshold  INTEGER NOT NULL CHECK (threshold >= 2),
    total      INTEGER NOT NULL CHECK (total >= threshold AND total <= 16),
    created_at TEXT    NOT NULL
);
CREATE TABLE key_shares (
    key_id     TEXT    NOT NULL REFERENCES key_splits(key_id),
    holder     TEXT    NOT NULL,
    x          INTEGER NOT NULL,
    carrier    TEXT    NOT NULL,
    failures   INTEGER NOT NULL DEFAULT 0,
    locked_at  TEXT,
    revoked_at TEXT,
    created_at TEXT    NOT NULL,
    PRIMARY KEY (key_id, holder),
    UNIQUE (key_id, x)
);
