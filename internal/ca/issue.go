package ca

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"

	"github.com/sceau/sceau/internal/audit"
	"github.com/sceau/sceau/internal/etsi"
	"github.com/sceau/sceau/internal/keys"
	"github.com/sceau/sceau/internal/revocation"
	"github.com/sceau/sceau/internal/sceau"
	"github.com/sceau/sceau/internal/store"
)

// Prepared is a certificate whose serial and to-be-signed form are durably
// recorded. It can be signed once, by Issue.
type Prepared struct {
	ca       *CA
	profile  *Profile
	actor    sceau.Actor
	tmpl     *x509.Certificate
	pub      crypto.PublicKey
	tbs      []byte // RawTBSCertificate of the linted copy
	sigAlg   []byte // its DER signatureAlgorithm
	serial   string
	used     atomic.Bool
	Warnings []string // lint warnings (issuance goes on)
}

// Serial returns the reserved serial in lower-case hex.
func (p *Prepared) Serial() string { return p.serial }

// Issued is a signed and stored certificate.
type Issued struct {
	Serial string
	DER    []byte
	Cert   *x509.Certificate
	Chain  []*x509.Certificate // issuer first, up to the root
}

// Prepare checks req against its CA and profile, builds and lints the
// certificate, reserves its serial and commits the reservation with its
// audit event (record before sign). For GenerateKey requests use IssueWithKey.
func (a *Authority) Prepare(ctx context.Context, actor sceau.Actor, req Request) (*Prepared, error) {
	c, p, sr, err := a.parseRequest(req)
	if err != nil {
		return nil, err
	}
	return a.prepare(ctx, actor, c, p, req.Validity, sr, req.Claim)
}

// DryRun builds the certificate req would get, with the checks and the
// template Prepare uses, and returns it with a placeholder signature for
// the lint gate to report on (CA-2, 'sceau profile lint --csr'). It
// reserves no serial, journals nothing and needs no activated key.
func (a *Authority) DryRun(req Request) ([]byte, error) {
	const op = "ca: dry run"
	c, p, sr, err := a.parseRequest(req)
	if err != nil {
		return nil, err
	}
	tmpl, err := a.template(c, p, req.Validity, sr)
	if err != nil {
		return nil, err
	}
	c.drawSerial(tmpl, a.opts.URLs)
	der, _, _, err := c.lintCopy(tmpl, sr.pub)
	if err != nil {
		return nil, sceau.E(sceau.Invalid, op, "the certificate cannot be built", err)
	}
	return der, nil
}

// parseRequest finds req's CA and profile and reads its CSR.
func (a *Authority) parseRequest(req Request) (*CA, *Profile, *subjectRequest, error) {
	const op = "ca: prepare"
	c, err := a.CA(req.CA)
	if err != nil {
		return nil, nil, nil, err
	}
	p, ok := c.Profile(req.Profile)
	if !ok {
		return nil, nil, nil, sceau.Errorf(sceau.NotFound, op, "CA %q has no profile %q", req.CA, req.Profile)
	}
	switch {
	case req.CSR != nil && req.GenerateKey != "":
		return nil, nil, nil, sceau.Errorf(sceau.Invalid, op, "give a CSR or ask for a generated key, not both")
	case req.CSR == nil:
		return nil, nil, nil, sceau.Errorf(sceau.Invalid, op, "a CSR is required")
	}
	csr, err := ParseCSR(req.CSR)
	if err != nil {
		return nil, nil, nil, err
	}
	if len(csr.URIs) > 0 {
		return nil, nil, nil, sceau.Errorf(sceau.Invalid, op, "the request names URIs; Sceau profiles carry DNS names, email and IP addresses only")
	}
	if req.NamesGiven { // CA-4: the names are the dossier's, the CSR gives the key
		return c, p, &subjectRequest{pub: csr.PublicKey, subject: cleanSubject(req.Subject), dnsNames: req.DNSNames,
			emails: req.Emails, ips: req.IPs}, nil
	}
	return c, p, &subjectRequest{pub: csr.PublicKey, subject: cleanSubject(csr.Subject), dnsNames: csr.DNSNames,
		emails: csr.EmailAddresses, ips: csr.IPAddresses}, nil
}

