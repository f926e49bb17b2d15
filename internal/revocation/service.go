package revocation

import (
	"context"
	"crypto"
	"database/sql"
	"errors"
	"fmt"
	"math/big"
	"sync"
	"time"

	"github.com/sceau/sceau/internal/audit"
	"github.com/sceau/sceau/internal/sceau"
	"github.com/sceau/sceau/internal/store"
)

// Options configure a Service.
type Options struct {
	Clock sceau.Clock
	// OCSPValidity is nextUpdate - thisUpdate of OCSP responses.
	OCSPValidity time.Duration
	// OCSPRefreshBefore: Refresh re-signs responses whose nextUpdate is nearer.
	OCSPRefreshBefore time.Duration
	// OnRevoke is called after a revocation commits, with the CA's ID (the
	// CRL scheduler uses it to reissue the CRL at once).
	OnRevoke func(caID string)
	// ClockGuard, if set, is asked before each CRL and OCSP signature
	// (SYS-4): an error (the clock guard's refusal, wrapping
	// clockguard.ErrClockDrift) refuses it. It must be cheap: the
	// responder asks it on every response signed on demand.
	ClockGuard func() error
	// OnCRLIssued, if set, is called in the transaction that stores a CRL
	// and its shards (the archive takes them there: ARC-1); an error rolls
	// the issuance back.
	OnCRLIssued func(ctx context.Context, tx *store.Tx, crls []*CRL) error
}

// Service revokes certificates, signs CRLs and OCSP responses, and reads
// certificate status.
type Service struct {
	db      *store.DB
	journal audit.Appender
	opts    Options
	clock   sceau.Clock

	mu      sync.RWMutex
	issuers map[string]*Issuer
	byKey   map[certIDKey]*Issuer

	// onDemand bounds OCSP signatures made on the request path.
	onDemand chan struct{}
	crlMu    sync.Map // ca id -> *sync.Mutex: one CRL issuance per CA at a time

	// afterCRLRead, set by tests, runs between the reading of a CRL's
	// entries and the taking of its number (another node's turn).
	afterCRLRead func()
}

// New returns a Service over db.
func New(db *store.DB, journal audit.Appender, opts Options) *Service {
	if opts.OCSPValidity == 0 {
		opts.OCSPValidity = 4 * 24 * time.Hour
	}
	if opts.OCSPRefreshBefore == 0 {
		opts.OCSPRefreshBefore = opts.OCSPValidity / 2
	}
	return &Service{db: db, journal: journal, opts: opts, clock: sceau.ClockOr(opts.Clock),
		issuers: map[string]*Issuer{}, byKey: map[certIDKey]*Issuer{}, onDemand: make(chan struct{}, 4)}
}

// AddIssuer makes a CA known to the service (CRLs, OCSP).
func (s *Service) AddIssuer(iss *Issuer) {
	s.mu.Lock()
	defer s.mu.Unlock()
	iss.certIDs = issuerKeys(iss.Cert)
	iss.responderID = keyHash(iss.OCSPCert)
	s.issuers[iss.ID] = iss
	for _, k := range iss.certIDs {
		s.byKey[k] = iss
	}
}

// Issuer returns the CA with the given ID.
func (s *Service) Issuer(id string) (*Issuer, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	iss, ok := s.issuers[id]
	if !ok {
		return nil, sceau.Errorf(sceau.NotFound, "revocation", "unknown CA %q", id)
	}
	return iss, nil
}

func (s *Service) issuerByCertID(hash crypto.Hash, nameHash, keyHash []byte) *Issuer {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.byKey[certIDKey{hash, string(nameHash), string(keyHash)}]
}

// Status is what is known of a serial.
type Status struct {
	Serial    string
	CAID      string
	Issued    bool // the signed certificate is stored
	Revoked   bool
	RevokedAt time.Time
	Reason    int
	NotAfter  time.Time
	// Response is the pre-signed OCSP response (SHA-1 CertID, no nonce);
	// nil when none is stored yet. Its thisUpdate and nextUpdate are stored
	// with it (CA-3: the GET caching headers of RFC 5019 §6.2 need no
	// parsing); ResponseThisUpdate is zero for a response stored before
	// the column existed.
	Response           []byte
	ResponseThisUpdate time.Time
	ResponseNextUpdate time.Time
}

// Response is a signed OCSP response with its validity interval, computed
// once when it is signed and carried alongside it.
type Response struct {
	DER                    []byte
	ThisUpdate, NextUpdate time.Time
}

// SerialHex is how serials are written in the database and URLs.
func SerialHex(n *big.Int) string { return fmt.Sprintf("%x", n) }

