package est

import (
	"bytes"
	"context"
	"crypto/x509"
	"database/sql"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/sceau/sceau/internal/audit"
	"github.com/sceau/sceau/internal/ca"
	"github.com/sceau/sceau/internal/registration"
	"github.com/sceau/sceau/internal/revocation"
	"github.com/sceau/sceau/internal/sceau"
	"github.com/sceau/sceau/internal/store"
)

// attempt is one enrollment request as it is checked, for the journal.
type attempt struct {
	op      string
	caID    string
	user    string
	serial  string // the client certificate's, on re-enrollment
	remote  string
	cred    *Credential
	renews  string
	dossier int64
}

func (a *attempt) actor() sceau.Actor {
	if a.cred != nil {
		return a.cred.actor()
	}
	return sceau.Actor{ID: "est:anonymous"}
}

func (s *Service) observe(op, outcome string) {
	if s.opts.Observe != nil {
		s.opts.Observe(op, outcome)
	}
}

// enroll serves simpleenroll (re false) and simplereenroll (re true):
// authenticate, read and check the CSR, issue through the CA's
// record-before-sign path, answer the certificate (RFC 7030 §4.2).
func (s *Service) enroll(w http.ResponseWriter, r *http.Request, c *ca.CA, re bool) {
	ctx := r.Context()
	a := &attempt{op: "simpleenroll", caID: c.Spec.ID, remote: r.RemoteAddr}
	if re {
		a.op = "simplereenroll"
	}
	der, rf := s.enrollChecked(ctx, w, r, a, re)
	if rf == nil {
		var issued *ca.Issued
		issued, rf = s.issue(ctx, a, der)
		if rf == nil {
			p7, err := certsOnly(issued.DER)
			if err != nil {
				fail(w, http.StatusInternalServerError, "internal error")
				return
			}
			answer(w, typeCertsOnly, p7)
			s.observe(a.op, "issued")
			return
		}
	}
	details := map[string]any{"operation": a.op, "ca": a.caID, "reason": rf.msg, "status": rf.status, "remote": a.remote}
	if rf.reason != "" {
		details["reason"] = rf.reason
	}
	if a.user != "" {
		details["username"] = a.user
	}
	if a.serial != "" {
		details["client_serial"] = a.serial
	}
	if a.dossier != 0 {
		details["dossier"] = a.dossier
	}
	if !rf.challenge {
		s.refused(context.WithoutCancel(ctx), a.actor(), details)
	}
	s.observe(a.op, strconv.Itoa(rf.status))
	if rf.status >= 500 {
		s.log.Error("est: request failed", "operation", a.op, "reason", details["reason"])
	}
	if rf.status == http.StatusServiceUnavailable {
		w.Header().Set("Retry-After", "60") // RFC 7030 §4.2.3: e.g. the CA is not activated yet
	}
	if rf.status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", fmt.Sprintf(`Basic realm=%q, charset="UTF-8"`, s.opts.Realm))
	}
	fail(w, rf.status, rf.msg)
}

// enrollChecked authenticates the request and returns its checked CSR.
func (s *Service) enrollChecked(ctx context.Context, w http.ResponseWriter, r *http.Request, a *attempt, re bool) ([]byte, *refusal) {
	var rf *refusal
	if re {
		rf = s.authenticateCert(ctx, r, a)
	} else {
		rf = s.authenticateBasic(ctx, r, a)
	}
	if rf != nil {
		return nil, rf
	}
	if a.cred.CA != a.caID {
		return nil, refuse(http.StatusForbidden, fmt.Sprintf("this credential enrolls under /.well-known/est/%s/, not under CA %s", a.cred.CA, a.caID))
	}
	der, rf := s.readCSR(w, r)
	if rf != nil {
		return nil, rf
	}
	csr, err := x509.ParseCertificateRequest(der)
	if err != nil {
		return nil, refuse(http.StatusBadRequest, "the body is not a DER PKCS#10 certificate request")
	}
	if err := csr.CheckSignature(); err != nil {
		return nil, refuse(http.StatusBadRequest, "the certificate request's signature does not verify (no proof of possession)")
	}
	// CA-4: the CSR may say less than the dossier, never other.
	if rf := namesAllowed(csr, a.cred.Subject); rf != nil {
		return nil, rf
	}
	// RFC 7030 §4.2.2: a re-enrollment keeps the subject and names of
	// the certificate it renews. Both come from the dossier, not from the
	// CSR, so the new certificate carries the old one's; a CSR that names
	// anything else was refused above.
	return der, nil
}