func (a *Authority) prepare(ctx context.Context, actor sceau.Actor, c *CA, p *Profile, validity time.Duration, sr *subjectRequest,
	claim func(context.Context, *store.Tx, string) ([]audit.Event, error)) (*Prepared, error) {
	const op = "ca: prepare"
	start := time.Now()
	// KEY-5: a CA that cannot sign reserves no serial.
	if !Activated(c.signer) {
		a.observe("refused", start)
		return nil, a.NotActivated(op, c.Spec.ID, nil)
	}
	// SYS-4: nor does one whose clock is not trusted.
	if err := a.clockErr(op); err != nil {
		a.observe("refused", start)
		return nil, err
	}
	tmpl, err := a.template(c, p, validity, sr)
	if err != nil {
		a.observe("refused", start)
		return nil, err
	}
	now := tmpl.NotBefore

	for attempt := 0; ; attempt++ {
		c.drawSerial(tmpl, a.opts.URLs)
		// CA-2: build and lint before the real signature. The linted copy
		// carries the exact TBS the CA will sign and a placeholder signature.
		lintDER, tbs, sigAlg, err := c.lintCopy(tmpl, sr.pub)
		if err != nil {
			a.observe("refused", start)
			return nil, sceau.E(sceau.Invalid, op, "the certificate cannot be built", err)
		}
		f, err := a.lint.lintCertificate(lintDER, p.Lints)
		if err != nil {
			return nil, sceau.E(sceau.Internal, op, "", err)
		}
		if err := f.refuse(op); err != nil {
			a.observe("lint_refused", start)
			return nil, err
		}
		if p.ETSI != nil {
			if err := checkETSI(op, lintDER, p.ETSI, &f); err != nil {
				a.observe("lint_refused", start)
				return nil, err
			}
		}
		serial := revocation.SerialHex(tmpl.SerialNumber)
		subject := sr.subject.String()
		err = store.DoThen(a.committer, ctx, a, func(ctx context.Context, tx *store.Tx) ([]audit.Event, error) {
			if _, err := tx.ExecContext(ctx, qReserveCertificate, serial, c.Spec.ID, p.Name, subject, lintDER,
				store.FormatTime(tmpl.NotBefore), store.FormatTime(tmpl.NotAfter), store.FormatTime(now)); err != nil {
				return nil, store.Classify(op, err)
			}
			evs := []audit.Event{{Actor: actor, Action: "certificate.prepared", Object: "certificate:" + serial,
				Details: preparedDetails{CA: c.Spec.ID, DNSNames: sr.dnsNames, Emails: sr.emails, NotAfter: tmpl.NotAfter,
					NotBefore: tmpl.NotBefore, Profile: p.Name, Subject: subject}}}
			if claim != nil {
				more, err := claim(ctx, tx, serial)
				if err != nil {
					return nil, err
				}
				evs = append(evs, more...)
			}
			return evs, nil
		}, a.appendBatch)
		if errors.Is(err, sceau.ErrConflict) && attempt < 3 {
			continue // a serial collision: draw again
		}
		if err != nil {
			a.observe("error", start)
			return nil, err
		}
		return &Prepared{ca: c, profile: p, actor: actor, tmpl: tmpl, pub: sr.pub, tbs: tbs,
			sigAlg: sigAlg, serial: serial, Warnings: f.Warnings}, nil
	}
}

