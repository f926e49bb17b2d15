package ceremony

// The ceremony's queries, written against the subset SQLite and PostgreSQL
// share, with '?' placeholders (store rebinds them).

const (
	keyColumns   = `fingerprint, algorithm, public_key, label, created_at`
	sqlKeys      = `SELECT ` + keyColumns + ` FROM ceremony_keys ORDER BY created_at, fingerprint`
	sqlKeyExists = `SELECT COUNT(*) FROM ceremony_keys WHERE fingerprint = ?`
	sqlInsertKey = `INSERT INTO ceremony_keys (` + keyColumns + `) VALUES (?, ?, ?, ?, ?)`

	transcriptColumns   = `id, name, status, sha256, transcript, signature, signer_key, signer_public_key, created_at`
	sqlInsertTranscript = `INSERT INTO ceremony_transcripts (` + transcriptColumns + `) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`
	sqlTranscript       = `SELECT ` + transcriptColumns + ` FROM ceremony_transcripts WHERE id = ?`
	sqlTranscriptBySum  = `SELECT ` + transcriptColumns + ` FROM ceremony_transcripts WHERE sha256 = ?`
	sqlTranscripts      = `SELECT ` + transcriptColumns + ` FROM ceremony_transcripts ORDER BY created_at, id`
)
