package ca

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"sync"
	"time"

	"github.com/sceau/sceau/internal/audit"
	"github.com/sceau/sceau/internal/keys"
	"github.com/sceau/sceau/internal/revocation"
	"github.com/sceau/sceau/internal/sceau"
	"github.com/sceau/sceau/internal/store"
)

// KeyStore is what the CAs need of package keys.
type KeyStore interface {
	Generate(label string, t keys.Type) (crypto.Signer, error)
	Signer(label string) (crypto.Signer, error)
}

// Options configure an Authority.
type Options struct {
	Clock  sceau.Clock
	Logger *slog.Logger
	URLs   URLs
	// OCSPSignerValidity is the lifetime of each CA's delegated OCSP
	// responder certificate.
	OCSPSignerValidity time.Duration
	// BatchMax and BatchWait tune group commit.
	BatchMax  int
	BatchWait time.Duration
	// OrphanGrace: reserved serials older than this without a stored
	// certificate are revoked by RecoverOrphans.
	OrphanGrace time.Duration
	// AfterSign, if set, is called right after each certificate signature,
	// before it is stored (crash tests use it to record what was signed).
	AfterSign func(serial string)
	// ActivationHint, if set, tells how a CA whose key is not activated can
	// be activated ("3 of 5 key share holders: sceau ca activate issuing").
	ActivationHint func(caID string) string
	// Observe, if set, is told of each issuance outcome and its duration.
	Observe func(outcome string, d time.Duration)
	// ClockGuard, if set, is asked before each signature (SYS-4): an error
	// (the clock guard's refusal, clockguard.ErrClockDrift) refuses it
	// before anything is reserved. It must be cheap: it is on every
	// issuance.
	ClockGuard func() error
	// ReadOnly loads the CAs without writing anything: a public-only node
	// (docs/scaling.md) holds no key and serves what the signing nodes
	// wrote, so loading neither renews a responder certificate nor records
	// a CA certificate under its parent; the signing nodes do both.
	ReadOnly bool
}

// Revoker is what issuance needs of the revocation service: a loaded CA
// becomes an issuer of CRLs and OCSP responses, a new certificate gets its
// first OCSP response before it is released (CA-3), and a reservation left
// by a crash is revoked rather than completed (CA-2). *revocation.Service
// implements it; ca depends on this much of it only.
type Revoker interface {
	AddIssuer(iss *revocation.Issuer)
	SignGood(caID string, serial *big.Int) (revocation.Response, error)
	Revoke(ctx context.Context, actor sceau.Actor, serial string, reason int) error
}

// Authority runs the CAs of one installation.
type Authority struct {
	db        *store.DB
	journal   audit.Appender
	keys      KeyStore
	rev       Revoker
	opts      Options
	clock     sceau.Clock
	log       *slog.Logger
	committer *store.GroupCommitter
	lint      linter

	mu  sync.RWMutex
	cas map[string]*CA
	ids []string // in declaration order
}

// CA is a loaded certification authority.
type CA struct {
	Spec     Spec
	Cert     *x509.Certificate
	OCSPCert *x509.Certificate
	Chain    []*x509.Certificate // Cert first, up to the root
	signer   crypto.Signer
	profiles map[string]*Profile
	// lintSigner has the CA's algorithm and signs the throwaway copy of
	// each certificate that is linted before the real signature;
	// lintParent is the CA certificate with the lint key's public key.
	lintSigner crypto.Signer
	lintParent *x509.Certificate
}

// Profile returns the named profile.
func (c *CA) Profile(name string) (*Profile, bool) {
	p, ok := c.profiles[name]
	return p, ok
}

// New returns an Authority; call Load (or Bootstrap) next.
func New(db *store.DB, journal audit.Appender, ks KeyStore, rev Revoker, opts Options) *Authority {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.OCSPSignerValidity == 0 {
		opts.OCSPSignerValidity = 90 * 24 * time.Hour
	}
	if opts.BatchMax == 0 {
		opts.BatchMax = 128
	}
	if opts.OrphanGrace == 0 {
		opts.OrphanGrace = 5 * time.Minute
	}
	a := &Authority{db: db, journal: journal, keys: ks, rev: rev, opts: opts, clock: sceau.ClockOr(opts.Clock),
		log: opts.Logger, cas: map[string]*CA{}}
	a.committer = store.NewGroupCommitter(db, opts.BatchMax, opts.BatchWait)
	return a
}

