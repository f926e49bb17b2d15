package acme

import (
	"bytes"
	"context"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/sceau/sceau/internal/audit"
	"github.com/sceau/sceau/internal/ca"
	"github.com/sceau/sceau/internal/revocation"
	"github.com/sceau/sceau/internal/sceau"
	"github.com/sceau/sceau/internal/store"
)

// finalize issues the order's certificate from its CSR through the CA's
// pipeline (CA-2): profile check, lint gate, serial reserved and journaled
// before the signature. The order is claimed in the reservation's
// transaction, so it is issued at most once.
func (s *Service) finalize(ctx context.Context, w http.ResponseWriter, r *http.Request, dir Directory, idText string) *problem {
	req, p := s.verify(ctx, w, r, dir, needKID)
	if p != nil {
		return p
	}
	o, p := s.loadOrder(ctx, req.account, idText)
	if p != nil {
		return p
	}
	if st := s.status(ctx, o); st != "ready" {
		return prob(probOrderNotReady, http.StatusForbidden, "the order is "+st+", not ready")
	}
	var in struct {
		CSR string `json:"csr"`
	}
	if p := req.decode(&in); p != nil {
		return p
	}
	der, err := base64.RawURLEncoding.DecodeString(in.CSR)
	if err != nil {
		return prob(probBadCSR, http.StatusBadRequest, "the csr is not base64url DER")
	}
	if len(der) > ca.MaxCSRBytes {
		return prob(probBadCSR, http.StatusBadRequest, "the CSR is too large")
	}
	// The names are compared here; ca.Prepare checks the request again in
	// full (ca.ParseCSR: its signature, the proof of possession).
	csr, err := x509.ParseCertificateRequest(der)
	if err != nil {
		return prob(probBadCSR, http.StatusBadRequest, "the csr is not a DER PKCS#10 request")
	}
	cn, p := csrMatches(csr, o.Identifiers)
	if p != nil {
		return p
	}
	// CA-4: the binding must still be in force when the certificate is made.
	if _, p := s.allowedNames(ctx, req.account); p != nil {
		return p
	}
	if p := s.limitFinalize(ctx, dir, req.account, o); p != nil {
		return p
	}
	a := req.account
	cr := ca.Request{CA: dir.CA, Profile: dir.Profile, CSR: der, NamesGiven: true, DNSNames: o.Identifiers,
		Subject: pkix.Name{CommonName: cn}}
	cr.Claim = func(ctx context.Context, tx *store.Tx, serial string) ([]audit.Event, error) {
		if err := moved(tx.ExecContext(ctx, qClaimOrder, serial, store.FormatTime(s.now()), o.ID)); err != nil {
			return nil, prob(probOrderNotReady, http.StatusForbidden, "the order was finalized meanwhile")
		}
		return []audit.Event{{Actor: a.actor(), Action: audit.ActionACMEOrderFinalized, Object: "acme-order:" + itoa(o.ID),
			Details: map[string]any{"serial": serial, "identifiers": o.Identifiers, "eab": a.EABKID, "ca": dir.CA, "profile": dir.Profile}}}, nil
	}
	prep, err := s.ca.Prepare(ctx, a.actor(), cr)
	if err != nil {
		return problemOf(err, probBadCSR)
	}
	if _, err := s.ca.Issue(ctx, prep); err != nil {
		s.log.Error("acme: signing failed after the reservation", "order", o.ID, "serial", prep.Serial(), "err", err)
		return problemOf(err, probServerInternal)
	}
	// Signed and recorded: the order is valid without asking the CA again.
	o.Status, o.Serial = "valid", prep.Serial()
	s.observe("order", "valid")
	return s.writeOrder(ctx, w, r, dir, o, http.StatusOK)
}

// csrMatches checks that the CSR names exactly the order's identifiers
// (its common name, if any, among them) and nothing else; it returns the
// common name.
func csrMatches(csr *x509.CertificateRequest, ids []string) (string, *problem) {
	if len(csr.IPAddresses)+len(csr.EmailAddresses)+len(csr.URIs) > 0 {
		return "", prob(probBadCSR, http.StatusBadRequest, "the CSR names IP addresses, emails or URIs the order does not")
	}
	var names []string
	for _, n := range csr.DNSNames {
		n = strings.ToLower(n)
		if !slices.Contains(names, n) {
			names = append(names, n)
		}
	}
	cn := strings.ToLower(csr.Subject.CommonName)
	if cn != "" && !slices.Contains(names, cn) {
		names = append(names, cn)
	}
	slices.Sort(names)
	if !slices.Equal(names, ids) {
		return "", prob(probBadCSR, http.StatusBadRequest, fmt.Sprintf("the CSR names %v, the order %v", names, ids))
	}
	return cn, nil
}

