package archive

// The queries of the archive tables, which this package alone owns
// (migrations 0012_archive.sql: triggers keep items immutable until their
// retention date and the tree, heads, stamps and purges append-only).

const (
	// The row lock on archive_state orders ingests across nodes.
	qGrow     = `UPDATE archive_state SET size = size + ? WHERE id = 1 RETURNING size`
	qSize     = `SELECT size FROM archive_state WHERE id = 1`
	qLockSize = `UPDATE archive_state SET size = size WHERE id = 1 RETURNING size`

	qPutObject = `INSERT INTO archive_objects (sha256, size, content, retain_until) VALUES (?, ?, ?, ?)
		ON CONFLICT (sha256) DO UPDATE SET retain_until = excluded.retain_until
		WHERE excluded.retain_until > archive_objects.retain_until`
	qObject = `SELECT content FROM archive_objects WHERE sha256 = ?`

	itemColumns = `leaf, kind, source, event_at, added_at, added_by, media_type, size, sha256, class, object, retain_until`
	qInsertItem = `INSERT INTO archive_items (` + itemColumns + `) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`
	qItem       = `SELECT ` + itemColumns + ` FROM archive_items WHERE leaf = ?`
	qItemsFrom  = `SELECT ` + itemColumns + ` FROM archive_items WHERE leaf >= ? ORDER BY leaf LIMIT ?`
	qHasSource  = `SELECT 1 FROM archive_items WHERE source = ? AND sha256 = ? LIMIT 1`
	// A verification batch: the items of a leaf range with their stored
	// bytes and token, in one query.
	qVerifyBatch = `SELECT i.leaf, i.kind, i.source, i.event_at, i.added_at, i.added_by, i.media_type, i.size, i.sha256, i.class,
		i.object, i.retain_until, o.content, s.token FROM archive_items i
		LEFT JOIN archive_objects o ON o.sha256 = i.object
		LEFT JOIN archive_stamps s ON s.what = 'item' AND s.id = i.leaf
		WHERE i.leaf >= ? AND i.leaf < ? ORDER BY i.leaf`
	qPurgedRange = `SELECT leaf FROM archive_purges WHERE leaf >= ? AND leaf < ?`
	qPurged      = `SELECT purged_at FROM archive_purges WHERE leaf = ?`

	qTreeNode   = `SELECT hash FROM archive_tree WHERE level = ? AND idx = ?`
	qInsertNode = `INSERT INTO archive_tree (level, idx, hash) VALUES (?, ?, ?)`
	qLeaves     = `SELECT idx, hash FROM archive_tree WHERE level = 0 AND idx >= ? ORDER BY idx LIMIT ?`

	headColumns = `number, size, root, at, body, signature`
	qLatestHead = `SELECT ` + headColumns + ` FROM archive_heads ORDER BY number DESC LIMIT 1`
	qHead       = `SELECT ` + headColumns + ` FROM archive_heads WHERE number = ?`
	qHeadsFrom  = `SELECT ` + headColumns + ` FROM archive_heads WHERE number >= ? ORDER BY number LIMIT ?`
	qInsertHead = `INSERT INTO archive_heads (` + headColumns + `) VALUES (?, ?, ?, ?, ?, ?)`

	qInsertStamp   = `INSERT INTO archive_stamps (what, id, at, token) VALUES (?, ?, ?, ?) ON CONFLICT (what, id) DO NOTHING`
	qStamp         = `SELECT token FROM archive_stamps WHERE what = ? AND id = ?`
	qUnstampedItem = `SELECT i.leaf, i.sha256 FROM archive_items i
		WHERE NOT EXISTS (SELECT 1 FROM archive_stamps s WHERE s.what = 'item' AND s.id = i.leaf) ORDER BY i.leaf LIMIT ?`
	qUnstampedHead = `SELECT h.number, h.body FROM archive_heads h
		WHERE NOT EXISTS (SELECT 1 FROM archive_stamps s WHERE s.what = 'head' AND s.id = h.number) ORDER BY h.number LIMIT ?`
	qCountUnstamped = `SELECT COUNT(*), COALESCE(MIN(i.added_at), '') FROM archive_items i
		WHERE NOT EXISTS (SELECT 1 FROM archive_stamps s WHERE s.what = 'item' AND s.id = i.leaf)`

	qQueue   = `INSERT INTO archive_replicas (target, what, leaf, queued_at) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING`
	qPending = `SELECT what, leaf, queued_at FROM archive_replicas WHERE target = ? AND done_at IS NULL
		ORDER BY queued_at, what, leaf LIMIT ?`
	qDone      = `UPDATE archive_replicas SET done_at = ?, attempts = attempts + 1, last_error = '' WHERE target = ? AND what = ? AND leaf = ?`
	qFailed    = `UPDATE archive_replicas SET attempts = attempts + 1, last_error = ? WHERE target = ? AND what = ? AND leaf = ?`
	qLag       = `SELECT COUNT(*), COALESCE(MIN(queued_at), '') FROM archive_replicas WHERE target = ? AND done_at IS NULL`
	qLastError = `SELECT last_error FROM archive_replicas WHERE target = ? AND done_at IS NULL AND last_error <> '' ORDER BY queued_at LIMIT 1`

	qCountItems  = `SELECT COUNT(*), COALESCE(SUM(size), 0) FROM archive_items`
	qCountByKind = `SELECT kind, COUNT(*) FROM archive_items GROUP BY kind ORDER BY kind`

	qExpired     = `SELECT leaf FROM archive_items WHERE retain_until < ? ORDER BY leaf LIMIT ?`
	qInsertPurge = `INSERT INTO archive_purges (leaf, purged_at, purged_by) VALUES (?, ?, ?)`
	qDeleteItem  = `DELETE FROM archive_items WHERE leaf = ?`
	qDeleteQueue = `DELETE FROM archive_replicas WHERE what = 'item' AND leaf = ?`
	qOrphans     = `SELECT o.sha256 FROM archive_objects o WHERE o.retain_until < ?
		AND NOT EXISTS (SELECT 1 FROM archive_items i WHERE i.object = o.sha256) LIMIT ?`
	qDeleteObject = `DELETE FROM archive_objects WHERE sha256 = ?`
)
