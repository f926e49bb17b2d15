package ca

import (
	"fmt"
)

// Who writes which columns of certificates. ca owns the row's life up to
// issuance: serial, ca_id, profile, subject, status, tbs_der, not_before,
// not_after, reserved_at, then cert_der, issued_at and the first
// ocsp_response/ocsp_this_update/ocsp_next_update in the same transaction
// as the status change (CA-2, record before sign). revocation owns
// revoked_at and revocation_reason, and every later
// ocsp_response/ocsp_this_update/ocsp_next_update (CA-3).
// Neither writes the other's columns; both read all of them.
//
// The package's queries, written once with '?' placeholders for both engines.
const (
	recordColumns = `serial, ca_id, profile, subject, status, not_before, not_after, reserved_at, issued_at, revoked_at, revocation_reason, cert_der`

	qCountCA     = `SELECT COUNT(*) FROM cas WHERE id = ?`
	qCountSerial = `SELECT COUNT(*) FROM certificates WHERE serial = ?`
	qInsertCA    = `INSERT INTO cas (id, parent_id, subject, key_ref, cert_der, not_before, not_after, ocsp_key_ref, ocsp_cert_der, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`
	qCARecord       = `SELECT parent_id, key_ref, cert_der, ocsp_key_ref, ocsp_cert_der FROM cas WHERE id = ?`
	qCACertificates = `SELECT cert_der, ocsp_cert_der FROM cas WHERE id = ?`
	qSetOCSPSigner  = `UPDATE cas SET ocsp_key_ref = ?, ocsp_cert_der = ? WHERE id = ?`
	qTerminatedAt   = `SELECT terminated_at FROM cas WHERE id = ?`
	// END-1: terminations whose last steps are not all done.
	qUnfinishedTerminations = `SELECT id, COALESCE(termination_approval, ''), final_crl_number IS NOT NULL, key_destroyed_at IS NOT NULL
		FROM cas WHERE terminated_at IS NOT NULL AND key_destroyed_at IS NULL ORDER BY id`
	qSetFinalCRL     = `UPDATE cas SET final_crl_number = ? WHERE id = ? AND final_crl_number IS NULL`
	qSetKeyDestroyed = `UPDATE cas SET key_destroyed_at = ? WHERE id = ? AND key_destroyed_at IS NULL`
	qTerminateCA     = `UPDATE cas SET terminated_at = ?, terminated_by = ?, termination_approval = ?
		WHERE id = ? AND terminated_at IS NULL`

	// Record before sign (CA-2): the row exists before the real signature.
	qReserveCertificate = `INSERT INTO certificates (serial, ca_id, profile, subject, status, tbs_der, not_before, not_after, reserved_at)
		VALUES (?, ?, ?, ?, 'reserved', ?, ?, ?, ?)`
	// A reservation revoked meanwhile stays revoked: it is never completed.
	qCompleteCertificate = `UPDATE certificates SET status = 'issued', cert_der = ?, issued_at = ?, ocsp_response = ?,
		ocsp_this_update = ?, ocsp_next_update = ? WHERE serial = ? AND status = 'reserved' AND revoked_at IS NULL`
	// A subordinate CA's certificate is a row of its parent (profile "ca"),
	// so that the parent's CRL and OCSP cover it (CA-3).
	qRecordCACertificate = `INSERT INTO certificates (serial, ca_id, profile, subject, status, tbs_der, cert_der, not_before, not_after,
		reserved_at, issued_at, ocsp_response, ocsp_this_update, ocsp_next_update) VALUES (?, ?, 'ca', ?, 'issued', ?, ?, ?, ?, ?, ?, ?, ?, ?)`
	qRecordBySerial = `SELECT ` + recordColumns + ` FROM certificates WHERE serial = ?`
	// The self-audit lints the last certificate of each profile (COMP-1).
	qLatestOfProfile = `SELECT ` + recordColumns + ` FROM certificates WHERE ca_id = ? AND profile = ? AND cert_der IS NOT NULL
		ORDER BY issued_at DESC LIMIT 1`
	qStaleReservations = `SELECT serial FROM certificates WHERE status = 'reserved' AND revoked_at IS NULL AND reserved_at <= ?`

	// CONT-1: a restore recreates from the journal the rows an older copy
	// lacks. The to-be-signed certificate is not in the journal: an empty
	// tbs_der marks a recovered row (its cert_der too stays NULL).
	qRecoverReservation = `INSERT INTO certificates (serial, ca_id, profile, subject, status, tbs_der, not_before, not_after, reserved_at)
		VALUES (?, ?, ?, ?, 'reserved', ?, ?, ?, ?) ON CONFLICT (serial) DO NOTHING`
	qRecoverIssued = `UPDATE certificates SET status = 'issued', issued_at = ? WHERE serial = ? AND status = 'reserved'`
)

// listQuery builds the paged listing of certificates for a filter whose
// limit is already bounded.
func listQuery(f ListFilter) (string, []any, error) {
	q := `SELECT ` + recordColumns + ` FROM certificates WHERE serial > ?`
	args := []any{f.After}
	if f.CA != "" {
		q += ` AND ca_id = ?`
		args = append(args, f.CA)
	}
	switch f.Status {
	case "":
	case "revoked":
		q += ` AND revoked_at IS NOT NULL`
	case "reserved", "issued":
		q += ` AND status = ? AND revoked_at IS NULL`
		args = append(args, f.Status)
	default:
		return "", nil, fmt.Errorf("unknown status %q (reserved, issued, revoked)", f.Status)
	}
	q += ` ORDER BY serial LIMIT ?`
	args = append(args, f.Limit)
	return q, args, nil
}
