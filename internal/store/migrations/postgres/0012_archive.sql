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
    size BIGINT  NOT NULL
);
INSERT INTO archive_state (id, size) VALUES (1, 0);

-- Content-addressed objects: sha256 (hex, as every digest here but the
-- tree's) is of the bytes as stored (the age
-- ciphertext for a confidential item). retain_until is the latest of its
-- items' and may only grow.
CREATE TABLE archive_objects (
    sha256       TEXT    PRIMARY KEY,
    size         BIGINT  NOT NULL,
    content      BYTEA   NOT NULL,
    retain_until TEXT    NOT NULL
);

-- leaf is the item's index in the tree (0, 1, 2, …); sha256 and size are of
-- the content in clear.
CREATE TABLE archive_items (
    leaf         BIGINT  PRIMARY KEY,
    kind         TEXT    NOT NULL,
    source       TEXT    NOT NULL,
    event_at     TEXT    NOT NULL,
    added_at     TEXT    NOT NULL,
    added_by     TEXT    NOT NULL,
    media_type   TEXT    NOT NULL,
    size         BIGINT  NOT NULL,
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
    idx   BIGINT  NOT NULL,
    hash  BYTEA   NOT NULL,
    PRIMARY KEY (level, idx)
);

-- Signed tree heads, numbered 1, 2, 3, …: body is the signed JSON,
-- signature a detached CMS signature by the archive key (ARC-3).
CREATE TABLE archive_heads (
    number    BIGINT  PRIMARY KEY,
    size      BIGINT  NOT NULL,
    root      BYTEA    NOT NULL,
    at        TEXT    NOT NULL,
    body      BYTEA    NOT NULL,
    signature BYTEA    NOT NULL
);

-- RFC 3161 tokens (ARC-5): over an item's content (what 'item', id = leaf)
-- or a head's body (what 'head', id = number).
CREATE TABLE archive_stamps (
    what  TEXT    NOT NULL CHECK (what IN ('item', 'head')),
    id    BIGINT  NOT NULL,
    at    TEXT    NOT NULL,
    token BYTEA    NOT NULL,
    PRIMARY KEY (what, id)
);

-- Purges of expired items, recorded before the rows go (ARC-2).
CREATE TABLE archive_purges (
    leaf      BIGINT  PRIMARY KEY,
    purged_at TEXT    NOT NULL,
    purged_by TEXT    NOT NULL
);

