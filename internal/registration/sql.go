package registration

// The queries of the registration tables, which this package alone owns:
// dossiers (moved forward only, never deleted), dossier_evidence and
// cgu_acceptances (inserted once), download_links (content cleared once
// downloaded) and revocation_requests (marked processed once, never
// deleted). Triggers refuse the rest.

const (
	dossierColumns = `id, kind, ca_id, profile, state, subject, contact, mandate, created_at, created_by, updated_at,
		submitted_at, decided_at, decided_by, reason, serial, issued_at, issued_by, delivered_at, delivery`
	qInsertDossier = `INSERT INTO dossiers (kind, ca_id, profile, state, subject, contact, mandate, created_at, created_by, updated_at)
		VALUES (?, ?, ?, 'draft', ?, ?, ?, ?, ?, ?) RETURNING id`
	qDossier  = `SELECT ` + dossierColumns + ` FROM dossiers WHERE id = ?`
	qDossiers = `SELECT ` + dossierColumns + ` FROM dossiers WHERE (? = '' OR state = ?) AND id > ? ORDER BY id LIMIT ?`
	// A dossier with the CGU version its applicant accepted last, for issuance.
	qDossierToIssue = `SELECT ` + dossierColumns + `, (SELECT document FROM cgu_acceptances c WHERE c.dossier_id = dossiers.id
		ORDER BY c.id DESC LIMIT 1) FROM dossiers WHERE id = ?`
	qDossierSerial = `SELECT ` + dossierColumns + ` FROM dossiers WHERE serial = ?`
	qUpdateDraft   = `UPDATE dossiers SET subject = ?, contact = ?, mandate = ?, updated_at = ? WHERE id = ? AND state = 'draft'`
	qSubmit        = `UPDATE dossiers SET state = 'submitted', submitted_at = ?, updated_at = ? WHERE id = ? AND state = 'draft'`
	qDecide        = `UPDATE dossiers SET state = ?, decided_at = ?, decided_by = ?, reason = ?, updated_at = ?
		WHERE id = ? AND state = 'submitted'`
	qClaimSerial = `UPDATE dossiers SET state = 'issued', serial = ?, issued_at = ?, issued_by = ?, secret_hash = ?, delivery = ?, updated_at = ?
		WHERE id = ? AND state = 'validated'`
	qDeliver = `UPDATE dossiers SET state = 'delivered', delivered_at = ?, updated_at = ?,
		delivery = CASE WHEN delivery IS NULL OR delivery = '' THEN ? ELSE delivery END WHERE id = ? AND state = 'issued'`

	qSecret       = `SELECT secret_hash, secret_failures, secret_failed_at FROM dossiers WHERE id = ?`
	qSecretFailed = `UPDATE dossiers SET secret_failures = secret_failures + 1, secret_failed_at = ? WHERE id = ?`
	qSecretReset  = `UPDATE dossiers SET secret_failures = 0 WHERE id = ?`

	qInsertEvidence = `INSERT INTO dossier_evidence (dossier_id, doc_type, doc_number, issuing_country, expires, method, added_at, added_by,
		scan_leaf, scan_sha256, scan_type, scan_size) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`
	qEvidence = `SELECT id, doc_type, doc_number, issuing_country, expires, method, added_at, added_by, scan_leaf, scan_sha256, scan_type, scan_size
		FROM dossier_evidence WHERE dossier_id = ? ORDER BY id`

	qInsertCGU = `INSERT INTO cgu_acceptances (dossier_id, document, sha256, url, how, accepted_at, recorded_by, proof_leaf)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`
	qLatestCGU = `SELECT document, sha256, url, how, accepted_at, recorded_by, proof_leaf FROM cgu_acceptances
		WHERE dossier_id = ? ORDER BY id DESC LIMIT 1`

	qInsertLink = `INSERT INTO download_links (token_hash, dossier_id, content, created_at, expires_at) VALUES (?, ?, ?, ?, ?)`
	qLink       = `SELECT dossier_id, content, expires_at, downloaded_at FROM download_links WHERE token_hash = ?`
	qLinkUsed   = `UPDATE download_links SET content = NULL, downloaded_at = ? WHERE token_hash = ? AND downloaded_at IS NULL`

	requestColumns = `id, dossier_id, serial, source, requester, reason, note, received_at, due_at, state, checked_by, done_at, decision`
	qInsertRequest = `INSERT INTO revocation_requests (dossier_id, serial, source, requester, reason, note, received_at, due_at, state)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'received') RETURNING id`
	qRequest      = `SELECT ` + requestColumns + ` FROM revocation_requests WHERE id = ?`
	qRequests     = `SELECT ` + requestColumns + ` FROM revocation_requests WHERE (? = '' OR state = ?) ORDER BY due_at, id LIMIT ?`
	qCheckRequest = `UPDATE revocation_requests SET state = ?, checked_by = ?, done_at = ?, decision = ? WHERE id = ? AND state = 'received'`
)

// The queries of the officers' console (internal/server console*.go):
// search, all of a dossier's CGU acceptances, its history.
const (
	qSearch = `SELECT ` + dossierColumns + ` FROM dossiers WHERE (? = '' OR state = ?) AND (? = '' OR profile = ?)
		AND (? = '' OR LOWER(subject) LIKE ? ESCAPE '!' OR LOWER(contact) LIKE ? ESCAPE '!') ORDER BY id DESC LIMIT ?`
	qAcceptances = `SELECT document, sha256, url, how, accepted_at, recorded_by, proof_leaf FROM cgu_acceptances
		WHERE dossier_id = ? ORDER BY id`
)

// qRevokedHolders reads the dossiers of the certificates revoked by the
// last revocation with reason (of caID, or of any CA when caID is ""):
// one procedure's revocation stamps every certificate with the same
// second, the latest one with that reason, in the transaction that
// revoked them.
const qRevokedHolders = `SELECT d.id, d.serial, d.contact FROM dossiers d JOIN certificates c ON c.serial = d.serial
	WHERE c.revocation_reason = ? AND (? = '' OR c.ca_id = ?)
	  AND c.revoked_at = (SELECT MAX(revoked_at) FROM certificates WHERE revocation_reason = ? AND (? = '' OR ca_id = ?))
	ORDER BY d.id`