// authenticateBasic finds the credential of HTTP Basic (simpleenroll).
func (s *Service) authenticateBasic(ctx context.Context, r *http.Request, a *attempt) *refusal {
	user, pass, ok := r.BasicAuth()
	if !ok {
		return &refusal{status: http.StatusUnauthorized, msg: "authenticate with the EST user name and password (HTTP Basic)", challenge: true}
	}
	if len(user) > 100 {
		user = user[:100]
	}
	a.user = user
	wrong := &refusal{status: http.StatusUnauthorized, msg: "the user name or the password is wrong"}
	cred, err := s.credential(ctx, s.db, user)
	if sceau.KindOf(err) == sceau.NotFound {
		hashHex(pass) // the same work as for a known user
		wrong.reason = "unknown user name"
		return wrong
	}
	if err != nil {
		return refusalOf(err)
	}
	a.dossier = cred.Dossier
	if !cred.matches(pass) {
		wrong.reason = "wrong password"
		return wrong
	}
	a.cred = cred
	if cred.RevokedAt != nil {
		return refuse(http.StatusForbidden, "this EST credential was revoked")
	}
	return nil
}

// authenticateCert checks the TLS client certificate (simplereenroll):
// one this server issued, neither revoked nor expired, whose credential
// is in force. The TLS handshake proved the possession of its key.
func (s *Service) authenticateCert(ctx context.Context, r *http.Request, a *attempt) *refusal {
	if r.TLS == nil || len(r.TLS.PeerCertificates) == 0 {
		return refuse(http.StatusForbidden, "present the certificate to renew as the TLS client certificate")
	}
	leaf := r.TLS.PeerCertificates[0]
	a.serial = revocation.SerialHex(leaf.SerialNumber)
	foreign := refuse(http.StatusForbidden, "the client certificate was not issued by this EST server")
	var user, kind string
	var renews sql.NullString
	var created string
	err := s.db.QueryRowContext(ctx, qEnrollment, a.serial).Scan(&user, &a.dossier, &kind, &renews, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return foreign
	}
	if err != nil {
		return refusalOf(store.Classify("est: enrollment", err))
	}
	rec, err := s.ca.Certificate(ctx, a.serial)
	if err != nil || !bytes.Equal(rec.DER, leaf.Raw) {
		return foreign
	}
	a.user = user
	switch now := s.now(); {
	case rec.Status == "revoked":
		return refuse(http.StatusForbidden, "the client certificate is revoked")
	case rec.Status != "issued":
		return foreign
	case now.Before(rec.NotBefore) || now.After(rec.NotAfter):
		return refuse(http.StatusForbidden, "the client certificate is expired or not yet valid")
	}
	cred, err := s.credential(ctx, s.db, user)
	if err != nil {
		return refusalOf(err)
	}
	a.cred = cred
	if cred.RevokedAt != nil {
		return refuse(http.StatusForbidden, "the EST credential of this certificate was revoked")
	}
	a.renews = a.serial
	return nil
}

// readCSR reads the body: a base64 DER PKCS#10 (RFC 7030 §4.2.1; line
// breaks allowed), or a PEM one, within the cap.
func (s *Service) readCSR(w http.ResponseWriter, r *http.Request) ([]byte, *refusal) {
	if ct := strings.ToLower(strings.TrimSpace(strings.Split(r.Header.Get("Content-Type"), ";")[0])); ct != "" && ct != "application/pkcs10" {
		return nil, refuse(http.StatusUnsupportedMediaType, "the request is application/pkcs10, not "+ct)
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, s.opts.MaxBody))
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return nil, refuse(http.StatusRequestEntityTooLarge, fmt.Sprintf("the request is over %d bytes", s.opts.MaxBody))
	}
	if err != nil {
		return nil, refuse(http.StatusBadRequest, "the request body could not be read")
	}
	var der []byte
	if b, _ := pem.Decode(body); b != nil {
		der = b.Bytes
	} else {
		compact := strings.Map(func(r rune) rune {
			if r == ' ' || r == '\t' || r == '\r' || r == '\n' {
				return -1
			}
			return r
		}, string(body))
		if der, err = base64.StdEncoding.DecodeString(compact); err != nil {
			return nil, refuse(http.StatusBadRequest, "the body is not a base64 PKCS#10 certificate request")
		}
	}
	if len(der) == 0 {
		return nil, refuse(http.StatusBadRequest, "the request is empty")
	}
	if len(der) > ca.MaxCSRBytes {
		return nil, refuse(http.StatusRequestEntityTooLarge, fmt.Sprintf("the certificate request is over %d bytes", ca.MaxCSRBytes))
	}
	return der, nil
}

