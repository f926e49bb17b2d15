package publication

// The queries of the publication tables, which this package alone owns:
// publication_files (content-addressed, append-only), publication_documents
// (a version is inserted once and may only be marked withdrawn, both
// enforced by triggers) and publication_manifests (append-only).

const (
	qInsertFile = `INSERT INTO publication_files (sha256, media_type, size, content, stored_at, stored_by)
		VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (sha256) DO NOTHING`
	qFileMeta    = `SELECT media_type, size FROM publication_files WHERE sha256 = ?`
	qFileContent = `SELECT media_type, content FROM publication_files WHERE sha256 = ?`

	qInsertDocument = `INSERT INTO publication_documents (id, kind, ident, version, lang, title, effective_at, media_type,
		sha256, size, published_at, published_by, approval_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`
	documentColumns = `id, kind, ident, version, lang, title, effective_at, media_type, sha256, size,
		published_at, published_by, approval_id, withdrawn_at, withdrawn_by, withdrawn_reason, withdrawal_id`
	qDocument  = `SELECT ` + documentColumns + ` FROM publication_documents WHERE id = ?`
	qDocuments = `SELECT ` + documentColumns + ` FROM publication_documents ORDER BY kind, ident, lang, published_at, id`
	// The versions of one document in one language, for its standing.
	qDocumentsOf = `SELECT ` + documentColumns + ` FROM publication_documents WHERE kind = ? AND ident = ? AND lang = ?`
	qWithdraw    = `UPDATE publication_documents SET withdrawn_at = ?, withdrawn_by = ?, withdrawn_reason = ?, withdrawal_id = ?
		WHERE id = ? AND withdrawn_at IS NULL`
	// The newest change, so a node sees another's publication at once.
	qDocumentsVersion = `SELECT COUNT(*), COALESCE(MAX(published_at), ''), COALESCE(MAX(withdrawn_at), '') FROM publication_documents`

	qInsertManifest = `INSERT INTO publication_manifests (number, created_at, digest, body, signature) VALUES (?, ?, ?, ?, ?)`
	qLatestManifest = `SELECT number, created_at, digest, body, signature FROM publication_manifests ORDER BY number DESC LIMIT 1`
	qManifest       = `SELECT number, created_at, digest, body, signature FROM publication_manifests WHERE number = ?`
)
