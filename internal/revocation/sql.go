package revocation

import (
	"strings"
	"time"

	"github.com/sceau/sceau/internal/store"
)

// revocation owns, in the certificates table, revoked_at and
// revocation_reason, and every ocsp_response/ocsp_this_update/ocsp_next_update
// after the first one, which ca writes at issuance (see internal/ca/sql.go). It owns the
// crl_numbers and crls tables.
//
// The package's queries, written once with '?' placeholders for both engines.
const (
	// CRL numbers only grow (CRL-2): one row per CA, bumped in the CRL's
	// own transaction.
	qNextCRLNumber = `INSERT INTO crl_numbers (ca_id, last_number) VALUES (?, 1)
		ON CONFLICT (ca_id) DO UPDATE SET last_number = crl_numbers.last_number + 1
		RETURNING last_number`
	qLastCRLNumber  = `SELECT last_number FROM crl_numbers WHERE ca_id = ?`
	qInsertCRLShard = `INSERT INTO crls (ca_id, shard, number, this_update, next_update, entries)
		VALUES (?, ?, ?, ?, ?, ?)`
	qSetCRLDER = `UPDATE crls SET der = ? WHERE ca_id = ? AND number = ? AND shard = ?`
	qLatestCRL = `SELECT number, this_update, next_update, entries, der FROM crls
		WHERE ca_id = ? AND shard = ? AND der IS NOT NULL ORDER BY number DESC LIMIT 1`
	// END-1: the latest signed full CRL's number and nextUpdate.
	qLatestCRLNext   = `SELECT number, next_update FROM crls WHERE ca_id = ? AND shard = 0 AND der IS NOT NULL ORDER BY number DESC LIMIT 1`
	qCountPartitions = `SELECT COUNT(*) FROM crls WHERE ca_id = ? AND number = ? AND shard > 0`

	qCountRevoked   = `SELECT COUNT(*) FROM certificates WHERE ca_id = ? AND revoked_at IS NOT NULL`
	qRevokedEntries = `SELECT serial, revoked_at, revocation_reason FROM certificates
		WHERE ca_id = ? AND revoked_at IS NOT NULL ORDER BY revoked_at`
	// A CA owes a CRL when its newest revocation is newer than its CRL (CA-3).
	qNewestRevocation = `SELECT MAX(revoked_at) FROM certificates WHERE ca_id = ? AND revoked_at IS NOT NULL`

	qStatus = `SELECT ca_id, status, not_after, revoked_at, revocation_reason, ocsp_response, ocsp_this_update, ocsp_next_update
		FROM certificates WHERE serial = ?`
	// Revocation is final: a revoked row is never revoked again.
	qRevoke = `UPDATE certificates SET revoked_at = ?, revocation_reason = ?, ocsp_response = ?, ocsp_this_update = ?, ocsp_next_update = ?
		WHERE serial = ? AND revoked_at IS NULL`
	// CONT-1: a revocation recreated from the journal; its OCSP response
	// is signed on demand, then by the refresher.
	qRecoverRevocation = `UPDATE certificates SET revoked_at = ?, revocation_reason = ?, ocsp_response = NULL, ocsp_this_update = NULL,
		ocsp_next_update = NULL WHERE serial = ? AND revoked_at IS NULL`
	qCountLive = `SELECT COUNT(*) FROM certificates WHERE ca_id = ? AND revoked_at IS NULL AND not_after > ?`
	// A mass revocation: every live certificate of a CA in one statement;
	// the pre-signed OCSP responses are dropped for the refresher.
	qRevokeAllLive = `UPDATE certificates SET revoked_at = ?, revocation_reason = ?, ocsp_response = NULL, ocsp_this_update = NULL,
		ocsp_next_update = NULL WHERE ca_id = ? AND revoked_at IS NULL AND not_after > ? RETURNING serial`

	// A refreshed response replaces the stored one only if the status did
	// not change meanwhile.
	qRefreshGoodOCSP = `UPDATE certificates SET ocsp_response = ?, ocsp_this_update = ?, ocsp_next_update = ?
		WHERE serial = ? AND revoked_at IS NULL`
	qRefreshRevokedOCSP = `UPDATE certificates SET ocsp_response = ?, ocsp_this_update = ?, ocsp_next_update = ?
		WHERE serial = ? AND revoked_at IS NOT NULL`
)

// INC-3: the live certificates a selector reads, page by page in serial
// order; selectWhere adds what the columns decide.
const (
	qSelectCount   = `SELECT COUNT(*) FROM certificates`
	qSelectPage    = `SELECT serial, ca_id, profile, subject, not_after, cert_der FROM certificates`
	qSelectPageEnd = ` AND serial > ? ORDER BY serial LIMIT ?`
)

// selectWhere is the part of the selection the columns decide.
func selectWhere(sel Selector, now time.Time) (string, []any) {
	where := ` WHERE status = 'issued' AND revoked_at IS NULL AND not_after > ?`
	args := []any{store.FormatTime(now)}
	if sel.CA != "" {
		where += ` AND ca_id = ?`
		args = append(args, sel.CA)
	}
	if sel.Profile != "" {
		where += ` AND profile = ?`
		args = append(args, sel.Profile)
	}
	if !sel.IssuedBefore.IsZero() {
		where += ` AND issued_at < ?`
		args = append(args, store.FormatTime(sel.IssuedBefore))
	}
	return where, args
}

// qMassRevoke revokes n serials at once; their OCSP responses are dropped, to
// be signed again by the refresher.
func qMassRevoke(n int) string {
	return `UPDATE certificates SET revoked_at = ?, revocation_reason = ?, ocsp_response = NULL, ocsp_this_update = NULL, ocsp_next_update = NULL
		WHERE revoked_at IS NULL AND serial IN (` + marks(n) + `)`
}

// qStaleOCSP lists, most urgent first, the certificates of n CAs whose
// stored OCSP response is missing or expires before a horizon.
func qStaleOCSP(n int) string {
	return `SELECT serial FROM certificates
		WHERE (ocsp_next_update IS NULL OR ocsp_next_update < ?) AND (status = 'issued' OR revoked_at IS NOT NULL)
		AND ca_id IN (` + marks(n) + `)
		ORDER BY COALESCE(ocsp_next_update, '') LIMIT ?`
}

// marks is n placeholders, n ≥ 1.
func marks(n int) string {
	return "?" + strings.Repeat(", ?", n-1)
}