// Committer exposes the group committer (for metrics).
func (a *Authority) Committer() *store.GroupCommitter { return a.committer }

// Close stops the committer after queued work.
func (a *Authority) Close() { a.committer.Close() }

// Bootstrap creates every CA of specs that does not exist yet (key in the
// keystore, certificate signed by its parent or self-signed, delegated OCSP
// responder), each with its audit event, then loads them all. Existing CAs
// are loaded as they are.
func (a *Authority) Bootstrap(ctx context.Context, actor sceau.Actor, specs []Spec) error {
	for _, s := range specs {
		exists, err := a.exists(ctx, s.ID)
		if err != nil {
			return err
		}
		if !exists {
			if err := a.create(ctx, actor, s); err != nil {
				return err
			}
		}
		if err := a.load(ctx, s); err != nil {
			return err
		}
	}
	return nil
}

// Load loads the CAs of specs, which must exist already.
func (a *Authority) Load(ctx context.Context, specs []Spec) error {
	for _, s := range specs {
		if err := a.load(ctx, s); err != nil {
			return err
		}
	}
	return nil
}

// LoadCreated loads the CAs of specs that exist and returns the IDs of the
// others: declared but not created yet, waiting for an authorised
// 'sceau ca create' (ROLE-3). Specs come parents first, so the children of
// a pending CA are pending too.
func (a *Authority) LoadCreated(ctx context.Context, specs []Spec) (pending []string, err error) {
	waiting := map[string]bool{}
	for _, s := range specs {
		exists, err := a.exists(ctx, s.ID)
		if err != nil {
			return nil, err
		}
		if !exists || (s.Parent != "" && waiting[s.Parent]) {
			if exists {
				return nil, sceau.Errorf(sceau.Invalid, "ca: load", "CA %q exists but its parent %q was never created", s.ID, s.Parent)
			}
			waiting[s.ID] = true
			pending = append(pending, s.ID)
			continue
		}
		if err := a.load(ctx, s); err != nil {
			return nil, err
		}
	}
	return pending, nil
}

func (a *Authority) exists(ctx context.Context, id string) (bool, error) {
	var n int
	err := a.db.QueryRowContext(ctx, qCountCA, id).Scan(&n)
	return n > 0, store.Classify("ca: lookup", err)
}

// CA returns a loaded CA.
func (a *Authority) CA(id string) (*CA, error) {
	a.mu.RLock()
	defer a.mu.RUnlock()
	c, ok := a.cas[id]
	if !ok {
		return nil, sceau.Errorf(sceau.NotFound, "ca", "unknown CA %q", id)
	}
	return c, nil
}

// CAs returns the loaded CAs in declaration order.
func (a *Authority) CAs() []*CA {
	a.mu.RLock()
	defer a.mu.RUnlock()
	out := make([]*CA, 0, len(a.ids))
	for _, id := range a.ids {
		out = append(out, a.cas[id])
	}
	return out
}

