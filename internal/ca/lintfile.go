package ca

import (
	"bytes"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"slices"
	"time"

	"golang.org/x/crypto/ocsp"

	"github.com/sceau/sceau/internal/sceau"
)

// Report is what the gate found in one document (`sceau profile lint`).
type Report struct {
	Kind     string // certificate, crl, ocsp-response
	Subject  string // the certificate's subject, the CRL's issuer, the responder
	Errors   []string
	Warnings []string
}

// LintDocument lints a certificate, CRL or OCSP response (PEM or DER) with
// the gate of issuance (CA-2): a certificate with profile p's sets and, for
// an eIDAS profile, its EN 319 412 rules, or with zlint's whole registry
// when p is nil; a CRL with the RFC 5280 lints; an OCSP response with the
// RFC 6960 rules Sceau's own responses follow (zlint has no OCSP lints).
func LintDocument(b []byte, p *Profile) (*Report, error) {
	const op = "profile lint"
	der, pemType := b, ""
	if blk, _ := pem.Decode(bytes.TrimSpace(b)); blk != nil {
		der, pemType = blk.Bytes, blk.Type
	}
	if pemType == "" || pemType == "CERTIFICATE" {
		if cert, err := x509.ParseCertificate(der); err == nil {
			r := &Report{Kind: "certificate", Subject: cert.Subject.String()}
			var sources []string
			if p != nil {
				sources = p.Lints
			}
			f, err := LintCertificate(der, sources...)
			if err != nil {
				return nil, sceau.E(sceau.Invalid, op, "", err)
			}
			if p != nil && p.ETSI != nil {
				if err := checkETSI(op, der, p.ETSI, &f); err != nil {
					f.Errors = append(f.Errors, sceau.Message(err))
				}
			}
			r.Errors, r.Warnings = f.Errors, f.Warnings
			return r, nil
		}
	}
	if pemType == "" || pemType == "X509 CRL" {
		if crl, err := x509.ParseRevocationList(der); err == nil {
			f, err := LintCRL(der)
			if err != nil {
				return nil, sceau.E(sceau.Invalid, op, "", err)
			}
			return &Report{Kind: "crl", Subject: crl.Issuer.String(), Errors: f.Errors, Warnings: f.Warnings}, nil
		}
	}
	if resp, err := ocsp.ParseResponse(der, nil); err == nil {
		return lintOCSP(resp), nil
	} else if pemType == "" {
		return nil, sceau.Errorf(sceau.Invalid, op, "neither a certificate, a CRL nor an OCSP response (DER or PEM): %v", err)
	}
	return nil, sceau.Errorf(sceau.Invalid, op, "PEM block %q holds no certificate, CRL or OCSP response", pemType)
}

// lintOCSP checks a successful OCSP response against RFC 6960 and RFC 5019
// as Sceau's responder writes them: a nextUpdate after thisUpdate, and a
// delegated responder certificate with id-kp-OCSPSigning and ocsp-nocheck.
func lintOCSP(resp *ocsp.Response) *Report {
	r := &Report{Kind: "ocsp-response"}
	if resp.NextUpdate.IsZero() {
		r.Errors = append(r.Errors, "RFC 5019 §2.2.4: no nextUpdate")
	} else if !resp.NextUpdate.After(resp.ThisUpdate) {
		r.Errors = append(r.Errors, "RFC 6960 §4.2.2.1: nextUpdate is not after thisUpdate")
	}
	if resp.ThisUpdate.After(time.Now().Add(time.Hour)) {
		r.Errors = append(r.Errors, "RFC 6960 §4.2.2.1: thisUpdate is in the future")
	}
	if c := resp.Certificate; c != nil {
		r.Subject = c.Subject.String()
		if !slices.Contains(c.ExtKeyUsage, x509.ExtKeyUsageOCSPSigning) {
			r.Errors = append(r.Errors, "RFC 6960 §4.2.2.2: the responder certificate lacks id-kp-OCSPSigning")
		}
		if !slices.ContainsFunc(c.Extensions, func(e pkix.Extension) bool { return e.Id.Equal(oidOCSPNoCheck) }) {
			r.Warnings = append(r.Warnings, "RFC 6960 §4.2.2.2.1: the responder certificate has no id-pkix-ocsp-nocheck")
		}
		if err := resp.CheckSignatureFrom(c); err != nil {
			r.Errors = append(r.Errors, fmt.Sprintf("RFC 6960 §4.2.2.2: the responder certificate did not sign the response: %v", err))
		}
	}
	return r
}
