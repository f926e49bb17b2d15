-- The archive (ARC-1..ARC-6; docs/archive.md). Items are immutable; the
-- Merkle tree, its signed heads, the timestamps and the purges are
-- append-only. An item leaves only through a purge recorded beforehand and
-- only after its retention date by the database's own clock (ARC-2), so
-- neither the API, an administrator with SQL access, nor a bug that moves
-- the service's clock can delete one early.

-- The tree's size: the next item's leaf index. Updating this one row takes
-- the lock that orders ingests across nodes.
CREATE TABLE archive_state (
    id   INTEGER PRIMARY KEY CHECK (id = 1),
    size INTEGER NOT NULL
);
INSERT INTO archive_state (id, size) VALUES (1, 0);

-- Content-addressed objects: sha256 (hex, as every digest here but the
-- tree's) is of the bytes as stored (the age
-- ciphertext for a confidential item). retain_until is the latest of its
-- items' and may only grow.
CREATE TABLE archive_objects (
    sha256       TEXT    PRIMARY KEY,
    size         INTEGER NOT NULL,
    content      BLOB    NOT NULL,
    retain_until TEXT    NOT NULL
);

-- leaf is the item's index in the tree (0, 1, 2, …); sha256 and size are of
-- the content in clear.
CREATE TABLE archive_items (
    leaf         INTEGER PRIMARY KEY,
    kind         TEXT    NOT NULL,
    source       TEXT    NOT NULL,
    event_at     TEXT    NOT NULL,
    added_at     TEXT    NOT NULL,
    added_by     TEXT    NOT NULL,
    media_type   TEXT    NOT NULL,
    size         INTEGER NOT NULL,
    sha256       TEXT    NOT NULL,
    class        TEXT    NOT NULL CHECK (class IN ('public', 'internal', 'confidential')),
    object       TEXT    NOT NULL,
    retain_until TEXT    NOT NULL
);
CREATE INDEX archive_items_kind ON archive_items (kind, event_at);
CREATE INDEX archive_items_source ON archive_items (source);
CREATE INDEX archive_items_retain ON archive_items (retain_until);

-- The perfect subtrees of the RFC 6962 tree: level 0 holds the leaf hashes.
CREATE TABLE archive_tree (
    level INTEGER NOT NULL,
    idx   INTEGER NOT NULL,
    hash  BLOB    NOT NULL,
    PRIMARY KEY (level, idx)
);

-- Signed tree heads, numbered 1, 2, 3, …: body is the signed JSON,
-- signature a detached CMS signature by the archive key (ARC-3).
CREATE TABLE archive_heads (
    number    INTEGER PRIMARY KEY,
    size      INTEGER NOT NULL,
    root      BLOB    NOT NULL,
    at        TEXT    NOT NULL,
    body      BLOB    NOT NULL,
    signature BLOB    NOT NULL
);

-- RFC 3161 tokens (ARC-5): over an item's content (what 'item', id = leaf)
-- or a head's body (what 'head', id = number).
CREATE TABLE archive_stamps (
    what  TEXT    NOT NULL CHECK (what IN ('item', 'head')),
    id    INTEGER NOT NULL,
    at    TEXT    NOT NULL,
    token BLOB    NOT NULL,
    PRIMARY KEY (what, id)
);

-- Purges of expired items, recorded before the rows go (ARC-2).
CREATE TABLE archive_purges (
    leaf      INTEGER PRIMARY KEY,
    purged_at TEXT    NOT NULL,
    purged_by TEXT    NOT NULL
);

-- The replication queue (ARC-4): a row per item (what 'item', leaf) or tree
-- head (what 'head', leaf = the head's number) and target, done when the
-- target holds a verified copy.
CREATE TABLE archive_replicas (
    target     TEXT    NOT NULL,
    what       TEXT    NOT NULL CHECK (what IN ('item', 'head')),
    leaf       INTEGER NOT NULL,
    queued_at  TEXT    NOT NULL,
    done_at    TEXT,
    attempts   INTEGER NOT NULL DEFAULT 0,
    last_error TEXT    NOT NULL DEFAULT '',
    PRIMARY KEY (target, what, leaf)
);
CREATE INDEX archive_replicas_pending ON archive_replicas (target, what, leaf) WHERE done_at IS NULL;

CREATE TRIGGER archive_items_no_update BEFORE UPDATE ON archive_items
BEGIN SELECT RAISE(ABORT, 'archive_items is immutable (ARC-2)'); END;
CREATE TRIGGER archive_items_retained BEFORE DELETE ON archive_items
WHEN OLD.retain_until > strftime('%Y-%m-%dT%H:%M:%S', 'now') || '.000000000Z'
  OR NOT EXISTS (SELECT 1 FROM archive_purges p WHERE p.leaf = OLD.leaf)
BEGIN SELECT RAISE(ABORT, 'an archived item is kept until its retention date and leaves only by a recorded purge (ARC-2)'); END;
CREATE TRIGGER archive_objects_no_shrink BEFORE UPDATE ON archive_objects
WHEN NEW.sha256 IS NOT OLD.sha256 OR NEW.size IS NOT OLD.size OR NEW.content IS NOT OLD.content
  OR NEW.retain_until < OLD.retain_until
BEGIN SELECT RAISE(ABORT, 'an archived object is immutable; its retention may only lengthen (ARC-2)'); END;
CREATE TRIGGER archive_objects_retained BEFORE DELETE ON archive_objects
WHEN OLD.retain_until > strftime('%Y-%m-%dT%H:%M:%S', 'now') || '.000000000Z'
  OR EXISTS (SELECT 1 FROM archive_items i WHERE i.object = OLD.sha256)
BEGIN SELECT RAISE(ABORT, 'an archived object is kept until its retention date and while an item holds it (ARC-2)'); END;
CREATE TRIGGER archive_tree_no_update BEFORE UPDATE ON archive_tree
BEGIN SELECT RAISE(ABORT, 'archive_tree is append-only'); END;
CREATE TRIGGER archive_tree_no_delete BEFORE DELETE ON archive_tree
BEGIN SELECT RAISE(ABORT, 'archive_tree is append-only'); END;
CREATE TRIGGER archive_heads_no_update BEFORE UPDATE ON archive_heads
BEGIN SELECT RAISE(ABORT, 'archive_heads is append-only'); END;
CREATE TRIGGER archive_heads_no_delete BEFORE DELETE ON archive_heads
BEGIN SELECT RAISE(ABORT, 'archive_heads is append-only'); END;
CREATE TRIGGER archive_stamps_no_update BEFORE UPDATE ON archive_stamps
BEGIN SELECT RAISE(ABORT, 'archive_stamps is append-only'); END;
CREATE TRIGGER archive_stamps_no_delete BEFORE DELETE ON archive_stamps
BEGIN SELECT RAISE(ABORT, 'archive_stamps is append-only'); END;
CREATE TRIGGER archive_purges_no_update BEFORE UPDATE ON archive_purges
BEGIN SELECT RAISE(ABORT, 'archive_purges is append-only'); END;
CREATE TRIGGER archive_purges_no_delete BEFORE DELETE ON archive_purges
BEGIN SELECT RAISE(ABORT, 'archive_purges is append-only'); END;
CREATE TRIGGER archive_state_grows BEFORE UPDATE ON archive_state
WHEN NEW.size < OLD.size
BEGIN SELECT RAISE(ABORT, 'the archive tree never shrinks'); END;
CREATE TRIGGER archive_state_no_delete BEFORE DELETE ON archive_state
BEGIN SELECT RAISE(ABORT, 'archive_state is permanent'); END;
