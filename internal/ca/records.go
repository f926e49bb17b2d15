package ca

import (
	"context"
	"database/sql"
	"errors"
	"math/big"
	"time"

	"github.com/sceau/sceau/internal/revocation"
	"github.com/sceau/sceau/internal/sceau"
	"github.com/sceau/sceau/internal/store"
)

// Record is a certificate as stored, from reservation on.
type Record struct {
	Serial     string     `json:"serial"`
	CA         string     `json:"ca"`
	Profile    string     `json:"profile"`
	Subject    string     `json:"subject"`
	Status     string     `json:"status"` // reserved, issued, revoked
	NotBefore  time.Time  `json:"not_before"`
	NotAfter   time.Time  `json:"not_after"`
	ReservedAt time.Time  `json:"reserved_at"`
	IssuedAt   *time.Time `json:"issued_at,omitempty"`
	RevokedAt  *time.Time `json:"revoked_at,omitempty"`
	Reason     string     `json:"revocation_reason,omitempty"`
	DER        []byte     `json:"-"`
}

func scanRecord(sc interface{ Scan(...any) error }) (*Record, error) {
	var (
		r                           Record
		nb, na, ra                  string
		issuedAt, revokedAt, reason = sql.NullString{}, sql.NullString{}, sql.NullInt64{}
	)
	if err := sc.Scan(&r.Serial, &r.CA, &r.Profile, &r.Subject, &r.Status, &nb, &na, &ra, &issuedAt, &revokedAt, &reason, &r.DER); err != nil {
		return nil, err
	}
	var err error
	if r.NotBefore, err = store.ParseTime(nb); err != nil {
		return nil, err
	}
	if r.NotAfter, err = store.ParseTime(na); err != nil {
		return nil, err
	}
	if r.ReservedAt, err = store.ParseTime(ra); err != nil {
		return nil, err
	}
	if t, err := store.NullTime(issuedAt); err != nil {
		return nil, err
	} else if !t.IsZero() {
		r.IssuedAt = &t
	}
	if t, err := store.NullTime(revokedAt); err != nil {
		return nil, err
	} else if !t.IsZero() {
		r.RevokedAt = &t
		r.Status = "revoked"
		r.Reason = revocation.ReasonName(int(reason.Int64))
	}
	return &r, nil
}

// LatestOfProfile returns the last certificate caID issued under profile,
// or nil when it issued none: what the self-audit lints (COMP-1, CA-2).
func (a *Authority) LatestOfProfile(ctx context.Context, caID, profile string) (*Record, error) {
	r, err := scanRecord(a.db.QueryRowContext(ctx, qLatestOfProfile, caID, profile))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	return r, store.Classify("ca: latest of profile", err)
}

// Certificate returns the record of serial (hex, any case).
func (a *Authority) Certificate(ctx context.Context, serial string) (*Record, error) {
	const op = "ca: certificate"
	n, ok := new(big.Int).SetString(serial, 16)
	if !ok || n.Sign() <= 0 {
		return nil, sceau.Errorf(sceau.Invalid, op, "serial %q is not a positive hexadecimal number", serial)
	}
	row := a.db.QueryRowContext(ctx, qRecordBySerial, revocation.SerialHex(n))
	r, err := scanRecord(row)
	if err == sql.ErrNoRows {
		return nil, sceau.Errorf(sceau.NotFound, op, "no certificate with serial %s", serial)
	}
	return r, store.Classify(op, err)
}

// ListFilter selects certificates.
type ListFilter struct {
	CA     string // "" for all
	Status string // "", reserved, issued, revoked
	Limit  int    // default 100, at most 10000
	After  string // serial to continue after (pagination)
}

// Certificates lists records ordered by serial.
func (a *Authority) Certificates(ctx context.Context, f ListFilter) ([]*Record, error) {
	const op = "ca: list certificates"
	if f.Limit <= 0 {
		f.Limit = 100
	}
	if f.Limit > 10000 {
		f.Limit = 10000
	}
	q, args, err := listQuery(f)
	if err != nil {
		return nil, sceau.Errorf(sceau.Invalid, op, "%v", err)
	}
	rows, err := a.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, store.Classify(op, err)
	}
	defer rows.Close()
	var out []*Record
	for rows.Next() {
		r, err := scanRecord(rows)
		if err != nil {
			return nil, store.Classify(op, err)
		}
		out = append(out, r)
	}
	return out, store.Classify(op, rows.Err())
}

// RecoverOrphans revokes every serial reserved more than the grace period
// ago whose certificate was never stored: the process crashed between
// reservation and storage, so the certificate may have been signed without
// anyone holding it. Treated as issued, it is revoked (reason unspecified)
// and listed on the next CRL. It returns how many it revoked.
func (a *Authority) RecoverOrphans(ctx context.Context) (int, error) {
	const op = "ca: recover orphans"
	if a.rev == nil {
		return 0, nil
	}
	cutoff := store.FormatTime(a.clock.Now().Add(-a.opts.OrphanGrace))
	rows, err := a.db.QueryContext(ctx, qStaleReservations, cutoff)
	if err != nil {
		return 0, store.Classify(op, err)
	}
	var serials []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			rows.Close()
			return 0, store.Classify(op, err)
		}
		serials = append(serials, s)
	}
	rows.Close()
	n := 0
	for _, s := range serials {
		if err := a.rev.Revoke(ctx, sceau.System("recovery"), s, 0); err != nil {
			return n, err
		}
		a.log.Warn("revoked an orphan serial left by an interrupted issuance", "serial", s)
		n++
	}
	return n, nil
}
