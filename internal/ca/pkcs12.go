package ca

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"slices"

	"software.sslmate.com/src/go-pkcs12"

	"github.com/sceau/sceau/internal/keys"
	"github.com/sceau/sceau/internal/sceau"
)

// MinPKCS12Password is the shortest password accepted to protect a PKCS#12.
const MinPKCS12Password = 12

// Delivery is a certificate with a generated key, sealed in a PKCS#12.
type Delivery struct {
	Issued *Issued
	PKCS12 []byte
	// Password is set when Sceau chose it; show it once to the holder.
	Password string
}

// IssueWithKey generates the holder's key (req.GenerateKey), issues the
// certificate and returns both in a PKCS#12 sealed with AES-256-CBC and
// PBKDF2-SHA-256 under password (openssl 3 reads it without -legacy). An
// empty password makes Sceau choose one. The key exists only inside the
// returned PKCS#12: it is never stored (KEY-3).
func (a *Authority) IssueWithKey(ctx context.Context, actor sceau.Actor, req Request, password string) (*Delivery, error) {
	const op = "ca: issue with key"
	if req.CSR != nil || req.GenerateKey == "" {
		return nil, sceau.Errorf(sceau.Invalid, op, "name a key type to generate, without a CSR")
	}
	if !slices.Contains(keys.Types, req.GenerateKey) {
		return nil, sceau.Errorf(sceau.Invalid, op, "unknown key type %q", req.GenerateKey)
	}
	chosen := ""
	if password == "" {
		b := make([]byte, 15)
		if _, err := rand.Read(b); err != nil {
			return nil, sceau.E(sceau.Internal, op, "", err)
		}
		password = base64.RawURLEncoding.EncodeToString(b)
		chosen = password
	}
	if len(password) < MinPKCS12Password {
		return nil, sceau.Errorf(sceau.Invalid, op, "the PKCS#12 password must have at least %d characters", MinPKCS12Password)
	}
	c, err := a.CA(req.CA)
	if err != nil {
		return nil, err
	}
	p, ok := c.Profile(req.Profile)
	if !ok {
		return nil, sceau.Errorf(sceau.NotFound, op, "CA %q has no profile %q", req.CA, req.Profile)
	}
	if err := a.clockErr(op); err != nil { // SYS-4: before a key is made for nothing
		return nil, err
	}
	key, err := req.GenerateKey.Generate(nil)
	if err != nil {
		return nil, sceau.E(sceau.Internal, op, "", err)
	}
	sr := subjectRequest{pub: key.Public(), subject: cleanSubject(req.Subject), dnsNames: req.DNSNames, emails: req.Emails, ips: req.IPs}
	prep, err := a.prepare(ctx, actor, c, p, req.Validity, &sr, req.Claim)
	if err != nil {
		return nil, err
	}
	iss, err := a.Issue(ctx, prep)
	if err != nil {
		return nil, err
	}
	pfx, err := pkcs12.Modern2023.Encode(key, iss.Cert, iss.Chain, password)
	if err != nil {
		return nil, sceau.E(sceau.Internal, op, "cannot seal the PKCS#12", err)
	}
	return &Delivery{Issued: iss, PKCS12: pfx, Password: chosen}, nil
}
