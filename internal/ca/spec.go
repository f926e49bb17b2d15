package ca

import (
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"fmt"
	"time"

	"github.com/sceau/sceau/internal/etsi"
	"github.com/sceau/sceau/internal/keys"
	"github.com/sceau/sceau/internal/revocation"
)

// MaxCAValidity is the policy's ceiling on CA key and certificate life (KEY-7).
const MaxCAValidity = 10 * 365 * 24 * time.Hour

// MinValidity is the shortest lifetime of an end-entity certificate (CA-2).
//
// Certificates start at the second of issuance (notBefore is truncated to
// the second), so anything under a second gives notBefore == notAfter.
// One hour is the floor because a shorter certificate is not usable in
// practice: relying parties' clocks may differ by minutes (SYS-4 only
// bounds Sceau's own), the OCSP and CRL answers about it are valid for
// days, and a lifetime of seconds is almost always a typing mistake
// ("1ns", "60s" for "60d"). It is also the floor of personal admin
// certificates (access.IssueCertificate), and no shipped profile or test
// asks for less.
const MinValidity = time.Hour

// Spec declares one CA of the hierarchy.
type Spec struct {
	ID       string
	Parent   string // "" for a self-signed root
	Subject  pkix.Name
	KeyType  keys.Type
	Validity time.Duration
	PathLen  int // -1: no limit
	Policies []Policy
	// ExtKeyUsage and OtherExtKeyUsage, when set, restrict the CA
	// certificate's purposes (TLS BR §7.1.2.10.6 for a TLS CA).
	ExtKeyUsage      []x509.ExtKeyUsage
	OtherExtKeyUsage []asn1.ObjectIdentifier
	CRL              revocation.CRLSchedule
	Profiles         []Profile
}

// Policy is a certificate policy OID with an optional CPS URI qualifier.
type Policy struct {
	OID    asn1.ObjectIdentifier
	CPSURI string
}

// Profile is one kind of end-entity certificate.
type Profile struct {
	Name        string
	KeyUsage    x509.KeyUsage
	ExtKeyUsage []x509.ExtKeyUsage
	// OtherExtKeyUsage are purposes crypto/x509 does not name
	// (OtherExtKeyUsageNames), written after ExtKeyUsage's.
	OtherExtKeyUsage []asn1.ObjectIdentifier
	Policies         []Policy
	KeyTypes         []keys.Type
	Validity         time.Duration
	MaxValidity      time.Duration
	AllowDNS         bool
	AllowEmail       bool
	AllowIP          bool
	RequireSAN       bool
	// Subject: attributes a request must carry or must not (CA-2).
	Subject SubjectRules
	// Lints names the zlint sources run before signing.
	Lints []string
	// ETSI, when set, is the EN 319 412 profile its certificates follow:
	// QCStatements added, clause rules run in the gate (CA-2).
	ETSI *etsi.Profile
}

// URLs builds the public URLs written into certificates; they must match
// the routes of the public listener.
type URLs struct {
	Base string // e.g. http://127.0.0.1:8080, no trailing slash
}

// CACert is where the CA's certificate is published (AIA caIssuers).
func (u URLs) CACert(id string) string { return u.Base + "/ca/" + id + ".der" }

// CRL is where the CA's full CRL is published (CDP).
func (u URLs) CRL(id string) string { return u.Base + "/crl/" + id + ".crl" }

// CRLShard is where partition k of the CA's CRL is published.
func (u URLs) CRLShard(id string, k int) string {
	return fmt.Sprintf("%s/crl/%s/%d.crl", u.Base, id, k)
}

// OCSP is the responder URL (AIA ocsp).
func (u URLs) OCSP() string { return u.Base + "/ocsp" }

// KeyUsageNames maps configuration names to key usages.
var KeyUsageNames = map[string]x509.KeyUsage{
	"digitalSignature":  x509.KeyUsageDigitalSignature,
	"contentCommitment": x509.KeyUsageContentCommitment,
	"keyEncipherment":   x509.KeyUsageKeyEncipherment,
	"dataEncipherment":  x509.KeyUsageDataEncipherment,
	"keyAgreement":      x509.KeyUsageKeyAgreement,
}

// OtherExtKeyUsageNames are the extended key usages crypto/x509 has no
// constant for, by configuration name.
var OtherExtKeyUsageNames = map[string]asn1.ObjectIdentifier{
	// RFC 9336: document signing, as qualified signature and seal
	// certificates assert; without an EKU a certificate serves any purpose,
	// TLS servers included.
	"documentSigning": {1, 3, 6, 1, 5, 5, 7, 3, 36},
}

// ExtKeyUsageNames maps configuration names to extended key usages.
var ExtKeyUsageNames = map[string]x509.ExtKeyUsage{
	"serverAuth":      x509.ExtKeyUsageServerAuth,
	"clientAuth":      x509.ExtKeyUsageClientAuth,
	"emailProtection": x509.ExtKeyUsageEmailProtection,
	"codeSigning":     x509.ExtKeyUsageCodeSigning,
	"timeStamping":    x509.ExtKeyUsageTimeStamping,
	"ocspSigning":     x509.ExtKeyUsageOCSPSigning,
}
