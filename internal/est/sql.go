package est

// The queries of the EST tables, which this package alone owns:
// est_credentials (made, revoked, never deleted) and est_enrollments
// (inserted once, in the transaction that reserves the serial).
const (
	credentialColumns = `username, secret_hash, dossier_id, ca_id, profile, subject, created_at, created_by, revoked_at`
	qInsertCredential = `INSERT INTO est_credentials (username, secret_hash, dossier_id, ca_id, profile, subject, created_at, created_by)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`
	qCredential       = `SELECT ` + credentialColumns + ` FROM est_credentials WHERE username = ?`
	qCredentials      = `SELECT ` + credentialColumns + ` FROM est_credentials ORDER BY created_at, username`
	qRevokeCredential = `UPDATE est_credentials SET revoked_at = ?, revoked_by = ? WHERE username = ? AND revoked_at IS NULL`

	qInsertEnrollment = `INSERT INTO est_enrollments (serial, username, dossier_id, kind, renews, created_at) VALUES (?, ?, ?, ?, ?, ?)`
	qEnrollment       = `SELECT username, dossier_id, kind, renews, created_at FROM est_enrollments WHERE serial = ?`
	qEnrollmentsOf    = `SELECT serial FROM est_enrollments WHERE username = ? ORDER BY id`
)