// certificate serves an issued certificate with its chain
// (application/pem-certificate-chain): by default up to the last
// intermediate; the alternate ("/full") includes the root.
func (s *Service) certificate(ctx context.Context, w http.ResponseWriter, r *http.Request, dir Directory, serial string, full bool) *problem {
	req, p := s.verify(ctx, w, r, dir, needKID)
	if p != nil {
		return p
	}
	o, err := scanOrder(s.db.QueryRowContext(ctx, qOrderBySerial, serial))
	if err != nil || o.Account != req.account.ID {
		return prob(probMalformed, http.StatusNotFound, "no such certificate for this account")
	}
	rec, err := s.ca.Certificate(ctx, serial)
	if err != nil || rec.Status == "reserved" {
		return prob(probMalformed, http.StatusNotFound, "the certificate is not issued")
	}
	c, err := s.ca.CA(rec.CA)
	if err != nil {
		return problemOf(err, probServerInternal)
	}
	chain := c.Chain
	if !full && len(chain) > 1 {
		chain = chain[:len(chain)-1] // the root is the relying party's own
	}
	var buf bytes.Buffer
	_ = pem.Encode(&buf, &pem.Block{Type: "CERTIFICATE", Bytes: rec.DER})
	for _, cc := range chain {
		_ = pem.Encode(&buf, &pem.Block{Type: "CERTIFICATE", Bytes: cc.Raw})
	}
	base := s.dirURL(r, dir, "cert/"+serial)
	alt := base + "/full"
	if full {
		alt = base
	}
	w.Header().Add("Link", fmt.Sprintf(`<%s>;rel="alternate"`, alt))
	if leaf, err := x509.ParseCertificate(rec.DER); err == nil && len(leaf.IssuingCertificateURL) > 0 {
		w.Header().Add("Link", fmt.Sprintf(`<%s>;rel="up"`, leaf.IssuingCertificateURL[0]))
	}
	w.Header().Set("Content-Type", "application/pem-certificate-chain")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(buf.Bytes())
	return nil
}

// The revocation reasons a subscriber may give (RFC 8555 §7.6).
var subscriberReasons = []int{0, 1, 3, 4, 5}

// revokeCert revokes a certificate, signed by the account that ordered
// it or by the certificate's own key (RFC 8555 §7.6).
func (s *Service) revokeCert(ctx context.Context, w http.ResponseWriter, r *http.Request, dir Directory) *problem {
	req, p := s.verify(ctx, w, r, dir, eitherKey)
	if p != nil {
		return p
	}
	var in struct {
		Certificate string `json:"certificate"`
		Reason      *int   `json:"reason"`
	}
	if p := req.decode(&in); p != nil {
		return p
	}
	der, err := base64.RawURLEncoding.DecodeString(in.Certificate)
	if err != nil {
		return malformed("the certificate is not base64url DER")
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return malformed("the certificate does not parse")
	}
	reason := 0
	if in.Reason != nil {
		reason = *in.Reason
	}
	if !slices.Contains(subscriberReasons, reason) {
		return prob(probBadRevocationReason, http.StatusBadRequest, fmt.Sprintf("reason %d is not one a subscriber gives", reason))
	}
	serial := revocation.SerialHex(cert.SerialNumber)
	rec, err := s.ca.Certificate(ctx, serial)
	if err != nil || !bytes.Equal(rec.DER, der) {
		return prob(probMalformed, http.StatusNotFound, "this CA did not issue that certificate")
	}
	actor := sceau.Actor{ID: "acme:certificate-key"}
	if req.account != nil {
		o, err := scanOrder(s.db.QueryRowContext(ctx, qOrderBySerial, serial))
		if err != nil || o.Account != req.account.ID {
			return unauthorized("the certificate was not ordered by this account")
		}
		actor = req.account.actor()
	} else if !sameKey(req.key, cert) {
		return unauthorized("the JWS is not signed by the certificate's key")
	}
	if err := s.rev.Revoke(ctx, actor, serial, reason); err != nil {
		if errors.Is(err, sceau.ErrConflict) {
			return prob(probAlreadyRevoked, http.StatusBadRequest, "the certificate is revoked already")
		}
		return problemOf(err, probMalformed)
	}
	w.WriteHeader(http.StatusOK)
	return nil
}

func sameKey(k *jose.JSONWebKey, cert *x509.Certificate) bool {
	a, err1 := x509.MarshalPKIXPublicKey(k.Key)
	b, err2 := x509.MarshalPKIXPublicKey(cert.PublicKey)
	return err1 == nil && err2 == nil && bytes.Equal(a, b)
}