// template checks the request against its profile and CA and builds the
// certificate's template, without serial and distribution point
// (drawSerial sets them).
func (a *Authority) template(c *CA, p *Profile, validity time.Duration, sr *subjectRequest) (*x509.Certificate, error) {
	const op = "ca: prepare"
	if err := checkKey(sr.pub, p, c); err != nil {
		return nil, err
	}
	if err := checkNames(sr, p); err != nil {
		return nil, err
	}
	if err := p.Subject.check(p.Name, sr.subject); err != nil {
		return nil, err
	}
	now := a.clock.Now().UTC().Truncate(time.Second)
	if validity == 0 {
		validity = p.Validity
		// CA-2: the profile's default follows the CA/B Forum ceiling of the
		// day (TLS BR §6.3.2), a day under it as the template's 199d is
		// under 200d, so a profile written in 2026 keeps issuing on
		// 2027-03-15 with 99-day certificates instead of refusing.
		if max, _ := TLSMaxValidity(now); p.publicTLS() && validity >= max {
			validity = max - 24*time.Hour
		}
	}
	// CA-2: a lifetime outside [MinValidity, the profile's maximum] is refused.
	if validity < MinValidity {
		return nil, sceau.Errorf(sceau.Invalid, op, "validity %s is shorter than the minimum %s", validity, MinValidity)
	}
	if validity > p.MaxValidity {
		return nil, sceau.Errorf(sceau.Invalid, op, "validity %s exceeds the profile's maximum %s", days(validity), days(p.MaxValidity))
	}
	if p.publicTLS() {
		if max, since := TLSMaxValidity(now); validity > max {
			return nil, sceau.Errorf(sceau.Invalid, op, "validity %s exceeds the %s a public TLS certificate may last (%s)",
				days(validity), days(max), tlsRule(since))
		}
	}
	notAfter := notAfterFor(now, validity)
	// KEY-7: no certificate outlives its issuer.
	if notAfter.After(c.Cert.NotAfter) {
		return nil, sceau.Errorf(sceau.Invalid, op, "the certificate would end %s, after its issuer %q (%s)",
			notAfter.Format(time.DateOnly), c.Spec.ID, c.Cert.NotAfter.Format(time.DateOnly))
	}
	if now.Before(c.Cert.NotBefore) {
		return nil, sceau.Errorf(sceau.Unavailable, op, "CA %q is not valid before %s", c.Spec.ID, c.Cert.NotBefore)
	}
	tmpl := &x509.Certificate{
		Subject:               sr.subject,
		NotBefore:             now,
		NotAfter:              notAfter,
		KeyUsage:              keyUsageFor(p.KeyUsage, sr.pub),
		ExtKeyUsage:           p.ExtKeyUsage,
		BasicConstraintsValid: true,
		DNSNames:              sr.dnsNames,
		EmailAddresses:        sr.emails,
		IPAddresses:           sr.ips,
		IssuingCertificateURL: []string{a.opts.URLs.CACert(c.Spec.ID)},
		OCSPServer:            []string{a.opts.URLs.OCSP()},
		SignatureAlgorithm:    c.Spec.KeyType.SignatureAlgorithm(),
	}
	// The TLS baseline (§7.1.2.7.6) does not recommend a subject key
	// identifier in a subscriber certificate; elsewhere it helps path
	// building and RFC 5280 §4.2.1.2 recommends it.
	if !p.publicTLS() {
		tmpl.SubjectKeyId = subjectKeyID(marshalSPKI(sr.pub))
	}
	if pols := policiesFor(p, sr.subject); len(pols) > 0 {
		ext, err := policiesExtension(pols)
		if err != nil {
			return nil, sceau.E(sceau.Internal, op, "", err)
		}
		tmpl.ExtraExtensions = append(tmpl.ExtraExtensions, ext)
	}
	if timeStampingOnly(p.ExtKeyUsage) || len(p.OtherExtKeyUsage) > 0 {
		// Written here: RFC 3161 §2.3 wants a time-stamping unit's purpose
		// alone and critical, and crypto/x509 writes neither a critical EKU
		// nor one it has no constant for.
		ext, err := extKeyUsageExtension(p.ExtKeyUsage, p.OtherExtKeyUsage)
		if err != nil {
			return nil, sceau.E(sceau.Internal, op, "", err)
		}
		tmpl.ExtKeyUsage = nil
		tmpl.ExtraExtensions = append(tmpl.ExtraExtensions, ext)
	}
	if p.ETSI != nil {
		// EN 319 412-5: the statements the profile asks for.
		ext, ok, err := etsi.QCStatementsExtension(*p.ETSI)
		if err != nil {
			return nil, sceau.E(sceau.Internal, op, "", err)
		}
		if ok {
			tmpl.ExtraExtensions = append(tmpl.ExtraExtensions, ext)
		}
	}

	return tmpl, nil
}

// drawSerial gives tmpl a new random serial and the CRL distribution
// point of its shard.
func (c *CA) drawSerial(tmpl *x509.Certificate, urls URLs) {
	tmpl.SerialNumber = randomSerial()
	tmpl.CRLDistributionPoints = []string{urls.CRL(c.Spec.ID)}
	if c.Spec.CRL.Shards > 0 {
		tmpl.CRLDistributionPoints = []string{urls.CRLShard(c.Spec.ID, revocation.ShardOf(tmpl.SerialNumber, c.Spec.CRL.Shards))}
	}
}