-- The replication queue (ARC-4): a row per item (what 'item', leaf) or tree
-- head (what 'head', leaf = the head's number) and target, done when the
-- target holds a verified copy.
CREATE TABLE archive_replicas (
    target     TEXT    NOT NULL,
    what       TEXT    NOT NULL CHECK (what IN ('item', 'head')),
    leaf       BIGINT  NOT NULL,
    queued_at  TEXT    NOT NULL,
    done_at    TEXT,
    attempts   INTEGER NOT NULL DEFAULT 0,
    last_error TEXT    NOT NULL DEFAULT '',
    PRIMARY KEY (target, what, leaf)
);
CREATE INDEX archive_replicas_pending ON archive_replicas (target, what, leaf) WHERE done_at IS NULL;

CREATE FUNCTION archive_now() RETURNS text LANGUAGE sql STABLE AS $$
    SELECT to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS') || '.000000000Z'
$$;
CREATE FUNCTION archive_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only', TG_TABLE_NAME;
END;
$$;
CREATE FUNCTION archive_items_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' THEN
        RAISE EXCEPTION 'archive_items is immutable (ARC-2)';
    END IF;
    IF OLD.retain_until > archive_now() OR NOT EXISTS (SELECT 1 FROM archive_purges p WHERE p.leaf = OLD.leaf) THEN
        RAISE EXCEPTION 'an archived item is kept until its retention date and leaves only by a recorded purge (ARC-2)';
    END IF;
    RETURN OLD;
END;
$$;
CREATE FUNCTION archive_objects_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' THEN
        IF NEW.sha256 IS DISTINCT FROM OLD.sha256 OR NEW.size IS DISTINCT FROM OLD.size
           OR NEW.content IS DISTINCT FROM OLD.content OR NEW.retain_until < OLD.retain_until THEN
            RAISE EXCEPTION 'an archived object is immutable; its retention may only lengthen (ARC-2)';
        END IF;
        RETURN NEW;
    END IF;
    IF OLD.retain_until > archive_now() OR EXISTS (SELECT 1 FROM archive_items i WHERE i.object = OLD.sha256) THEN
        RAISE EXCEPTION 'an archived object is kept until its retention date and while an item holds it (ARC-2)';
    END IF;
    RETURN OLD;
END;
$$;
CREATE FUNCTION archive_state_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'archive_state is permanent';
    END IF;
    IF NEW.size < OLD.size THEN
        RAISE EXCEPTION 'the archive tree never shrinks';
    END IF;
    RETURN NEW;
END;
$$;
-- As for the journal (0009): the guards look tables up by name, so their
-- search path is pinned to this schema, temporary tables last.
DO $$
BEGIN
    EXECUTE format('ALTER FUNCTION archive_items_guard() SET search_path = %I, pg_temp', current_schema());
    EXECUTE format('ALTER FUNCTION archive_objects_guard() SET search_path = %I, pg_temp', current_schema());
END
$$;
CREATE TRIGGER archive_items_guard BEFORE UPDATE OR DELETE ON archive_items
    FOR EACH ROW EXECUTE FUNCTION archive_items_guard();
CREATE TRIGGER archive_objects_guard BEFORE UPDATE OR DELETE ON archive_objects
    FOR EACH ROW EXECUTE FUNCTION archive_objects_guard();
CREATE TRIGGER archive_state_guard BEFORE UPDATE OR DELETE ON archive_state
    FOR EACH ROW EXECUTE FUNCTION archive_state_guard();
CREATE TRIGGER archive_items_no_truncate BEFORE TRUNCATE ON archive_items
    FOR EACH STATEMENT EXECUTE FUNCTION archive_append_only();
CREATE TRIGGER archive_objects_no_truncate BEFORE TRUNCATE ON archive_objects
    FOR EACH STATEMENT EXECUTE FUNCTION archive_append_only();
CREATE TRIGGER archive_state_no_truncate BEFORE TRUNCATE ON archive_state
    FOR EACH STATEMENT EXECUTE FUNCTION archive_append_only();
CREATE TRIGGER archive_tree_no_change BEFORE UPDATE OR DELETE ON archive_tree
    FOR EACH ROW EXECUTE FUNCTION archive_append_only();
CREATE TRIGGER archive_tree_no_truncate BEFORE TRUNCATE ON archive_tree
    FOR EACH STATEMENT EXECUTE FUNCTION archive_append_only();
CREATE TRIGGER archive_heads_no_change BEFORE UPDATE OR DELETE ON archive_heads
    FOR EACH ROW EXECUTE FUNCTION archive_append_only();
CREATE TRIGGER archive_heads_no_truncate BEFORE TRUNCATE ON archive_heads
    FOR EACH STATEMENT EXECUTE FUNCTION archive_append_only();
CREATE TRIGGER archive_stamps_no_change BEFORE UPDATE OR DELETE ON archive_stamps
    FOR EACH ROW EXECUTE FUNCTION archive_append_only();
CREATE TRIGGER archive_stamps_no_truncate BEFORE TRUNCATE ON archive_stamps
    FOR EACH STATEMENT EXECUTE FUNCTION archive_append_only();
CREATE TRIGGER archive_purges_no_change BEFORE UPDATE OR DELETE ON archive_purges
    FOR EACH ROW EXECUTE FUNCTION archive_append_only();
CREATE TRIGGER archive_purges_no_truncate BEFORE TRUNCATE ON archive_purges
    FOR EACH STATEMENT EXECUTE FUNCTION archive_append_only();