func (a *Authority) create(ctx context.Context, actor sceau.Actor, s Spec) error {
	op := fmt.Sprintf("ca: create %q", s.ID)
	// SYS-4: no CA certificate is signed on a clock that is not trusted,
	// and no key is generated for it.
	if err := a.clockErr(op); err != nil {
		return err
	}
	// KEY-7: a CA key pair and certificate live at most 10 years.
	if s.Validity <= 0 || s.Validity > MaxCAValidity {
		return sceau.Errorf(sceau.Invalid, op, "validity %s is outside (0, 10 years] (KEY-7)", s.Validity)
	}
	var parent *CA
	if s.Parent != "" {
		p, err := a.CA(s.Parent)
		if err != nil {
			return sceau.Errorf(sceau.Invalid, op, "parent %q is not loaded", s.Parent)
		}
		parent = p
	}
	now := a.clock.Now().UTC().Truncate(time.Second)
	notAfter := notAfterFor(now, s.Validity) // KEY-7: "10y" is ten years, both ends counted
	if parent != nil && notAfter.After(parent.Cert.NotAfter) {
		// KEY-7: no certificate outlives its issuer.
		return sceau.Errorf(sceau.Invalid, op, "validity ends %s, after its parent %q (%s)",
			notAfter.Format(time.DateOnly), parent.Spec.ID, parent.Cert.NotAfter.Format(time.DateOnly))
	}
	key, err := a.keys.Generate(sceau.CAKeyLabel(s.ID), s.KeyType)
	if err != nil {
		return err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          randomSerial(),
		Subject:               s.Subject,
		NotBefore:             now,
		NotAfter:              notAfter,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
		SignatureAlgorithm:    s.KeyType.SignatureAlgorithm(),
		SubjectKeyId:          subjectKeyID(marshalSPKI(key.Public())),
	}
	switch {
	case s.PathLen == 0:
		tmpl.MaxPathLenZero = true
	case s.PathLen > 0:
		tmpl.MaxPathLen = s.PathLen
	default:
		tmpl.MaxPathLen = -1
	}
	issuerCert, issuerKey := tmpl, key
	if parent != nil {
		issuerCert, issuerKey = parent.Cert, parent.signer
		tmpl.SignatureAlgorithm = parent.Spec.KeyType.SignatureAlgorithm()
		tmpl.CRLDistributionPoints = []string{a.opts.URLs.CRL(parent.Spec.ID)}
		tmpl.IssuingCertificateURL = []string{a.opts.URLs.CACert(parent.Spec.ID)}
		tmpl.OCSPServer = []string{a.opts.URLs.OCSP()}
	}
	if len(s.Policies) > 0 {
		ext, err := policiesExtension(s.Policies)
		if err != nil {
			return sceau.E(sceau.Internal, op, "", err)
		}
		tmpl.ExtraExtensions = append(tmpl.ExtraExtensions, ext)
	}
	// TLS BR §7.1.2.10.6: a CA restricted to purposes says so in its
	// extendedKeyUsage, which relying parties apply to the whole path.
	tmpl.ExtKeyUsage, tmpl.UnknownExtKeyUsage = s.ExtKeyUsage, s.OtherExtKeyUsage
	der, err := x509.CreateCertificate(rand.Reader, tmpl, issuerCert, key.Public(), issuerKey)
	if err != nil {
		return sceau.E(sceau.Unavailable, op, "cannot sign the CA certificate", err)
	}
	if f, err := a.lint.lintCertificate(der, []string{"rfc5280"}); err != nil {
		return sceau.E(sceau.Internal, op, "", err)
	} else if err := f.refuse(op); err != nil {
		return err
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return sceau.E(sceau.Internal, op, "", err)
	}
	ocspDER, ocspKeyRef, err := a.newOCSPSigner(s.ID, cert, key, s.KeyType)
	if err != nil {
		return err
	}
	var parentID sql.NullString
	var ocspResp revocation.Response
	if s.Parent != "" {
		parentID = sql.NullString{String: s.Parent, Valid: true}
		// CA-3: the parent's responder answers for the CA certificates it
		// issued, whose AIA points at it: the certificate is recorded under
		// the parent like any other, with its first response.
		if ocspResp, err = a.rev.SignGood(s.Parent, cert.SerialNumber); err != nil {
			return err
		}
	}
	return a.db.InTx(ctx, func(tx *store.Tx) error {
		if _, err := tx.ExecContext(ctx, qInsertCA, s.ID, parentID, cert.Subject.String(), sceau.CAKeyLabel(s.ID), der,
			store.FormatTime(cert.NotBefore), store.FormatTime(cert.NotAfter), ocspKeyRef, ocspDER, store.FormatTime(now)); err != nil {
			return store.Classify(op, err)
		}
		if s.Parent != "" {
			if err := recordCACert(ctx, tx, s.Parent, cert, ocspResp, now); err != nil {
				return store.Classify(op, err)
			}
		}
		return a.journal.Append(ctx, tx, audit.Event{Actor: actor, Action: "ca.created", Object: "ca:" + s.ID,
			Details: map[string]any{"subject": cert.Subject.String(), "parent": s.Parent, "key_type": s.KeyType,
				"not_before": cert.NotBefore, "not_after": cert.NotAfter, "serial": revocation.SerialHex(cert.SerialNumber),
				"sha256": sha256Hex(der), "key": sceau.CAKeyLabel(s.ID)}})
	})
}

