-- The incident register (INC-1, INC-4; docs/incident.md). An incident is
-- never deleted; its timeline is append-only; a closed incident is final.
-- Ids are the database's own (AUTOINCREMENT), so that several nodes never
-- hand out the same number.
CREATE TABLE incidents (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    kind        TEXT    NOT NULL CHECK (kind IN ('key-loss', 'suspected-compromise', 'theft', 'weak-algorithm', 'outage', 'other')),
    severity    TEXT    NOT NULL CHECK (severity IN ('minor', 'moderate', 'major')),
    title       TEXT    NOT NULL,
    description TEXT    NOT NULL,
    detected_at TEXT    NOT NULL,
    opened_at   TEXT    NOT NULL,
    opened_by   TEXT    NOT NULL,
    status      TEXT    NOT NULL CHECK (status IN ('open', 'closed')),
    closed_at   TEXT,
    closed_by   TEXT    NOT NULL DEFAULT '',
    closure     TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX incidents_status ON incidents (status, detected_at);

-- The timeline: notes, actions taken, and what Sceau recorded itself.
CREATE TABLE incident_notes (
    id       INTEGER PRIMARY KEY AUTOINCREMENT,
    incident INTEGER NOT NULL REFERENCES incidents (id),
    at       TEXT    NOT NULL,
    author   TEXT    NOT NULL,
    kind     TEXT    NOT NULL CHECK (kind IN ('note', 'action', 'system')),
    text     TEXT    NOT NULL
);
CREATE INDEX incident_notes_incident ON incident_notes (incident, id);

-- The notifications owed to people and systems, with their delivery: each
-- attempt moves attempts, last_try and last_error; delivered_at once it got
-- through. A notification is never dropped: it is retried until delivered.
CREATE TABLE incident_notifications (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    incident     INTEGER NOT NULL REFERENCES incidents (id),
    event        TEXT    NOT NULL,
    channel      TEXT    NOT NULL,
    recipient    TEXT    NOT NULL,
    subject      TEXT    NOT NULL,
    body         TEXT    NOT NULL,
    created_at   TEXT    NOT NULL,
    attempts     INTEGER NOT NULL DEFAULT 0,
    next_try     TEXT    NOT NULL,
    last_try     TEXT,
    delivered_at TEXT,
    last_error   TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX incident_notifications_pending ON incident_notifications (next_try) WHERE delivered_at IS NULL;
CREATE INDEX incident_notifications_incident ON incident_notifications (incident, id);

-- INC-4: what a major incident owes the supervisory authority and the
-- conformity assessment body, due 24 hours after detection. warned_at and
-- overdue_at record that the alert of each kind was raised (once).
CREATE TABLE incident_obligations (
    incident   INTEGER NOT NULL REFERENCES incidents (id),
    kind       TEXT    NOT NULL CHECK (kind IN ('supervisory-authority', 'conformity-body')),
    due_at     TEXT    NOT NULL,
    done_at    TEXT,
    done_by    TEXT    NOT NULL DEFAULT '',
    reference  TEXT    NOT NULL DEFAULT '',
    warned_at  TEXT,
    overdue_at TEXT,
    PRIMARY KEY (incident, kind)
);
CREATE INDEX incident_obligations_open ON incident_obligations (due_at) WHERE done_at IS NULL;

CREATE TRIGGER incidents_no_delete BEFORE DELETE ON incidents
BEGIN SELECT RAISE(ABORT, 'an incident is never deleted (INC-1)'); END;
CREATE TRIGGER incidents_closed_final BEFORE UPDATE ON incidents
WHEN OLD.status = 'closed'
BEGIN SELECT RAISE(ABORT, 'a closed incident is final (INC-1)'); END;
CREATE TRIGGER incident_notes_no_update BEFORE UPDATE ON incident_notes
BEGIN SELECT RAISE(ABORT, 'incident_notes is append-only'); END;
CREATE TRIGGER incident_notes_no_delete BEFORE DELETE ON incident_notes
BEGIN SELECT RAISE(ABORT, 'incident_notes is append-only'); END;
CREATE TRIGGER incident_notifications_no_delete BEFORE DELETE ON incident_notifications
BEGIN SELECT RAISE(ABORT, 'a notification is never dropped (INC-1)'); END;
CREATE TRIGGER incident_obligations_no_delete BEFORE DELETE ON incident_obligations
BEGIN SELECT RAISE(ABORT, 'an obligation is never deleted (INC-4)'); END;
