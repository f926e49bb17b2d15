package quorum

// quorum owns the tables key_splits and key_shares (who holds which share of
// which key, and each share's failed presentations: KEY-2), key_backups and
// key_imports (KEY-4, KEY-6). It writes no column of certificates or cas.
//
// The package's queries, written once with '?' placeholders for both engines.
const (
	qInsertSplit = `INSERT INTO key_splits (key_id, set_id, threshold, total, created_at) VALUES (?, ?, ?, ?, ?)`
	qSplit       = `SELECT set_id, threshold, total FROM key_splits WHERE key_id = ?`
	qDeleteSplit = `DELETE FROM key_splits WHERE key_id = ?`

	qInsertShare     = `INSERT INTO key_shares (key_id, holder, x, carrier, created_at) VALUES (?, ?, ?, ?, ?)`
	qShares          = `SELECT holder, x, carrier, failures, locked_at, revoked_at FROM key_shares WHERE key_id = ? ORDER BY x`
	qHolders         = `SELECT holder FROM key_shares WHERE key_id = ? ORDER BY x`
	qCountLiveShares = `SELECT COUNT(*) FROM key_shares WHERE key_id = ? AND revoked_at IS NULL`
	qDeleteShares    = `DELETE FROM key_shares WHERE key_id = ?`
	qRevokeShares    = `UPDATE key_shares SET revoked_at = ? WHERE key_id = ? AND revoked_at IS NULL`
	// Failed presentations count per share; a locked share stays locked
	// until it is unlocked (KEY-2).
	qShareFailed    = `UPDATE key_shares SET failures = failures + 1 WHERE key_id = ? AND holder = ?`
	qShareFailures  = `SELECT failures FROM key_shares WHERE key_id = ? AND holder = ?`
	qLockShare      = `UPDATE key_shares SET locked_at = ? WHERE key_id = ? AND holder = ? AND locked_at IS NULL`
	qShareSucceeded = `UPDATE key_shares SET failures = 0 WHERE key_id = ? AND holder = ? AND locked_at IS NULL`
	qUnlockShare    = `UPDATE key_shares SET failures = 0, locked_at = NULL WHERE key_id = ? AND holder = ? AND revoked_at IS NULL`

	backupColumns = `id, ca_id, key_label, mechanism, location, sha256, created_at, created_by, approval_id, approvers, status, destroyed_at, destroyed_by`

	qInsertBackup = `INSERT INTO key_backups (id, ca_id, key_label, mechanism, location, sha256, created_at, created_by, approval_id, approvers)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`
	qBackupIDs   = `SELECT id FROM key_backups WHERE ca_id = ?`
	qBackupsOfCA = `SELECT ` + backupColumns + ` FROM key_backups WHERE ca_id = ? ORDER BY created_at, id`
	qBackupByID  = `SELECT ` + backupColumns + ` FROM key_backups WHERE id = ?`
	// A status changes only from the one read: compare and set.
	qSetBackupStatus = `UPDATE key_backups SET status = ?, destroyed_at = ?, destroyed_by = ? WHERE id = ? AND status = ?`
	qDeleteBackup    = `DELETE FROM key_backups WHERE id = ?`
	// An approval is used once (ROLE-3): by one backup, or one import.
	qBackupsByApproval = `SELECT COUNT(*) FROM key_backups WHERE approval_id = ?`
	qImportsByApproval = `SELECT COUNT(*) FROM key_imports WHERE approval_id = ?`
	qInsertImport      = `INSERT INTO key_imports (approval_id, backup_id, ca_id, imported_at, imported_by, approvers) VALUES (?, ?, ?, ?, ?, ?)`
	qImportsOfBackup   = `SELECT COUNT(*) FROM key_imports WHERE backup_id = ?`
)