// recordUnderParent records, once, a subordinate CA's certificate among
// its parent's certificates, as creation does since the parent's responder
// answers for the CA certificates it issued (CA-3): an installation made
// before that gets the row, the first response and the event at its next
// load, so the parent's CRL and OCSP cover the CA without a new ceremony.
func (a *Authority) recordUnderParent(ctx context.Context, s Spec, cert *x509.Certificate) error {
	op := fmt.Sprintf("ca: record %q under %q", s.ID, s.Parent)
	serial := revocation.SerialHex(cert.SerialNumber)
	var n int
	if err := a.db.QueryRowContext(ctx, qCountSerial, serial).Scan(&n); err != nil {
		return store.Classify(op, err)
	}
	if n > 0 {
		return nil
	}
	if err := a.clockErr(op); err != nil { // SYS-4: at a later load
		return fmt.Errorf("%w: %w", errClockRefused, err)
	}
	resp, err := a.rev.SignGood(s.Parent, cert.SerialNumber)
	if err != nil {
		return err
	}
	now := a.clock.Now().UTC()
	return a.db.InTx(ctx, func(tx *store.Tx) error {
		if err := recordCACert(ctx, tx, s.Parent, cert, resp, now); err != nil {
			return store.Classify(op, err)
		}
		return a.journal.Append(ctx, tx, audit.Event{Actor: sceau.System("ca"), Action: audit.ActionCACertRecorded, Object: "certificate:" + serial,
			Details: map[string]any{"ca": s.ID, "parent": s.Parent, "sha256": sha256Hex(cert.Raw)}})
	})
}

// recordCACert inserts a subordinate CA's certificate as a row of its
// parent, issued, with the parent's first response for it (CA-3).
func recordCACert(ctx context.Context, tx *store.Tx, parent string, cert *x509.Certificate, resp revocation.Response, now time.Time) error {
	_, err := tx.ExecContext(ctx, qRecordCACertificate, revocation.SerialHex(cert.SerialNumber), parent, cert.Subject.String(),
		cert.RawTBSCertificate, cert.Raw, store.FormatTime(cert.NotBefore), store.FormatTime(cert.NotAfter), store.FormatTime(now),
		store.FormatTime(now), resp.DER, store.FormatTime(resp.ThisUpdate), store.FormatTime(resp.NextUpdate))
	return err
}

// newOCSPSigner makes the CA's delegated OCSP responder: a P-256 key in the
// keystore and a certificate with id-kp-OCSPSigning and ocsp-nocheck.
func (a *Authority) newOCSPSigner(id string, caCert *x509.Certificate, caKey crypto.Signer, caType keys.Type) ([]byte, string, error) {
	op := fmt.Sprintf("ca: OCSP responder of %q", id)
	now := a.clock.Now().UTC().Truncate(time.Second)
	label := fmt.Sprintf("ocsp-%s-%d", id, now.Unix())
	key, err := a.keys.Generate(label, keys.ECDSAP256)
	if err != nil {
		return nil, "", err
	}
	notAfter := notAfterFor(now, a.opts.OCSPSignerValidity)
	if notAfter.After(caCert.NotAfter) {
		notAfter = caCert.NotAfter
	}
	subject := caCert.Subject
	subject.CommonName = caCert.Subject.CommonName + " OCSP Responder"
	subject.ExtraNames = nil
	tmpl := &x509.Certificate{
		SerialNumber:          randomSerial(),
		Subject:               subject,
		NotBefore:             now,
		NotAfter:              notAfter,
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageOCSPSigning},
		BasicConstraintsValid: true,
		SignatureAlgorithm:    caType.SignatureAlgorithm(),
		SubjectKeyId:          subjectKeyID(marshalSPKI(key.Public())),
		ExtraExtensions:       []pkix.Extension{ocspNoCheck()},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, caCert, key.Public(), caKey)
	if err != nil {
		return nil, "", sceau.E(sceau.Unavailable, op, "cannot sign the responder certificate", err)
	}
	if f, err := a.lint.lintCertificate(der, []string{"rfc5280"}); err != nil {
		return nil, "", sceau.E(sceau.Internal, op, "", err)
	} else if err := f.refuse(op); err != nil {
		return nil, "", err
	}
	return der, label, nil
}

