package access

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/sceau/sceau/internal/sceau"
	"github.com/sceau/sceau/internal/store"
)

// The package's queries, written once with '?' placeholders for both engines.
const (
	qCountAccounts = `SELECT COUNT(*) FROM accounts`
	qAccountNames  = `SELECT name FROM accounts ORDER BY name`
	qInsertAccount = `INSERT INTO accounts (name, full_name, password_hash, must_change_password, totp_secret, created_at, created_by)
		VALUES (?, ?, ?, ?, ?, ?, ?)`
	qAccount = `SELECT name, full_name, password_hash, must_change_password, totp_secret, totp_last_step, failed_logins,
		locked_until, created_at, created_by, status, status_reason, status_at, status_by FROM accounts WHERE name = ?`
	qLoginState = `SELECT password_hash, totp_secret, totp_last_step, failed_logins, locked_until, must_change_password, status
		FROM accounts WHERE name = ?`
	qAccountStatus    = `SELECT status FROM accounts WHERE name = ?`
	qSetAccountStatus = `UPDATE accounts SET status = ?, status_reason = ?, status_at = ?, status_by = ? WHERE name = ? AND status = ?`
	qSetFullName      = `UPDATE accounts SET full_name = ? WHERE name = ?`
	// Deletion keeps the row and drops the authentication data (ROLE-4).
	qDeleteAccount = `UPDATE accounts SET status = 'deleted', status_reason = ?, status_at = ?, status_by = ?,
		password_hash = NULL, totp_secret = NULL, failed_logins = 0, locked_until = NULL WHERE name = ? AND status <> 'deleted'`
	qActiveOfficers = `SELECT COUNT(*) FROM role_assignments r JOIN accounts a ON a.name = r.account
		WHERE r.role = ? AND r.removed_at IS NULL AND a.status = 'active' AND a.name <> ?`
	qTOTPSecrets    = `SELECT name, totp_secret FROM accounts WHERE totp_secret IS NOT NULL ORDER BY name`
	qSetTOTPSecret  = `UPDATE accounts SET totp_secret = ? WHERE name = ?`
	qLoginFailed    = `UPDATE accounts SET failed_logins = ?, locked_until = ? WHERE name = ?`
	qLoginSucceeded = `UPDATE accounts SET failed_logins = 0, locked_until = NULL, totp_last_step = ? WHERE name = ?`
	qSetPassword    = `UPDATE accounts SET password_hash = ?, must_change_password = 0 WHERE name = ?`
	qResetAccount   = `UPDATE accounts SET password_hash = ?, must_change_password = 1, totp_secret = ?, totp_last_step = 0,
		failed_logins = 0, locked_until = NULL WHERE name = ?`

	qCurrentRoles     = `SELECT role FROM role_assignments WHERE account = ? AND removed_at IS NULL ORDER BY role`
	qInsertAssignment = `INSERT INTO role_assignments (id, account, role, granted_at, granted_by, grant_approval) VALUES (?, ?, ?, ?, ?, ?)`
	qRemoveAssignment = `UPDATE role_assignments SET removed_at = ?, removed_by = ?, removal_approval = ?
		WHERE account = ? AND role = ? AND removed_at IS NULL`
	qAssignments = `SELECT role, granted_at, granted_by, grant_approval, removed_at, removed_by, removal_approval
		FROM role_assignments WHERE account = ? ORDER BY granted_at, role`

	qInsertCertificate = `INSERT INTO account_certificates (sha256, account, subject, not_after, bound_at, bound_by, serial)
		VALUES (?, ?, ?, ?, ?, ?, ?)`
	qCertificates = `SELECT sha256, serial, subject, not_after, bound_at, bound_by, revoked_at, revoked_by, revocation_reason
		FROM account_certificates WHERE account = ? ORDER BY bound_at, sha256`
	// ROLE-4: the certificate, revoked or not, and its person's status.
	qCertificateAuth = `SELECT c.account, c.revoked_at, a.status FROM account_certificates c JOIN accounts a ON a.name = c.account
		WHERE c.sha256 = ?`
	qRevokeCertificate = `UPDATE account_certificates SET revoked_at = ?, revoked_by = ?, revocation_reason = ?
		WHERE sha256 = ? AND account = ? AND revoked_at IS NULL`
	qRevokeAllCertificates = `UPDATE account_certificates SET revoked_at = ?, revoked_by = ?, revocation_reason = ?
		WHERE account = ? AND revoked_at IS NULL`

	qInsertSession = `INSERT INTO sessions (token_hash, id, account, terminal, created_at, last_seen, expires_at)
		VALUES (?, ?, ?, ?, ?, ?, ?)`
	qSession = `SELECT s.id, s.account, s.terminal, s.last_seen, s.expires_at, s.ended_at, a.must_change_password, a.status
		FROM sessions s JOIN accounts a ON a.name = s.account WHERE s.token_hash = ?`
	qTouchSession      = `UPDATE sessions SET last_seen = ? WHERE id = ? AND ended_at IS NULL`
	qEndSession        = `UPDATE sessions SET ended_at = ? WHERE id = ? AND ended_at IS NULL`
	qEndOtherSessions  = `UPDATE sessions SET ended_at = ? WHERE account = ? AND id <> ? AND ended_at IS NULL`
	qEndAllSessions    = `UPDATE sessions SET ended_at = ? WHERE account = ? AND ended_at IS NULL`
	qSessionExpiration = `SELECT expires_at FROM sessions WHERE id = ?`

	qInsertAttestation = `INSERT INTO attestations (id, account, kind, on_date, attested_by, note, recorded_at, recorded_by)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`
	qAttestations = `SELECT id, kind, on_date, attested_by, note, recorded_at, recorded_by FROM attestations
		WHERE account = ? ORDER BY on_date, recorded_at`

	qInsertRequest = `INSERT INTO approval_requests (id, action, resource_kind, resource_id, subject, payload, requester,
		requester_role, required, status, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'pending', ?, ?)`
	requestColumns = `id, action, resource_kind, resource_id, subject, payload, requester, requester_role, required,
		status, created_at, expires_at, decided_at, result`
	qRequest         = `SELECT ` + requestColumns + ` FROM approval_requests WHERE id = ?`
	qRequestsByState = `SELECT ` + requestColumns + ` FROM approval_requests WHERE status = ? ORDER BY created_at DESC, id LIMIT ?`
	qRequestsAll     = `SELECT ` + requestColumns + ` FROM approval_requests ORDER BY created_at DESC, id LIMIT ?`
	qDecideRequest   = `UPDATE approval_requests SET status = ?, decided_at = ?, result = ? WHERE id = ? AND status = 'pending'`
	qInsertVote      = `INSERT INTO approval_votes (request_id, account, role, vote, reason, session_id, at) VALUES (?, ?, ?, ?, ?, ?, ?)`
	qVotes           = `SELECT account, role, vote, reason, session_id, at FROM approval_votes WHERE request_id = ? ORDER BY at, account`
	qApprovals       = `SELECT COUNT(*) FROM approval_votes WHERE request_id = ? AND vote = 'approve'`

	qLastCACreation = `SELECT id FROM approval_requests
		WHERE action = ? AND resource_kind = 'ca' AND resource_id = ? AND status = ?
		ORDER BY decided_at DESC LIMIT 1`
	qCountLegacyTOTP = `SELECT COUNT(*) FROM accounts WHERE totp_secret LIKE 'v1:%'`
	qCountHolders    = `SELECT COUNT(*) FROM role_assignments WHERE role = ? AND removed_at IS NULL`
)