// Issue signs a prepared certificate with the CA key, at most once, then
// stores it with its pre-signed OCSP response and its audit event. If
// signing fails the reservation stays: the serial is treated as issued.
func (a *Authority) Issue(ctx context.Context, p *Prepared) (*Issued, error) {
	const op = "ca: issue"
	start := time.Now()
	// SYS-4: the clock may have drifted since Prepare. Checked before the
	// token is spent: the reservation stays, Issue may be called again once
	// the clock is back, or the recovery revokes it as an orphan.
	if err := a.clockErr(op); err != nil {
		a.observe("refused", start)
		return nil, err
	}
	if !p.used.CompareAndSwap(false, true) {
		return nil, sceau.Errorf(sceau.Conflict, op, "certificate %s was signed already", p.serial)
	}
	der, cert, err := p.sign()
	if err != nil {
		a.observe("error", start)
		if errors.Is(err, keys.ErrNotActivated) {
			return nil, a.NotActivated(op, p.ca.Spec.ID, err)
		}
		msg := fmt.Sprintf("CA %q cannot sign", p.ca.Spec.ID)
		if sceau.KindOf(err) == sceau.NotFound { // KEY-6: a destroyed key says so
			msg += ": " + sceau.Message(err)
		}
		return nil, sceau.E(sceau.Unavailable, op, msg, err)
	}
	if a.opts.AfterSign != nil {
		a.opts.AfterSign(p.serial)
	}
	if !bytes.Equal(cert.RawTBSCertificate, p.tbs) {
		// Never happens unless crypto/x509 changes under us; the signed
		// certificate is not the linted one, so it is not handed out.
		return nil, sceau.Errorf(sceau.Internal, op, "certificate %s differs from its linted form", p.serial)
	}
	var ocspResp revocation.Response
	if a.rev != nil {
		if ocspResp, err = a.rev.SignGood(p.ca.Spec.ID, p.tmpl.SerialNumber); err != nil {
			return nil, err
		}
	}
	issuedAt := a.clock.Now()
	fp := sha256Hex(der)
	err = store.DoThen(a.committer, ctx, a, func(ctx context.Context, tx *store.Tx) ([]audit.Event, error) {
		var this, next any
		if ocspResp.DER != nil {
			this, next = store.FormatTime(ocspResp.ThisUpdate), store.FormatTime(ocspResp.NextUpdate)
		}
		res, err := tx.ExecContext(ctx, qCompleteCertificate, der, store.FormatTime(issuedAt), ocspResp.DER, this, next, p.serial)
		if err != nil {
			return nil, store.Classify(op, err)
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return nil, sceau.Errorf(sceau.Conflict, op, "certificate %s was revoked before it could be stored", p.serial)
		}
		return []audit.Event{{Actor: p.actor, Action: "certificate.issued", Object: "certificate:" + p.serial,
			Details: issuedDetails{CA: p.ca.Spec.ID, Profile: p.profile.Name, SHA256: fp}}}, nil
	}, a.appendBatch)
	if err != nil {
		a.observe("error", start)
		return nil, err
	}
	a.observe("issued", start)
	return &Issued{Serial: p.serial, DER: der, Cert: cert, Chain: p.ca.Chain}, nil
}

// appendBatch appends the events of a group-committed batch, each
// operation's in its order, in one append.
func (a *Authority) appendBatch(ctx context.Context, tx *store.Tx, items [][]audit.Event) error {
	n := 0
	for _, evs := range items {
		n += len(evs)
	}
	flat := make([]audit.Event, 0, n)
	for _, evs := range items {
		flat = append(flat, evs...)
	}
	return a.appendEvents(ctx, tx, flat)
}

// appendEvents appends the audit events of a group-committed batch of
// issuance steps in the batch's transaction (AUD-7: each commits with its
// state change).
func (a *Authority) appendEvents(ctx context.Context, tx *store.Tx, evs []audit.Event) error {
	if err := a.journal.Append(ctx, tx, evs...); err != nil {
		return err
	}
	// ROLE-3 (ca.terminate): a terminated CA issues nothing more. Checked
	// once per batch and CA, after the append: the termination appended its
	// own event, so holding the chain head (PostgreSQL) or the write lock
	// (SQLite) orders this batch after it, and this read sees it. The batch
	// then fails and each request is refused alone.
	seen := map[string]bool{}
	for _, ev := range evs {
		d, ok := ev.Details.(preparedDetails)
		if !ok || seen[d.CA] {
			continue
		}
		seen[d.CA] = true
		if err := a.refuseTerminated(ctx, tx, d.CA); err != nil {
			return err
		}
	}
	return nil
}