// Lookup returns the status of serial (lower-case hex), sceau.NotFound if it
// was never reserved.
func (s *Service) Lookup(ctx context.Context, q store.Querier, serial string) (*Status, error) {
	// One struct for every scan destination: it escapes to the heap once,
	// not once per column (this is the OCSP request path).
	var row struct {
		st                                Status
		status, notAfter                  string
		revokedAt, thisUpdate, nextUpdate sql.NullString
		reason                            sql.NullInt64
	}
	st := &row.st
	err := q.QueryRowContext(ctx, qStatus, serial).Scan(&st.CAID, &row.status, &row.notAfter, &row.revokedAt, &row.reason,
		&st.Response, &row.thisUpdate, &row.nextUpdate)
	if err != nil {
		if err == sql.ErrNoRows {
			return nil, sceau.Errorf(sceau.NotFound, "revocation: lookup", "no certificate with serial %s", serial)
		}
		return nil, store.Classify("revocation: lookup", err)
	}
	st.Serial = serial
	st.Issued = row.status == "issued"
	st.Revoked = row.revokedAt.Valid
	if st.NotAfter, err = store.ParseTime(row.notAfter); err != nil {
		return nil, err
	}
	if st.RevokedAt, err = store.NullTime(row.revokedAt); err != nil {
		return nil, err
	}
	st.Reason = int(row.reason.Int64)
	if st.ResponseThisUpdate, err = store.NullTime(row.thisUpdate); err != nil {
		return nil, err
	}
	if st.ResponseNextUpdate, err = store.NullTime(row.nextUpdate); err != nil {
		return nil, err
	}
	return st, nil
}

// SignOCSP signs a response for serial with the issuer's delegated
// responder. hash selects the CertID hash; extra goes into the response
// extensions (the nonce).
func (s *Service) SignOCSP(iss *Issuer, serial *big.Int, st *Status, hash crypto.Hash, extra ...ocspExtension) (Response, error) {
	// SYS-4: no response is signed on a clock that is not trusted; the
	// responses stored before are still served (they were signed when the
	// clock was right, and carry their own nextUpdate).
	if err := s.clockErr("revocation: sign ocsp"); err != nil {
		return Response{}, err
	}
	now := s.clock.Now().UTC().Truncate(time.Second)
	t := &responseTemplate{
		hash:       hash,
		serial:     serial,
		producedAt: now,
		thisUpdate: now.Add(-time.Minute), // tolerate client clock skew
		nextUpdate: now.Add(s.opts.OCSPValidity),
	}
	for _, k := range iss.certIDs {
		if k.hash == hash {
			t.nameHash, t.keyHash = []byte(k.nameHash), []byte(k.keyHash)
		}
	}
	if t.nameHash == nil {
		return Response{}, sceau.Errorf(sceau.Invalid, "revocation: ocsp", "CertID hash %v is not supported", hash)
	}
	switch {
	case st == nil:
		t.status = 2
	case st.Revoked:
		t.status = 1
		t.revokedAt = st.RevokedAt.UTC().Truncate(time.Second)
		t.reason = st.Reason
	case st.Issued:
		t.status = 0
	default:
		// Reserved but never stored: never good.
		return Response{}, sceau.Errorf(sceau.Unavailable, "revocation: ocsp", "serial %x is being issued", serial)
	}
	for _, e := range extra {
		t.extensions = append(t.extensions, e.Extension)
	}
	der, err := signResponse(t, iss.OCSPCert, iss.responderID, iss.OCSPSigner)
	if err != nil {
		return Response{}, sceau.E(sceau.Unavailable, "revocation: sign ocsp", "the OCSP responder key cannot sign", err)
	}
	return Response{DER: der, ThisUpdate: t.thisUpdate, NextUpdate: t.nextUpdate}, nil
}

// errClockRefused marks the clock guard's refusals.
var errClockRefused = errors.New("revocation: refused by the clock guard")

// clockErr is the clock guard's refusal, if any (SYS-4), as the guard gave
// it (Unavailable, wrapping clockguard.ErrClockDrift).
func (s *Service) clockErr(op string) error {
	if s.opts.ClockGuard == nil {
		return nil
	}
	if err := s.opts.ClockGuard(); err != nil {
		return fmt.Errorf("%s: %w: %w", op, err, errClockRefused)
	}
	return nil
}

// SignGood pre-signs the "good" response of a freshly issued certificate.
// The issuance path stores it with the certificate, with its thisUpdate
// and nextUpdate.
func (s *Service) SignGood(caID string, serial *big.Int) (Response, error) {
	iss, err := s.Issuer(caID)
	if err != nil {
		return Response{}, err
	}
	return s.SignOCSP(iss, serial, &Status{Issued: true}, crypto.SHA1)
}

// Revoke revokes the certificate with serial (lower-case hex) for reason.
// The record, its pre-signed "revoked" response and the audit event commit
// together; a second revocation is a Conflict. A reserved serial whose
// certificate was never stored can be revoked too: it is treated as issued.
func (s *Service) Revoke(ctx context.Context, actor sceau.Actor, serial string, reason int) error {
	var caID string
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		var err error
		caID, err = s.RevokeTx(ctx, tx, actor, serial, reason)
		return err
	})
	if err != nil {
		return err
	}
	s.Revoked(caID)
	return nil
}

// Revoked tells the CRL scheduler that a certificate of caID was revoked by
// a committed RevokeTx.
func (s *Service) Revoked(caID string) {
	if s.opts.OnRevoke != nil {
		s.opts.OnRevoke(caID)
	}
}

