package etsi

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"math/big"
	"sync"
	"testing"
	"time"
)

var (
	caOnce sync.Once
	caCert *x509.Certificate
	caKey  *ecdsa.PrivateKey
	leafK  *ecdsa.PrivateKey
)

// testCA is a throwaway issuing CA; the rules never look at the issuer.
func testCA(t testing.TB) (*x509.Certificate, *ecdsa.PrivateKey) {
	t.Helper()
	caOnce.Do(func() {
		var err error
		if caKey, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader); err != nil {
			panic(err)
		}
		if leafK, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader); err != nil {
			panic(err)
		}
		tmpl := &x509.Certificate{
			SerialNumber:          big.NewInt(1),
			Subject:               pkix.Name{Country: []string{"FR"}, Organization: []string{"Sceau test"}, CommonName: "Sceau test CA"},
			NotBefore:             time.Now().Add(-time.Hour),
			NotAfter:              time.Now().Add(24 * time.Hour),
			KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
			BasicConstraintsValid: true,
			IsCA:                  true,
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &caKey.PublicKey, caKey)
		if err != nil {
			panic(err)
		}
		if caCert, err = x509.ParseCertificate(der); err != nil {
			panic(err)
		}
	})
	return caCert, caKey
}

func oid(o asn1.ObjectIdentifier) x509.OID {
	u := make([]uint64, len(o))
	for i, n := range o {
		u[i] = uint64(n)
	}
	x, err := x509.OIDFromInts(u)
	if err != nil {
		panic(err)
	}
	return x
}

func attr(o asn1.ObjectIdentifier, v string) pkix.AttributeTypeAndValue {
	return pkix.AttributeTypeAndValue{Type: o, Value: v}
}

var testPDS = []PDSLocation{
	{URL: "https://pki.sceau.example/pds/pds-en.pdf", Language: "en"},
	{URL: "https://pki.sceau.example/pds/pds-fr.pdf", Language: "fr"},
}

// spec is what a test certificate is made of: a template, the profile its
// QCStatements are encoded from, or raw statements.
type spec struct {
	tmpl        *x509.Certificate
	enc         Profile // the QCStatements come from this profile…
	rawQCS      []byte  // …unless these are set
	qcsCritical bool
}

// good returns a profile and the spec of a certificate that passes every
// rule for it.
func good(kind string) (Profile, spec) {
	base := func() *x509.Certificate {
		return &x509.Certificate{
			SerialNumber:          big.NewInt(0x5cea0),
			NotBefore:             time.Now().Add(-time.Minute),
			NotAfter:              time.Now().Add(180 * 24 * time.Hour),
			BasicConstraintsValid: true,
			CRLDistributionPoints: []string{"http://crl.sceau.example/ops.crl"},
			OCSPServer:            []string{"http://ocsp.sceau.example"},
			IssuingCertificateURL: []string{"http://pki.sceau.example/ops.crt"},
		}
	}
	var p Profile
	c := base()
	switch kind {
	case "natural":
		p = Profile{Kind: NaturalPerson, Usage: Signature, Qualified: true, QSCD: true, PDS: testPDS,
			RetentionYears: 7, Policy: OIDQCPNaturalQSCD, SerialNumberSemantics: true}
		c.Subject = pkix.Name{Country: []string{"FR"}, CommonName: "Marie Curie", SerialNumber: "IDCFR-880692310285",
			ExtraNames: []pkix.AttributeTypeAndValue{attr(OIDGivenName, "Marie"), attr(OIDSurname, "Curie")}}
		c.KeyUsage = x509.KeyUsageContentCommitment
		c.Policies = []x509.OID{oid(OIDQCPNaturalQSCD)}
	case "natural-auth":
		p = Profile{Kind: NaturalPerson, Usage: Authentication, Policy: OIDNCP}
		c.Subject = pkix.Name{Country: []string{"FR"}, CommonName: "Marie Curie",
			ExtraNames: []pkix.AttributeTypeAndValue{attr(OIDGivenName, "Marie"), attr(OIDSurname, "Curie")}}
		c.KeyUsage = x509.KeyUsageDigitalSignature
		c.Policies = []x509.OID{oid(OIDNCP)}
	case "legal":
		p = Profile{Kind: LegalPerson, Usage: Signature, Qualified: true, QSCD: true, PDS: testPDS, Policy: OIDQCPLegalQSCD}
		c.Subject = pkix.Name{Country: []string{"FR"}, Organization: []string{"TotalEnergies SE"}, CommonName: "TotalEnergies SE cachet",
			ExtraNames: []pkix.AttributeTypeAndValue{attr(OIDOrganizationIdentifier, "NTRFR-542051180")}}
		c.KeyUsage = x509.KeyUsageContentCommitment
		c.Policies = []x509.OID{oid(OIDQCPLegalQSCD)}
	case "website":
		p = Profile{Kind: Website, Qualified: true, PDS: testPDS, Policy: OIDQCPWeb}
		c.Subject = pkix.Name{Country: []string{"FR"}, Organization: []string{"Danone"}, CommonName: "www.danone.example",
			ExtraNames: []pkix.AttributeTypeAndValue{attr(OIDOrganizationIdentifier, "NTRFR-552032534")}}
		c.DNSNames = []string{"www.danone.example"}
		c.KeyUsage = x509.KeyUsageDigitalSignature
		c.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
		c.Policies = []x509.OID{oid(OIDQCPWeb), oid(OIDCABFOrganizationValid)}
	default:
		panic(kind)
	}
	return p, spec{tmpl: c, enc: p}
}

// issue signs the spec's certificate with the test CA.
func issue(t testing.TB, s spec) (*x509.Certificate, []byte) {
	t.Helper()
	ca, key := testCA(t)
	tmpl := *s.tmpl
	der := s.rawQCS
	if der == nil {
		var err error
		if der, err = EncodeQCStatements(s.enc); err != nil {
			t.Fatal(err)
		}
	}
	if der != nil {
		tmpl.ExtraExtensions = append(tmpl.ExtraExtensions, pkix.Extension{Id: OIDQCStatements, Critical: s.qcsCritical, Value: der})
	}
	out, err := x509.CreateCertificate(rand.Reader, &tmpl, ca, &leafK.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(out)
	if err != nil {
		t.Fatal(err)
	}
	return c, out
}