func (a *Authority) load(ctx context.Context, s Spec) error {
	op := fmt.Sprintf("ca: load %q", s.ID)
	var (
		keyRef, ocspRef string
		der, ocspDER    []byte
		parentID        sql.NullString
	)
	err := a.db.QueryRowContext(ctx, qCARecord, s.ID).
		Scan(&parentID, &keyRef, &der, &ocspRef, &ocspDER)
	if err == sql.ErrNoRows {
		return sceau.Errorf(sceau.NotFound, op, "CA %q is declared but was never created: run `sceau init`", s.ID)
	}
	if err != nil {
		return store.Classify(op, err)
	}
	if parentID.String != s.Parent {
		return sceau.Errorf(sceau.Invalid, op, "the configuration names parent %q, the database %q", s.Parent, parentID.String)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return sceau.E(sceau.Internal, op, "stored certificate cannot be parsed", err)
	}
	ocspCert, err := x509.ParseCertificate(ocspDER)
	if err != nil {
		return sceau.E(sceau.Internal, op, "stored OCSP responder certificate cannot be parsed", err)
	}
	signer, err := a.keys.Signer(keyRef)
	if errors.Is(err, keys.ErrNotActivated) {
		// KEY-5: a store that is not activated (a token before login)
		// cannot even show the key; the certificate names it.
		if r, ok := a.keys.(keys.Resolver); ok {
			signer, err = keys.Deferred(r, keyRef, cert.PublicKey), nil
		}
	}
	if err != nil {
		return err
	}
	// A responder certificate nearing its end is replaced at load, so a
	// restarted or long-running service never answers with an expired one.
	// SYS-4: while the clock guard refuses, the current responder stays
	// (it is valid for a third of its life still) and the renewal waits
	// for the next load or the daily renewal.
	if a.clock.Now().Add(a.opts.OCSPSignerValidity/3).After(ocspCert.NotAfter) && Activated(signer) && !a.opts.ReadOnly {
		if err := a.clockErr(op); err != nil {
			a.log.Warn("the OCSP responder certificate is not renewed while the clock is not trusted", "ca", s.ID, "err", err)
		} else if ocspCert, ocspRef, err = a.renewOCSPSigner(ctx, s, cert, signer); err != nil {
			return err
		}
	}
	ocspSigner, err := a.keys.Signer(ocspRef)
	if errors.Is(err, keys.ErrNotActivated) {
		// KEY-5: so too the responder's key, in a store that is not
		// activated (a public-only node has none): it answers OCSP with
		// the pre-signed responses only.
		if r, ok := a.keys.(keys.Resolver); ok {
			ocspSigner, err = keys.Deferred(r, ocspRef, ocspCert.PublicKey), nil
		}
	}
	if err != nil {
		return err
	}
	if s.Parent != "" && !a.opts.ReadOnly {
		if err := a.recordUnderParent(ctx, s, cert); errors.Is(err, errClockRefused) {
			a.log.Warn("the CA certificate is recorded under its parent once the clock is trusted", "ca", s.ID, "err", err)
		} else if err != nil {
			return err
		}
	}
	c := &CA{Spec: s, Cert: cert, OCSPCert: ocspCert, signer: signer, profiles: map[string]*Profile{}}
	for i := range s.Profiles {
		c.profiles[s.Profiles[i].Name] = &s.Profiles[i]
	}
	c.Chain = []*x509.Certificate{cert}
	if s.Parent != "" {
		p, err := a.CA(s.Parent)
		if err != nil {
			return sceau.Errorf(sceau.Invalid, op, "parent %q must be loaded first", s.Parent)
		}
		c.Chain = append(c.Chain, p.Chain...)
	}
	// The lint key shares the CA's algorithm so the linted TBS equals the
	// signed one; RSA CAs lint with a 2048-bit key (same SHA256WithRSA).
	lintType := s.KeyType
	if lintType != keys.ECDSAP256 && lintType != keys.ECDSAP384 {
		lintType = keys.RSA2048
	}
	if c.lintSigner, err = lintType.Generate(nil); err != nil {
		return sceau.E(sceau.Internal, op, "", err)
	}
	lp := *cert
	lp.PublicKey = c.lintSigner.Public()
	c.lintParent = &lp

	a.mu.Lock()
	if _, ok := a.cas[s.ID]; !ok {
		a.ids = append(a.ids, s.ID)
	}
	a.cas[s.ID] = c
	a.mu.Unlock()

	if a.rev != nil {
		id := s.ID
		a.rev.AddIssuer(&revocation.Issuer{ID: id, Cert: cert, Signer: signer, OCSPCert: ocspCert, OCSPSigner: ocspSigner,
			CRL: s.CRL, CRLURL: a.opts.URLs.CRL(id), ShardURL: func(k int) string { return a.opts.URLs.CRLShard(id, k) }})
	}
	return nil
}

