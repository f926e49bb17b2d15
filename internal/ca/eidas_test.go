package ca_test

import (
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"strings"
	"testing"
	"time"

	"github.com/sceau/sceau/internal/ca"
	"github.com/sceau/sceau/internal/etsi"
	"github.com/sceau/sceau/internal/keys"
	"github.com/sceau/sceau/internal/sceau"
	"github.com/sceau/sceau/internal/sceautest"
)

// qualifiedPerson is an EN 319 412-2 qualified natural person signature
// profile (QCP-n) on the test issuing CA, which takes anyPolicy for it.
func qualifiedPersonHierarchy(t testing.TB) *sceautest.Hierarchy {
	specs := sceautest.Specs()
	specs[1].Policies = append(specs[1].Policies, ca.Policy{OID: asn1.ObjectIdentifier{2, 5, 29, 32, 0}})
	specs[1].Profiles = append(specs[1].Profiles, ca.Profile{Name: "qualified-person", KeyUsage: x509.KeyUsageContentCommitment,
		Policies: []ca.Policy{{OID: etsi.OIDQCPNatural}, {OID: sceautest.TestPolicyOID}}, KeyTypes: []keys.Type{keys.ECDSAP256, keys.RSA2048},
		Validity: 365 * 24 * time.Hour, MaxValidity: 3 * 365 * 24 * time.Hour, Lints: []string{"rfc5280", "etsi"},
		ETSI: &etsi.Profile{Kind: etsi.NaturalPerson, Usage: etsi.Signature, Qualified: true, Policy: etsi.OIDQCPNatural,
			SerialNumberSemantics: true, RetentionYears: 10,
			PDS: []etsi.PDSLocation{{URL: "https://pki.example.fr/pds/en.html", Language: "en"}, {URL: "https://pki.example.fr/pds/fr.html", Language: "fr"}}}})
	if err := ca.CheckSpecs(specs, time.Now()); err != nil {
		t.Fatalf("the qualified profile is refused: %v", err)
	}
	return sceautest.NewHierarchy(t, sceautest.OpenSQLite(t), sceautest.HierarchyOptions{Specs: specs})
}

// CA-2 (issue 12): an eIDAS qualified natural person certificate carries
// the EN 319 412-5 statements its profile asks for and passes Sceau's
// EN 319 412 clause rules and zlint's ETSI lints; a request that breaks a
// clause (no given name and surname, a malformed semantics identifier) is
// refused naming the clause, and nothing is reserved.
func TestCA2_QualifiedNaturalPersonFollowsEN319412(t *testing.T) {
	h := qualifiedPersonHierarchy(t)
	ctx := t.Context()
	name := func(gn, sn, serial string) pkix.Name {
		n := pkix.Name{CommonName: "Marie Curie", Country: []string{"FR"}, SerialNumber: serial}
		if gn != "" {
			n.ExtraNames = append(n.ExtraNames, pkix.AttributeTypeAndValue{Type: etsi.OIDGivenName, Value: gn})
		}
		if sn != "" {
			n.ExtraNames = append(n.ExtraNames, pkix.AttributeTypeAndValue{Type: etsi.OIDSurname, Value: sn})
		}
		return n
	}
	req := func(n pkix.Name) ca.Request {
		return ca.Request{CA: "issuing", Profile: "qualified-person", GenerateKey: keys.ECDSAP256, Subject: n}
	}
	iss, err := h.Authority.IssueWithKey(ctx, operator, req(name("Marie", "Curie", "IDCFR-12AB34567")), "correct horse battery staple")
	if err != nil {
		t.Fatalf("a qualified natural person certificate: %v", err)
	}
	cert := iss.Issued.Cert
	if f := etsi.Check(cert, *h.Specs[1].Profiles[2].ETSI); etsi.HasErrors(f) {
		t.Errorf("Sceau's own certificate fails its EN 319 412 rules: %v", f)
	}
	var qcs *etsi.QCStatements
	for _, e := range cert.Extensions {
		if e.Id.Equal(etsi.OIDQCStatements) {
			q, err := etsi.ParseQCStatements(e.Value)
			if err != nil {
				t.Fatalf("QCStatements: %v", err)
			}
			qcs = &q
		}
	}
	if qcs == nil {
		t.Fatal("the qualified certificate carries no QCStatements")
	}
	if cert.KeyUsage != x509.KeyUsageContentCommitment {
		t.Errorf("key usage %b, want contentCommitment alone (EN 319 412-2 table 1 type A)", cert.KeyUsage)
	}
	if f, err := ca.LintCertificate(cert.Raw, "etsi"); err != nil || len(f.Errors) > 0 {
		t.Errorf("zlint's ETSI lints: %v, %v", f.Errors, err)
	}

	before := countCertificates(t, h)
	for _, c := range []struct {
		name string
		n    pkix.Name
		want string
	}{
		{"no given name and surname", name("", "", "IDCFR-12AB34567"), "EN 319 412-2 §4.2.4"},
		{"a serial number that is no semantics identifier", name("Marie", "Curie", "12345"), "EN 319 412-1 §5.1.3"},
	} {
		_, err := h.Authority.IssueWithKey(ctx, operator, req(c.n), "correct horse battery staple")
		if sceau.KindOf(err) != sceau.Invalid || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v; want invalid naming %s", c.name, err, c.want)
		}
	}
	if n := countCertificates(t, h); n != before {
		t.Errorf("%d certificates reserved by refused requests", n-before)
	}
}