// forUpdate locks the rows read in a PostgreSQL transaction; SQLite
// transactions take the write lock at BEGIN (store.Open), so they need none.
func forUpdate(tx *store.Tx) string {
	if tx.Engine() == store.Postgres {
		return " FOR UPDATE"
	}
	return ""
}

func currentRoles(ctx context.Context, q store.Querier, account string) ([]Role, error) {
	rows, err := q.QueryContext(ctx, qCurrentRoles, account)
	if err != nil {
		return nil, store.Classify("access: roles", err)
	}
	defer rows.Close()
	var out []Role
	for rows.Next() {
		var r string
		if err := rows.Scan(&r); err != nil {
			return nil, store.Classify("access: roles", err)
		}
		out = append(out, Role(r))
	}
	// Canonical order: the policy's.
	ordered := make([]Role, 0, len(out))
	for _, r := range Roles {
		for _, h := range out {
			if h == r {
				ordered = append(ordered, r)
			}
		}
	}
	return ordered, store.Classify("access: roles", rows.Err())
}

func (s *Service) account(ctx context.Context, q store.Querier, name string) (*Account, error) {
	const op = "access: account"
	var (
		a                  Account
		pw, secret, lock   sql.NullString
		statusAt, statusBy sql.NullString
		must               int
		lastStep           int64
		created            string
	)
	err := q.QueryRowContext(ctx, qAccount, name).Scan(&a.Name, &a.FullName, &pw, &must, &secret, &lastStep, &a.FailedLogins,
		&lock, &created, &a.CreatedBy, &a.Status, &a.StatusReason, &statusAt, &statusBy)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, sceau.Errorf(sceau.NotFound, op, "no account %q", clip(name))
	}
	if err != nil {
		return nil, store.Classify(op, err)
	}
	a.Password, a.TOTP, a.MustChangePassword = pw.Valid, secret.Valid, must != 0
	if a.CreatedAt, err = store.ParseTime(created); err != nil {
		return nil, sceau.E(sceau.Internal, op, "", err)
	}
	if t, err := store.NullTime(lock); err == nil && t.After(s.now()) {
		a.LockedUntil = &t
	}
	if t, err := store.NullTime(statusAt); err == nil && !t.IsZero() {
		a.StatusAt, a.StatusBy = &t, statusBy.String
	}
	if a.Roles, err = currentRoles(ctx, q, name); err != nil {
		return nil, err
	}
	if a.Roles == nil {
		a.Roles = []Role{}
	}
	rows, err := q.QueryContext(ctx, qCertificates, name)
	if err != nil {
		return nil, store.Classify(op, err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			c                      BoundCertificate
			notAfter, at           string
			serial, revoked, revBy sql.NullString
			errNA, errAt, eR       error
		)
		if err := rows.Scan(&c.SHA256, &serial, &c.Subject, &notAfter, &at, &c.BoundBy, &revoked, &revBy, &c.RevocationReason); err != nil {
			return nil, store.Classify(op, err)
		}
		c.Serial, c.RevokedBy = serial.String, revBy.String
		c.NotAfter, errNA = store.ParseTime(notAfter)
		c.BoundAt, errAt = store.ParseTime(at)
		var r time.Time
		r, eR = store.NullTime(revoked)
		if err := errors.Join(errNA, errAt, eR); err != nil {
			return nil, sceau.E(sceau.Internal, op, "", err)
		}
		if !r.IsZero() {
			c.RevokedAt = &r
		}
		a.Certificates = append(a.Certificates, c)
	}
	return &a, store.Classify(op, rows.Err())
}