// namesAllowed checks that every name and subject attribute of the CSR
// is the dossier's (the common name may be one of its DNS names or
// emails, an emailAddress attribute one of its emails).
func namesAllowed(csr *x509.CertificateRequest, subj registration.Subject) *refusal {
	no := func(format string, args ...any) *refusal {
		return refuse(http.StatusForbidden, "the dossier does not hold "+fmt.Sprintf(format, args...))
	}
	has := func(list []string, v string) bool {
		return slices.ContainsFunc(list, func(x string) bool { return strings.EqualFold(x, v) })
	}
	for _, n := range csr.DNSNames {
		if !has(subj.DNSNames, strings.TrimSuffix(n, ".")) {
			return no("the DNS name %q", n)
		}
	}
	for _, e := range csr.EmailAddresses {
		if !has(subj.Emails, e) {
			return no("the email address %q", e)
		}
	}
	for _, ip := range csr.IPAddresses {
		if !slices.ContainsFunc(subj.IPs, func(v string) bool { return net.ParseIP(v).Equal(ip) }) {
			return no("the IP address %s", ip)
		}
	}
	if len(csr.URIs) > 0 {
		return no("the URI %s", csr.URIs[0])
	}
	var held []string
	for _, rdn := range subj.Name().ToRDNSequence() {
		for _, atv := range rdn {
			held = append(held, atv.Type.String()+"="+fmt.Sprint(atv.Value))
		}
	}
	cn, email := []int{2, 5, 4, 3}, []int{1, 2, 840, 113549, 1, 9, 1}
	for _, atv := range csr.Subject.Names {
		v := fmt.Sprint(atv.Value)
		if atv.Type.Equal(cn) && (has(subj.DNSNames, v) || has(subj.Emails, v)) || atv.Type.Equal(email) && has(subj.Emails, v) {
			continue
		}
		if !slices.Contains(held, atv.Type.String()+"="+v) {
			return no("the subject attribute %s=%q", atv.Type, v)
		}
	}
	return nil
}

// issue issues the certificate through the CA's record-before-sign path
// (CA-2), with the dossier's subject and names (CA-4); the enrollment is
// recorded, with its event, in the reservation's transaction.
func (s *Service) issue(ctx context.Context, a *attempt, der []byte) (*ca.Issued, *refusal) {
	cred := a.cred
	var ips []net.IP
	for _, v := range cred.Subject.IPs {
		ip := net.ParseIP(v)
		if ip == nil {
			return nil, refuse(http.StatusInternalServerError, "the dossier's IP address does not parse")
		}
		ips = append(ips, ip)
	}
	kind := "enroll"
	if a.renews != "" {
		kind = "reenroll"
	}
	cr := ca.Request{CA: cred.CA, Profile: cred.Profile, CSR: der, NamesGiven: true, Subject: cred.Subject.Name(),
		DNSNames: cred.Subject.DNSNames, Emails: cred.Subject.Emails, IPs: ips}
	cr.Claim = func(ctx context.Context, tx *store.Tx, serial string) ([]audit.Event, error) {
		var renews any
		if a.renews != "" {
			renews = a.renews
		}
		if _, err := tx.ExecContext(ctx, qInsertEnrollment, serial, cred.Username, cred.Dossier, kind, renews, store.FormatTime(s.now())); err != nil {
			return nil, store.Classify("est: enrollment", err)
		}
		details := map[string]any{"serial": serial, "username": cred.Username, "dossier": cred.Dossier, "operation": a.op,
			"ca": cred.CA, "profile": cred.Profile}
		if a.renews != "" {
			details["renews"] = a.renews
		}
		return []audit.Event{{Actor: cred.actor(), Action: audit.ActionESTEnrolled, Object: fmt.Sprintf("dossier:%d", cred.Dossier),
			Details: details}}, nil
	}
	prep, err := s.ca.Prepare(ctx, cred.actor(), cr)
	if err != nil {
		return nil, refusalOf(err)
	}
	issued, err := s.ca.Issue(ctx, prep)
	if err != nil {
		s.log.Error("est: signing failed after the reservation", "serial", prep.Serial(), "err", err)
		return nil, refusalOf(err)
	}
	return issued, nil
}