// sign signs the linted to-be-signed bytes themselves with the CA key, so
// the certificate handed out is byte for byte the one that was linted,
// and checks the signature against the CA certificate before anything
// else sees it (as x509.CreateCertificate does, against faulty signers).
// An algorithm it does not know goes through x509.CreateCertificate.
func (p *Prepared) sign() ([]byte, *x509.Certificate, error) {
	var h crypto.Hash
	switch p.tmpl.SignatureAlgorithm {
	case x509.ECDSAWithSHA256, x509.SHA256WithRSA:
		h = crypto.SHA256
	case x509.ECDSAWithSHA384, x509.SHA384WithRSA:
		h = crypto.SHA384
	default:
		der, err := x509.CreateCertificate(rand.Reader, p.tmpl, p.ca.Cert, p.pub, p.ca.signer)
		if err != nil {
			return nil, nil, err
		}
		cert, err := x509.ParseCertificate(der)
		return der, cert, err
	}
	sig, err := crypto.SignMessage(p.ca.signer, rand.Reader, p.tbs, h)
	if err != nil {
		return nil, nil, err
	}
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddBytes(p.tbs)
		b.AddBytes(p.sigAlg)
		b.AddASN1BitString(sig)
	})
	der, err := b.Bytes()
	if err != nil {
		return nil, nil, err
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, nil, err
	}
	if err := p.ca.Cert.CheckSignature(cert.SignatureAlgorithm, cert.RawTBSCertificate, cert.Signature); err != nil {
		return nil, nil, fmt.Errorf("the signature returned by the CA key is invalid: %w", err)
	}
	return der, cert, nil
}

// lintCopy builds the certificate to lint: Sceau's own TBS encoding with a
// placeholder signature (zlint never checks signatures), or, for a
// template that encoder does not cover, a copy signed by the throwaway lint
// key through x509.CreateCertificate.
func (c *CA) lintCopy(tmpl *x509.Certificate, pub crypto.PublicKey) (der, tbs, sigAlg []byte, err error) {
	tbs, err = encodeTBS(tmpl, c.Cert, pub)
	if err == nil {
		if sigAlg, _, err = signatureAlgorithm(tmpl.SignatureAlgorithm); err != nil {
			return nil, nil, nil, err
		}
		der, err = certificateDER(tbs, sigAlg, placeholderSignature(c.Cert.PublicKey))
		return der, tbs, sigAlg, err
	}
	if !errors.Is(err, errUnsupportedTemplate) {
		return nil, nil, nil, err
	}
	if der, err = x509.CreateCertificate(rand.Reader, tmpl, c.lintParent, pub, c.lintSigner); err != nil {
		return nil, nil, nil, err
	}
	tbs, sigAlg, err = splitCertificate(der)
	return der, tbs, sigAlg, err
}

// placeholderSignature has the size and shape of a real signature by key.
func placeholderSignature(key crypto.PublicKey) []byte {
	if k, ok := key.(*rsa.PublicKey); ok {
		return make([]byte, k.Size())
	}
	size := 32
	if k, ok := key.(*ecdsa.PublicKey); ok {
		size = (k.Curve.Params().BitSize + 7) / 8
	}
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		for i := 0; i < 2; i++ {
			b.AddASN1(cbasn1.INTEGER, func(b *cryptobyte.Builder) {
				b.AddUint8(0x7f)
				b.AddBytes(make([]byte, size-1))
			})
		}
	})
	sig, _ := b.Bytes()
	return sig
}

// splitCertificate returns the DER tbsCertificate and signatureAlgorithm
// of a DER certificate.
func splitCertificate(der []byte) (tbs, sigAlg []byte, err error) {
	in := cryptobyte.String(der)
	var cert cryptobyte.String
	var t, a cryptobyte.String
	if !in.ReadASN1(&cert, cbasn1.SEQUENCE) || !in.Empty() ||
		!cert.ReadASN1Element(&t, cbasn1.SEQUENCE) || !cert.ReadASN1Element(&a, cbasn1.SEQUENCE) {
		return nil, nil, errors.New("ca: malformed certificate")
	}
	return t, a, nil
}

// preparedDetails and issuedDetails are the audit details of issuance;
// fields in name order, as a map would be encoded.
type preparedDetails struct {
	CA       string    `json:"ca"`
	DNSNames []string  `json:"dns_names"`
	Emails   []string  `json:"emails"`
	NotAfter time.Time `json:"not_after"`
	// NotBefore lets a restore recreate the row from the journal (CONT-1).
	NotBefore time.Time `json:"not_before"`
	Profile   string    `json:"profile"`
	Subject   string    `json:"subject"`
}

type issuedDetails struct {
	CA      string `json:"ca"`
	Profile string `json:"profile"`
	SHA256  string `json:"sha256"`
}

// IssueCSR prepares and issues a certificate from a PKCS#10 request.
func (a *Authority) IssueCSR(ctx context.Context, actor sceau.Actor, req Request) (*Issued, error) {
	p, err := a.Prepare(ctx, actor, req)
	if err != nil {
		return nil, err
	}
	return a.Issue(ctx, p)
}

func (a *Authority) observe(outcome string, start time.Time) {
	if a.opts.Observe != nil {
		a.opts.Observe(outcome, time.Since(start))
	}
}
