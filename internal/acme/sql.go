package acme

const (
	qInsertEAB = `INSERT INTO acme_eab_keys (kid, hmac_key, dossier_id, ca_id, profile, dns_names, created_at, created_by)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`
	qEAB = `SELECT kid, hmac_key, dossier_id, ca_id, profile, dns_names, created_at, created_by, account_id, revoked_at
		FROM acme_eab_keys WHERE kid = ?`
	qEABs = `SELECT kid, hmac_key, dossier_id, ca_id, profile, dns_names, created_at, created_by, account_id, revoked_at
		FROM acme_eab_keys ORDER BY created_at, kid`
	qRevokeEAB = `UPDATE acme_eab_keys SET revoked_at = ?, revoked_by = ? WHERE kid = ? AND revoked_at IS NULL`
	qBindEAB   = `UPDATE acme_eab_keys SET account_id = ? WHERE kid = ? AND account_id IS NULL AND revoked_at IS NULL`

	qInsertAccount = `INSERT INTO acme_accounts (directory, thumbprint, jwk, status, contact, eab_kid, created_at, updated_at)
		VALUES (?, ?, ?, 'valid', ?, ?, ?, ?) RETURNING id`
	qAccountCols    = `SELECT id, directory, thumbprint, jwk, status, contact, eab_kid, created_at FROM acme_accounts`
	qAccount        = qAccountCols + ` WHERE id = ?`
	qAccountByThumb = qAccountCols + ` WHERE thumbprint = ?`
	qUpdateContact  = `UPDATE acme_accounts SET contact = ?, updated_at = ? WHERE id = ? AND status = 'valid'`
	qDeactivate     = `UPDATE acme_accounts SET status = 'deactivated', updated_at = ? WHERE id = ? AND status = 'valid'`
	qChangeKey      = `UPDATE acme_accounts SET thumbprint = ?, jwk = ?, updated_at = ? WHERE id = ? AND thumbprint = ? AND status = 'valid'`
	qInsertOrder    = `INSERT INTO acme_orders (account_id, status, identifiers, expires_at, created_at, updated_at) VALUES (?, 'pending', ?, ?, ?, ?) RETURNING id`
	qOrder          = `SELECT id, account_id, status, identifiers, expires_at, error, serial, replaces FROM acme_orders WHERE id = ?`
	qOrderBySerial  = `SELECT id, account_id, status, identifiers, expires_at, error, serial, replaces FROM acme_orders WHERE serial = ?`
	qOrdersOf       = `SELECT id FROM acme_orders WHERE account_id = ? ORDER BY id`
	qClaimOrder     = `UPDATE acme_orders SET status = 'processing', serial = ?, updated_at = ? WHERE id = ? AND status = 'ready'`
	qOrderStatus    = `UPDATE acme_orders SET status = ?, error = ?, updated_at = ? WHERE id = ? AND status = ?`
	qInsertAuthz    = `INSERT INTO acme_authorizations (order_id, account_id, identifier, status, expires_at, updated_at) VALUES (?, ?, ?, 'pending', ?, ?) RETURNING id`
	qAuthz          = `SELECT id, order_id, account_id, identifier, status, expires_at FROM acme_authorizations WHERE id = ?`
	qAuthzOfOrder   = `SELECT id, order_id, account_id, identifier, status, expires_at FROM acme_authorizations WHERE order_id = ? ORDER BY id`
	qAuthzStatus    = `UPDATE acme_authorizations SET status = ?, updated_at = ? WHERE id = ? AND status = ?`
	qReusableAuthz  = `SELECT a.id, c.type, c.validated_at FROM acme_authorizations a JOIN acme_challenges c ON c.authz_id = a.id
		WHERE a.account_id = ? AND a.identifier = ? AND a.status = 'valid' AND c.status = 'valid' AND c.validated_at >= ?
		ORDER BY a.id DESC LIMIT 1`
	qInsertValidAuthz     = `INSERT INTO acme_authorizations (order_id, account_id, identifier, status, expires_at, updated_at) VALUES (?, ?, ?, 'valid', ?, ?) RETURNING id`
	qInsertValidChallenge = `INSERT INTO acme_challenges (authz_id, type, token, status, validated_at) VALUES (?, ?, ?, 'valid', ?)`
	qInsertChallenge      = `INSERT INTO acme_challenges (authz_id, type, token, status) VALUES (?, ?, ?, 'pending')`
	qChallengeCols        = `SELECT id, authz_id, type, token, status, validated_at, error FROM acme_challenges`
	qChallenge            = qChallengeCols + ` WHERE id = ?`
	qChallengesOf         = qChallengeCols + ` WHERE authz_id = ? ORDER BY id`
	qChallengeOutcome     = `UPDATE acme_challenges SET status = ?, validated_at = ?, error = ? WHERE id = ? AND status = 'pending'`

	// ACME Renewal Information (ari.go): the order, not invalid, that
	// replaces a certificate (a pending or ready order past its expiry is
	// invalid).
	qReplacingOrder = `SELECT id FROM acme_orders WHERE replaces = ? AND status <> 'invalid'
		AND NOT (status IN ('pending', 'ready') AND expires_at < ?) ORDER BY id LIMIT 1`
	qSetReplaces   = `UPDATE acme_orders SET replaces = ? WHERE id = ?`
	qOrderReplaces = `SELECT replaces FROM acme_orders WHERE id = ?`

	// Rate limits (ratelimit.go): each a count that stops at the limit
	// (LIMIT ?), so that its cost is bounded by the limit whatever the
	// rows, and the oldest time counted, read when the limit is reached.
	qAccountOrdersSince = ` FROM acme_orders WHERE account_id = ? AND created_at >= ?`
	qCountAccountOrders = `SELECT COUNT(*) FROM (SELECT id` + qAccountOrdersSince + ` LIMIT ?) w`
	qOldestAccountOrder = `SELECT MIN(created_at)` + qAccountOrdersSince

	qIdentifierCertsSince = ` FROM acme_authorizations a JOIN acme_orders o ON o.id = a.order_id
		WHERE a.identifier = ? AND o.serial IS NOT NULL AND o.updated_at >= ?`
	qCountIdentifierCerts = `SELECT COUNT(*) FROM (SELECT DISTINCT o.id` + qIdentifierCertsSince + ` LIMIT ?) w`
	qOldestIdentifierCert = `SELECT MIN(o.updated_at)` + qIdentifierCertsSince

	qFailedValidationsSince = ` FROM acme_challenges c JOIN acme_authorizations a ON a.id = c.authz_id
		WHERE a.account_id = ? AND c.status = 'invalid' AND c.validated_at >= ?`
	qCountFailedValidations = `SELECT COUNT(*) FROM (SELECT c.id` + qFailedValidationsSince + ` LIMIT ?) w`
	qOldestFailedValidation = `SELECT MIN(c.validated_at)` + qFailedValidationsSince
)