func (a *Authority) renewOCSPSigner(ctx context.Context, s Spec, caCert *x509.Certificate, caKey crypto.Signer) (*x509.Certificate, string, error) {
	op := fmt.Sprintf("ca: renew OCSP responder of %q", s.ID)
	der, label, err := a.newOCSPSigner(s.ID, caCert, caKey, s.KeyType)
	if err != nil {
		return nil, "", err
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, "", sceau.E(sceau.Internal, op, "", err)
	}
	err = a.db.InTx(ctx, func(tx *store.Tx) error {
		if _, err := tx.ExecContext(ctx, qSetOCSPSigner, label, der, s.ID); err != nil {
			return store.Classify(op, err)
		}
		_, fp := Fingerprints(der)
		return a.journal.Append(ctx, tx, audit.Event{Actor: sceau.System("ocsp"), Action: "ca.ocsp_responder_renewed", Object: "ca:" + s.ID,
			Details: map[string]any{"key": label, "not_after": cert.NotAfter, "sha256": fp}})
	})
	return cert, label, err
}

// errClockRefused marks a step skipped because the clock guard refused.
var errClockRefused = errors.New("ca: refused by the clock guard")

// clockErr is the clock guard's refusal, if any (SYS-4). The guard's error
// is returned as it is: one precise kind (Unavailable, wrapping
// clockguard.ErrClockDrift) whatever signs.
func (a *Authority) clockErr(op string) error {
	if a.opts.ClockGuard == nil {
		return nil
	}
	if err := a.opts.ClockGuard(); err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	return nil
}

// Activated reports whether a signer can sign now: false for a key whose
// store is not activated (KEY-5). Signers that cannot tell are taken as
// activated; their Sign says otherwise.
func Activated(s crypto.Signer) bool {
	if a, ok := s.(interface{ Active() bool }); ok {
		return a.Active()
	}
	return true
}

// NotActivated is the refusal of a CA whose key is not activated.
func (a *Authority) NotActivated(op, caID string, cause error) error {
	msg := fmt.Sprintf("the key of CA %q is not activated", caID)
	if a.opts.ActivationHint != nil {
		if h := a.opts.ActivationHint(caID); h != "" {
			msg += ": " + h
		}
	}
	if cause == nil || errors.Is(cause, keys.ErrNotActivated) {
		return keys.NotActivated(op, msg)
	}
	return sceau.E(sceau.Unavailable, op, msg, fmt.Errorf("%w: %w", keys.ErrNotActivated, cause))
}

// Activated reports whether CA id can sign now.
func (a *Authority) Activated(id string) bool {
	c, err := a.CA(id)
	return err == nil && Activated(c.signer)
}

// RenewOCSPResponders replaces every responder certificate that ends
// within a third of its validity and reloads the CA. The scheduler calls it
// daily.
func (a *Authority) RenewOCSPResponders(ctx context.Context) error {
	for _, c := range a.CAs() {
		if a.clock.Now().Add(a.opts.OCSPSignerValidity / 3).After(c.OCSPCert.NotAfter) {
			if err := a.load(ctx, c.Spec); err != nil {
				return err
			}
		}
	}
	return nil
}

// randomSerial returns a positive serial of 127 random bits (CA-2: at least 64).
func randomSerial() *big.Int {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		panic("ca: crypto/rand failed: " + err.Error())
	}
	b[0] &= 0x7f
	b[0] |= 0x40 // keep 16 octets: a fixed length, never zero
	return new(big.Int).SetBytes(b)
}

// Fingerprints returns the SHA-1 and SHA-256 fingerprints of a certificate.
func Fingerprints(der []byte) (sha1hex, sha256hex string) {
	s1 := sha1.Sum(der)
	s2 := sha256.Sum256(der)
	return hex.EncodeToString(s1[:]), hex.EncodeToString(s2[:])
}

func sha256Hex(der []byte) string {
	_, h := Fingerprints(der)
	return h
}