// RevokeTx is Revoke in the caller's transaction, for a package whose
// state change goes with the revocation (CA-4: a revocation request is
// processed with it). It returns the certificate's CA; once tx commits,
// call Revoked with it.
func (s *Service) RevokeTx(ctx context.Context, tx *store.Tx, actor sceau.Actor, serial string, reason int) (string, error) {
	const op = "revocation: revoke"
	if ReasonName(reason) == "unknown" {
		return "", sceau.Errorf(sceau.Invalid, op, "reason code %d is not an RFC 5280 reason Sceau accepts", reason)
	}
	n, ok := new(big.Int).SetString(serial, 16)
	if !ok || n.Sign() <= 0 {
		return "", sceau.Errorf(sceau.Invalid, op, "serial %q is not a positive hexadecimal number", serial)
	}
	serial = SerialHex(n)
	var caID string
	err := func() error {
		st, err := s.Lookup(ctx, tx, serial)
		if err != nil {
			return err
		}
		if st.Revoked {
			return sceau.Errorf(sceau.Conflict, op, "certificate %s was revoked already on %s (%s)",
				serial, st.RevokedAt.Format(time.RFC3339), ReasonName(st.Reason))
		}
		iss, err := s.Issuer(st.CAID)
		if err != nil {
			return err
		}
		caID = st.CAID
		st.Revoked, st.RevokedAt, st.Reason = true, s.clock.Now().UTC().Truncate(time.Second), reason
		resp, err := s.SignOCSP(iss, n, st, crypto.SHA1)
		if errors.Is(err, errClockRefused) {
			// SYS-4: the revocation is recorded all the same, without a
			// response: the stored "good" one is dropped, so the responder
			// answers tryLater for the serial (never good), and the refresher
			// signs its "revoked" response once the clock is back, as after
			// a mass revocation. Its CRL waits for the clock too.
			resp, err = Response{}, nil
		}
		if err != nil {
			return err
		}
		var this, next any
		if resp.DER != nil {
			this, next = store.FormatTime(resp.ThisUpdate), store.FormatTime(resp.NextUpdate)
		}
		res, err := tx.ExecContext(ctx, qRevoke, store.FormatTime(st.RevokedAt), reason, resp.DER, this, next, serial)
		if err != nil {
			return store.Classify(op, err)
		}
		if k, _ := res.RowsAffected(); k != 1 {
			return sceau.Errorf(sceau.Conflict, op, "certificate %s changed during revocation; retry", serial)
		}
		return s.journal.Append(ctx, tx, audit.Event{Actor: actor, Action: "certificate.revoked", Object: "certificate:" + serial,
			Details: map[string]any{"ca": caID, "reason": ReasonName(reason), "reason_code": reason, "issued": st.Issued,
				"revoked_at": store.FormatTime(st.RevokedAt)}}) // CONT-1: a restore recreates the revocation from it
	}()
	return caID, err
}

// Refresh re-signs the pre-signed OCSP responses that expire within the
// refresh window (or were never signed) for issued or revoked
// certificates, up to limit of them, and returns how many it signed.
func (s *Service) Refresh(ctx context.Context, limit int) (int, error) {
	const op = "revocation: refresh ocsp"
	if err := s.clockErr(op); err != nil { // SYS-4
		return 0, err
	}
	horizon := store.FormatTime(s.clock.Now().Add(s.opts.OCSPRefreshBefore))
	// Only CAs loaded here can sign; the most urgent responses first.
	s.mu.RLock()
	args := []any{horizon}
	for id := range s.issuers {
		args = append(args, id)
	}
	s.mu.RUnlock()
	cas := len(args) - 1
	if cas == 0 {
		return 0, nil
	}
	args = append(args, limit)
	rows, err := s.db.QueryContext(ctx, qStaleOCSP(cas), args...)
	if err != nil {
		return 0, store.Classify(op, err)
	}
	var serials []string
	for rows.Next() {
		var sn string
		if err := rows.Scan(&sn); err != nil {
			rows.Close()
			return 0, store.Classify(op, err)
		}
		serials = append(serials, sn)
	}
	rows.Close()
	done := 0
	for _, sn := range serials {
		st, err := s.Lookup(ctx, s.db, sn)
		if err != nil {
			return done, err
		}
		iss, err := s.Issuer(st.CAID)
		if err != nil {
			continue // a CA no longer loaded: nothing to sign with
		}
		n, _ := new(big.Int).SetString(sn, 16)
		resp, err := s.SignOCSP(iss, n, st, crypto.SHA1)
		if err != nil {
			return done, err
		}
		// Only replace the response if the status did not change meanwhile.
		q := qRefreshGoodOCSP
		if st.Revoked {
			q = qRefreshRevokedOCSP
		}
		if _, err := s.db.ExecContext(ctx, q, resp.DER, store.FormatTime(resp.ThisUpdate), store.FormatTime(resp.NextUpdate), sn); err != nil {
			return done, store.Classify(op, err)
		}
		done++
	}
	return done, nil
}
