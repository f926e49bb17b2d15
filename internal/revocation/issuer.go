package revocation

import (
	"crypto"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"encoding/asn1"
	"slices"
	"strings"
	"time"

	"github.com/sceau/sceau/internal/sceau"
)

// Issuer is what revocation needs of a CA: its certificate and key for CRLs,
// its delegated OCSP responder, and its CRL schedule.
type Issuer struct {
	ID     string
	Cert   *x509.Certificate
	Signer crypto.Signer // the CA key; signs CRLs
	// OCSPCert is the delegated responder certificate (id-kp-OCSPSigning,
	// ocsp-nocheck) issued by Cert; OCSPSigner is its key.
	OCSPCert   *x509.Certificate
	OCSPSigner crypto.Signer
	CRL        CRLSchedule
	// CRLURL is where the CA's full CRL is published; shard k is at
	// ShardURL(k).
	CRLURL   string
	ShardURL func(k int) string

	// Computed once by AddIssuer: the CertID hashes of Cert and the
	// responder's key hash (its ResponderID).
	certIDs     []certIDKey
	responderID []byte
}

// CRLSchedule is a CA's CRL policy.
type CRLSchedule struct {
	Validity time.Duration // nextUpdate - thisUpdate
	Refresh  time.Duration // reissue when the current CRL is this old
	Shards   int           // 0: one CRL; n > 0: also n partitioned CRLs
}

// certIDKey identifies an issuer in an OCSP CertID.
type certIDKey struct {
	hash     crypto.Hash
	nameHash string
	keyHash  string
}

// keyHash is the SHA-1 of a certificate's public key bits (RFC 6960 KeyHash).
func keyHash(cert *x509.Certificate) []byte {
	var spki struct {
		Algorithm asn1.RawValue
		PublicKey asn1.BitString
	}
	if _, err := asn1.Unmarshal(cert.RawSubjectPublicKeyInfo, &spki); err != nil {
		return nil
	}
	sum := sha1.Sum(spki.PublicKey.RightAlign())
	return sum[:]
}

func issuerKeys(cert *x509.Certificate) []certIDKey {
	var spki struct {
		Algorithm asn1.RawValue
		PublicKey asn1.BitString
	}
	if _, err := asn1.Unmarshal(cert.RawSubjectPublicKeyInfo, &spki); err != nil {
		return nil
	}
	n1, k1 := sha1.Sum(cert.RawSubject), sha1.Sum(spki.PublicKey.RightAlign())
	n2, k2 := sha256.Sum256(cert.RawSubject), sha256.Sum256(spki.PublicKey.RightAlign())
	return []certIDKey{
		{crypto.SHA1, string(n1[:]), string(k1[:])},
		{crypto.SHA256, string(n2[:]), string(k2[:])},
	}
}

// Reasons are the RFC 5280 CRLReason codes Sceau accepts, by name.
//
// certificateHold (6) and removeFromCRL (8) are not among them (CA-3):
// Sceau does not suspend certificates. A hold that can never be lifted is
// a revocation that lies about its reason, the CA/B Forum TLS baseline
// (§7.2.2) forbids certificateHold, and EN 319 411-1 lets a policy do
// without suspension. A revocation is final.
var Reasons = map[string]int{
	"unspecified":          0,
	"keyCompromise":        1,
	"cACompromise":         2,
	"affiliationChanged":   3,
	"superseded":           4,
	"cessationOfOperation": 5,
	"privilegeWithdrawn":   9,
	"aACompromise":         10,
}

// ParseReason returns the code of an accepted reason, or the refusal that
// names what is accepted.
func ParseReason(op, name string) (int, error) {
	if code, ok := Reasons[name]; ok {
		return code, nil
	}
	names := make([]string, 0, len(Reasons))
	for n := range Reasons {
		names = append(names, n)
	}
	slices.Sort(names)
	if name == "certificateHold" || name == "removeFromCRL" {
		return 0, sceau.Errorf(sceau.Invalid, op, "%s is refused: Sceau does not suspend certificates, a revocation is final "+
			"(CA/B Forum TLS BR §7.2.2; choose one of %s)", name, strings.Join(names, ", "))
	}
	return 0, sceau.Errorf(sceau.Invalid, op, "%q is not an RFC 5280 reason Sceau accepts (%s)", name, strings.Join(names, ", "))
}

// ReasonName returns the RFC 5280 name of a reason Sceau accepts.
func ReasonName(code int) string {
	for n, c := range Reasons {
		if c == code {
			return n
		}
	}
	return "unknown"
}
