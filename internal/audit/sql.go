package audit

// The journal's queries, written against the subset SQLite and PostgreSQL
// share, with '?' placeholders (store rebinds them).

const (
	// An insert of n events is the head, then n rows joined by commas
	// (insertStatement).
	qInsertEventsHead = `INSERT INTO audit_events (seq, at, actor, role, action, object, details, prev_hash, hash) VALUES `
	qInsertEventRow   = `(?, ?, ?, ?, ?, ?, ?, ?, ?)`

	sqlHead          = `SELECT seq, hash FROM audit_head WHERE id = 1`
	sqlHeadForUpdate = `SELECT seq, hash FROM audit_head WHERE id = 1 FOR UPDATE`
	sqlSetHead       = `UPDATE audit_head SET seq = ?, hash = ? WHERE id = 1`

	eventColumns = `seq, at, actor, role, action, object, details, prev_hash, hash`

	// The archive and the live journal as one sequence, read in one
	// statement so that it sees one snapshot even while the retention mover
	// moves events from one to the other. Both engines merge the two
	// primary-key orders without sorting.
	// The last checkpoint covering an event at or before seq (AUD-4: a
	// moved segment's lines start after it).
	sqlCheckpointBefore = `SELECT COALESCE(MAX(id), 0) FROM audit_checkpoints WHERE seq <= ?`
	sqlReadAfter        = `SELECT ` + eventColumns + ` FROM audit_archive WHERE seq > ?
		UNION ALL SELECT ` + eventColumns + ` FROM audit_events WHERE seq > ?
		ORDER BY seq LIMIT ?`
	sqlReadFrom = `SELECT ` + eventColumns + ` FROM audit_archive WHERE seq > ?
		UNION ALL SELECT ` + eventColumns + ` FROM audit_events WHERE seq > ?
		ORDER BY seq`
	sqlReadRange = `SELECT ` + eventColumns + ` FROM audit_archive WHERE seq > ? AND seq <= ?
		UNION ALL SELECT ` + eventColumns + ` FROM audit_events WHERE seq > ? AND seq <= ?
		ORDER BY seq`
	// The same on SQLite, packed into four columns: the driver's cost is
	// per column, so this reads events about a quarter faster. p1 and p2
	// hold the lengths of at, actor, role and action, object, prev_hash
	// in 21-bit slots; the blob holds every field and the hash, in order
	// (see stream.packed). Anything that does not unpack is read again
	// with sqlReadOne.
	packedColumns = `seq,
		octet_length(at) | (octet_length(actor) << 21) | (octet_length(role) << 42),
		octet_length(action) | (octet_length(object) << 21) | (octet_length(prev_hash) << 42),
		CAST(concat(at, actor, role, action, object, details, prev_hash, hash) AS BLOB)`
	sqlPackedFrom = `SELECT ` + packedColumns + ` FROM audit_archive WHERE seq > ?
		UNION ALL SELECT ` + packedColumns + ` FROM audit_events WHERE seq > ?
		ORDER BY seq`
	sqlPackedRange = `SELECT ` + packedColumns + ` FROM audit_archive WHERE seq > ? AND seq <= ?
		UNION ALL SELECT ` + packedColumns + ` FROM audit_events WHERE seq > ? AND seq <= ?
		ORDER BY seq`
	sqlReadOne = `SELECT ` + eventColumns + ` FROM audit_archive WHERE seq = ?
		UNION ALL SELECT ` + eventColumns + ` FROM audit_events WHERE seq = ?`
	// sqlReadLiveFrom is sqlReadFrom for a database from before migration 4.
	// The newest live event of an action: the self-audit's "when was the
	// last backup" (COMP-1). The primary key is walked from its end.
	sqlLatestOf     = `SELECT ` + eventColumns + ` FROM audit_events WHERE action = ? ORDER BY seq DESC LIMIT 1`
	sqlReadLiveFrom = `SELECT ` + eventColumns + ` FROM audit_events WHERE seq > ? ORDER BY seq`

	sqlEventAt = `SELECT at FROM audit_archive WHERE seq = ? UNION ALL SELECT at FROM audit_events WHERE seq = ?`

	checkpointColumns   = `id, seq, hash, at, kind, archived_through, key_id, prev_digest, signature`
	sqlCheckpoints      = `SELECT ` + checkpointColumns + ` FROM audit_checkpoints ORDER BY id`
	sqlLastCheckpoint   = `SELECT ` + checkpointColumns + ` FROM audit_checkpoints ORDER BY id DESC LIMIT 1`
	sqlInsertCheckpoint = `INSERT INTO audit_checkpoints (` + checkpointColumns + `) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`
	sqlCheckpointsAfter = `SELECT ` + checkpointColumns + ` FROM audit_checkpoints WHERE id > ? ORDER BY id LIMIT 1000`
	sqlArchivedThrough  = `SELECT COALESCE(MAX(archived_through), 0) FROM audit_checkpoints WHERE kind = 'archive'`

	keyColumns   = `key_id, algorithm, public_key, label, registered_at, seq`
	sqlKeys      = `SELECT ` + keyColumns + ` FROM audit_keys ORDER BY seq`
	sqlKey       = `SELECT ` + keyColumns + ` FROM audit_keys WHERE key_id = ?`
	sqlInsertKey = `INSERT INTO audit_keys (` + keyColumns + `) VALUES (?, ?, ?, ?, ?, ?)`

	// The retention mover (AUD-4).
	sqlLiveSeqAt      = `SELECT seq, at FROM audit_events WHERE seq > ? ORDER BY seq LIMIT ?`
	sqlArchiveCopy    = `INSERT INTO audit_archive (` + eventColumns + `) SELECT ` + eventColumns + ` FROM audit_events WHERE seq > ? AND seq <= ?`
	sqlLiveDelete     = `DELETE FROM audit_events WHERE seq > ? AND seq <= ?`
	sqlLiveFirst      = `SELECT COALESCE(MIN(seq), 0) FROM audit_events`
	sqlCountArchived  = `SELECT COUNT(*) FROM audit_archive`
	sqlCountLive      = `SELECT COUNT(*) FROM audit_events`
	sqlArchiveVersion = `SELECT COUNT(*) FROM schema_migrations WHERE version >= 4`

	// Cursors of the syslog forwarder and the analysis.
	sqlCursor       = `SELECT seq FROM audit_cursors WHERE name = ?`
	sqlCursorCreate = `INSERT INTO audit_cursors (name, seq, updated_at) VALUES (?, 0, ?) ON CONFLICT (name) DO NOTHING`
	// Compare-and-set: of two nodes that moved the same cursor, one wins.
	sqlCursorMove = `UPDATE audit_cursors SET seq = ?, updated_at = ? WHERE name = ? AND seq = ?`
	sqlCursorSet  = `UPDATE audit_cursors SET seq = ?, updated_at = ? WHERE name = ?`
	// An export mark only moves forward (exportmark.go).
	sqlCursorForward = `UPDATE audit_cursors SET seq = ?, updated_at = ? WHERE name = ? AND seq < ?`
	sqlCursors       = `SELECT name, seq, updated_at FROM audit_cursors ORDER BY name`

	// Alerts (AUD-6).
	sqlInsertAlert = `INSERT INTO audit_alerts (seq, at, rule, message, details) VALUES (?, ?, ?, ?, ?)`
	sqlAlerts      = `SELECT seq, at, rule, message, details FROM audit_alerts WHERE at >= ? ORDER BY seq LIMIT ?`

	// Configuration versions (SYS-3).
	sqlLastConfig   = `SELECT version, sha256, snapshot FROM audit_config_versions ORDER BY version DESC LIMIT 1`
	sqlInsertConfig = `INSERT INTO audit_config_versions (version, at, sha256, snapshot) VALUES (?, ?, ?, ?)`
)
