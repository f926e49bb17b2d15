package ca_test

import (
	"crypto"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"log/slog"
	"math/big"
	"net"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sceau/sceau/internal/ca"
	"github.com/sceau/sceau/internal/keys"
	"github.com/sceau/sceau/internal/sceau"
	"github.com/sceau/sceau/internal/sceautest"
	"golang.org/x/crypto/ocsp"
)

// CA-2 (issue 12): the "rfc5280" lint set runs the RFCs RFC 5280 relies on
// (5480, 8813, 3279, 5891): keyEncipherment on an EC key is caught; and a
// profile that lists keyEncipherment gives it to RSA keys only, so the
// person profile's EC certificates pass.
func TestCA2_KeyUsageFollowsTheKeyTypeAndTheRFC5280SetCatchesEC(t *testing.T) {
	db := sceautest.OpenSQLite(t)
	h := sceautest.NewHierarchy(t, db, sceautest.HierarchyOptions{})
	ctx := t.Context()
	for _, kt := range []keys.Type{keys.ECDSAP256, keys.RSA2048} {
		csr := sceautest.CSR(t, sceautest.NewKey(t, kt), "Marie Curie")
		iss, err := h.Authority.IssueCSR(ctx, operator, ca.Request{CA: "issuing", Profile: "person", CSR: csr})
		if err != nil {
			t.Fatalf("%s person certificate: %v", kt, err)
		}
		enc := iss.Cert.KeyUsage&x509.KeyUsageKeyEncipherment != 0
		if enc != (kt == keys.RSA2048) {
			t.Errorf("%s person certificate: keyEncipherment %v; want it on RSA keys only (RFC 5480 §3, RFC 8813)", kt, enc)
		}
		f, err := ca.LintCertificate(iss.Cert.Raw, "rfc5280")
		if err != nil || len(f.Errors) > 0 {
			t.Errorf("%s person certificate fails the rfc5280 set: %v, %v", kt, f.Errors, err)
		}
	}
	// The same EC key with keyEncipherment, as Sceau issued it before.
	key := sceautest.NewKey(t, keys.ECDSAP256)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "x.example.org", Country: []string{"FR"}},
		NotBefore: time.Now(), NotAfter: time.Now().Add(time.Hour), DNSNames: []string{"x.example.org"},
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	bad, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		t.Fatal(err)
	}
	f, err := ca.LintCertificate(bad, "rfc5280")
	if err != nil || !strings.Contains(strings.Join(f.Errors, ","), "e_ecdsa_allowed_ku") {
		t.Errorf("rfc5280 set on an EC certificate with keyEncipherment: %v, %v; want e_ecdsa_allowed_ku", f.Errors, err)
	}
}

// CA-1, CA-2 (issue 12): a hierarchy whose profiles could never pass their
// own gate is refused when the configuration loads, naming the CA, the
// profile and the rule: a leaf policy its CA does not list (RFC 5280
// §6.1.3), keyEncipherment with EC keys only, a public TLS profile without
// serverAuth or longer than the CA/B Forum ever allowed (398 days; the
// ceiling of the day caps the rest at issuance).
func TestCA2_ProfilesThatCouldNeverPassAreRefusedAtLoad(t *testing.T) {
	other := ca.Policy{OID: asn1.ObjectIdentifier{1, 2, 250, 1, 999, 1, 2}}
	day := 24 * time.Hour
	cases := []struct {
		name string
		edit func(p *ca.Profile)
		want string
	}{
		{"a policy the CA does not list", func(p *ca.Profile) { p.Policies = append(p.Policies, other) }, "policy 1.2.250.1.999.1.2 is not among CA issuing's policies"},
		{"keyEncipherment with EC keys only", func(p *ca.Profile) {
			p.KeyUsage |= x509.KeyUsageKeyEncipherment
			p.KeyTypes = []keys.Type{keys.ECDSAP256}
		}, "needs an RSA key type"},
		{"public TLS without serverAuth", func(p *ca.Profile) {
			p.Lints = []string{"rfc5280", "cabf_br"}
			p.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}
			p.MaxValidity = 100 * day
		}, "needs the serverAuth extended key usage"},
		{"public TLS of 400 days", func(p *ca.Profile) {
			p.Lints = []string{"rfc5280", "cabf_br"}
			p.MaxValidity = 400 * day
		}, "max_validity 400d exceeds the 398d allowed for a public TLS certificate (CA/B Forum TLS BR §6.3.2)"},
		{"an unknown lint set", func(p *ca.Profile) { p.Lints = []string{"rfc9999"} }, `unknown lint set "rfc9999"`},
		{"S/MIME of three years", func(p *ca.Profile) {
			p.Lints = []string{"rfc5280", "cabf_smime"}
			p.MaxValidity = 3 * 365 * day
		}, "max_validity 1095d exceeds the 825d allowed for an S/MIME certificate"},
	}
	now := time.Date(2026, 12, 7, 0, 0, 0, 0, time.UTC)
	if err := ca.CheckSpecs(sceautest.Specs(), now); err != nil {
		t.Fatalf("the test hierarchy is refused: %v", err)
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			specs := sceautest.Specs()
			c.edit(&specs[1].Profiles[0])
			err := ca.CheckSpecs(specs, now)
			if sceau.KindOf(err) != sceau.Invalid || !strings.Contains(err.Error(), "CA issuing, profile server") || !strings.Contains(err.Error(), c.want) {
				t.Errorf("CheckSpecs: %v; want invalid naming the profile and %q", err, c.want)
			}
		})
	}
	// The ceiling moves with the date of issuance.
	for _, c := range []struct {
		at   time.Time
		want time.Duration
	}{
		{time.Date(2026, 3, 14, 23, 59, 59, 0, time.UTC), 398 * day},
		{time.Date(2026, 3, 15, 0, 0, 0, 0, time.UTC), 200 * day},
		{time.Date(2027, 3, 15, 0, 0, 0, 0, time.UTC), 100 * day},
		{time.Date(2029, 3, 15, 0, 0, 0, 0, time.UTC), 47 * day},
	} {
		if got, _ := ca.TLSMaxValidity(c.at); got != c.want {
			t.Errorf("TLSMaxValidity(%s) = %s, want %s", c.at.Format(time.DateOnly), got, c.want)
		}
	}
}

// publicTLSHierarchy is the test hierarchy with a public TLS server
// profile (lint set cabf_br, 199 days by default, 200 at most).
func publicTLSHierarchy(t *testing.T) *sceautest.Hierarchy {
	specs := sceautest.Specs()
	p := &specs[1].Profiles[0]
	p.Lints = []string{"rfc5280", "cabf_br"}
	p.Validity, p.MaxValidity = 199*24*time.Hour, 200*24*time.Hour
	return sceautest.NewHierarchy(t, sceautest.OpenSQLite(t), sceautest.HierarchyOptions{Specs: specs})
}

// CA-2 (issue 12): a public TLS profile refuses reserved addresses and
// internal names (CA/B Forum TLS BR §4.2.2) and a validity beyond the
// current ceiling, and certificates last exactly their validity, both ends
// counted (RFC 5280 §4.1.2.5); any profile refuses an organization without
// its country. Nothing is reserved for a refused request.
func TestCA2_PublicTLSRefusesReservedAddressesInternalNamesAndLongValidity(t *testing.T) {
	h := publicTLSHierarchy(t)
	ctx := t.Context()
	key := sceautest.NewKey(t, keys.ECDSAP256)
	csr := func(subject pkix.Name, dns []string, ips []net.IP) []byte {
		der, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{Subject: subject, DNSNames: dns, IPAddresses: ips}, key)
		if err != nil {
			t.Fatal(err)
		}
		return der
	}
	cn := func(s string) pkix.Name { return pkix.Name{CommonName: s} }
	refused := []struct {
		name string
		req  ca.Request
		want string
	}{
		{"a documentation address", ca.Request{CSR: csr(cn("www.example.org"), []string{"www.example.org"}, []net.IP{net.ParseIP("192.0.2.10")})},
			"iPAddress 192.0.2.10 is in the reserved block 192.0.2.0/24"},
		{"a private address", ca.Request{CSR: csr(cn("www.example.org"), []string{"www.example.org"}, []net.IP{net.ParseIP("10.1.2.3")})},
			"reserved block 10.0.0.0/8"},
		{"an IPv6 documentation address", ca.Request{CSR: csr(cn("www.example.org"), []string{"www.example.org"}, []net.IP{net.ParseIP("2001:db8::1")})},
			"reserved block 2001:db8::/32"},
		{"an internal TLD", ca.Request{CSR: csr(cn("intranet.corp"), []string{"intranet.corp"}, nil)}, `dNSName "intranet.corp": its top-level domain .corp is not delegated`},
		{".internal", ca.Request{CSR: csr(cn("www.example.org"), []string{"www.example.org", "db.internal"}, nil)}, `"db.internal"`},
		{"a single label", ca.Request{CSR: csr(cn("www.example.org"), []string{"printer"}, nil)}, "single label"},
		{"an internal name as the common name", ca.Request{CSR: csr(cn("mail.local"), []string{"www.example.org"}, nil)}, `commonName "mail.local"`},
		{"an organization without its country", ca.Request{CSR: csr(pkix.Name{CommonName: "www.example.org", Organization: []string{"Example"}},
			[]string{"www.example.org"}, nil)}, `organizationName "Example" without countryName`},
		{"201 days", ca.Request{CSR: csr(cn("www.example.org"), []string{"www.example.org"}, nil), Validity: 201 * 24 * time.Hour},
			"validity 201d exceeds the profile's maximum 200d"},
	}
	before := countCertificates(t, h)
	for _, c := range refused {
		c.req.CA, c.req.Profile = "issuing", "server"
		if _, err := h.Authority.IssueCSR(ctx, operator, c.req); sceau.KindOf(err) != sceau.Invalid || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v; want invalid naming %q", c.name, err, c.want)
		}
	}
	if n := countCertificates(t, h); n != before {
		t.Errorf("%d certificates reserved by refused requests", n-before)
	}
	iss, err := h.Authority.IssueCSR(ctx, operator, ca.Request{CA: "issuing", Profile: "server",
		CSR: csr(pkix.Name{CommonName: "www.example.org", Organization: []string{"Example"}, Country: []string{"FR"}, Locality: []string{"Paris"}},
			[]string{"www.example.org"}, []net.IP{net.ParseIP("8.8.8.8")})})
	if err != nil {
		t.Fatalf("a public name and address: %v", err)
	}
	if d := iss.Cert.NotAfter.Sub(iss.Cert.NotBefore) + time.Second; d != 199*24*time.Hour {
		t.Errorf("a 199d certificate lasts %s (notAfter − notBefore + 1 s)", d)
	}
	if len(iss.Cert.SubjectKeyId) != 0 {
		t.Errorf("a public TLS certificate carries a subject key identifier (TLS BR §7.1.2.7.6: not recommended)")
	}
}

func countCertificates(t *testing.T, h *sceautest.Hierarchy) int {
	t.Helper()
	recs, err := h.Authority.Certificates(t.Context(), ca.ListFilter{Limit: 10000})
	if err != nil {
		t.Fatal(err)
	}
	return len(recs)
}

// CA-2 (issue 12): a time-stamping unit's certificate has the timeStamping
// purpose alone, in a critical extension (RFC 3161 §2.3), and a profile
// that mixes it with another purpose is refused at load.
func TestCA2_TimeStampingUnitHasACriticalSinglePurpose(t *testing.T) {
	specs := sceautest.Specs()
	tsu := ca.Profile{Name: "tsu", KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageTimeStamping},
		Policies: specs[1].Policies, KeyTypes: []keys.Type{keys.ECDSAP256}, Validity: 24 * time.Hour, MaxValidity: 24 * time.Hour,
		Lints: []string{"rfc5280"}}
	specs[1].Profiles = append(specs[1].Profiles, tsu)
	h := sceautest.NewHierarchy(t, sceautest.OpenSQLite(t), sceautest.HierarchyOptions{Specs: specs})
	iss, err := h.Authority.IssueCSR(t.Context(), operator, ca.Request{CA: "issuing", Profile: "tsu",
		CSR: sceautest.CSR(t, sceautest.NewKey(t, keys.ECDSAP256), "Sceau TSU 1")})
	if err != nil {
		t.Fatal(err)
	}
	var critical bool
	for _, e := range iss.Cert.Extensions {
		if e.Id.Equal(asn1.ObjectIdentifier{2, 5, 29, 37}) {
			critical = e.Critical
		}
	}
	if !critical || len(iss.Cert.ExtKeyUsage) != 1 || iss.Cert.ExtKeyUsage[0] != x509.ExtKeyUsageTimeStamping {
		t.Errorf("TSU certificate: EKU %v, critical %v; want timeStamping alone, critical", iss.Cert.ExtKeyUsage, critical)
	}
	specs = sceautest.Specs()
	tsu.ExtKeyUsage = append(tsu.ExtKeyUsage, x509.ExtKeyUsageServerAuth)
	specs[1].Profiles = append(specs[1].Profiles, tsu)
	if err := ca.CheckSpecs(specs, time.Now()); err == nil || !strings.Contains(err.Error(), "RFC 3161 §2.3") {
		t.Errorf("a TSU profile with serverAuth: %v; want refused citing RFC 3161 §2.3", err)
	}
}

// CA-2 (TLS BR §6.3.2): on the day the ceiling falls a profile written
// for the old one keeps issuing: with no requested validity a certificate
// gets a day under the ceiling of its day of issuance, a longer request is
// refused, and TLSCeilingWarnings says so ahead of time.
func TestCA2_PublicTLSDefaultValidityFollowsTheCeilingOfTheDay(t *testing.T) {
	ctx := t.Context()
	day := 24 * time.Hour
	specs := sceautest.Specs()
	p := &specs[1].Profiles[0]
	p.Lints = []string{"rfc5280", "cabf_br"}
	p.Validity, p.MaxValidity = 199*day, 200*day
	if w := ca.TLSCeilingWarnings(specs, time.Date(2026, 12, 7, 0, 0, 0, 0, time.UTC), 30*day); len(w) != 0 {
		t.Errorf("warnings 98 days before the ceiling falls, looking 30 days ahead: %q", w)
	}
	w := ca.TLSCeilingWarnings(specs, time.Date(2026, 12, 7, 0, 0, 0, 0, time.UTC), 120*day)
	if len(w) != 1 || !strings.Contains(w[0], "profile server") || !strings.Contains(w[0], "from 2027-03-15 a public TLS certificate lasts at most 100d") {
		t.Errorf("warnings 98 days before the ceiling falls, looking 120 days ahead: %q", w)
	}
	clock := sceautest.NewClock(time.Date(2027, 3, 16, 10, 0, 0, 0, time.UTC))
	h := sceautest.NewHierarchy(t, sceautest.OpenSQLite(t), sceautest.HierarchyOptions{Specs: specs, Clock: clock})
	key := sceautest.NewKey(t, keys.ECDSAP256)
	got, err := h.Authority.IssueCSR(ctx, operator, ca.Request{CA: "issuing", Profile: "server", CSR: sceautest.CSR(t, key, "www.example.org", "www.example.org")})
	if err != nil {
		t.Fatalf("a 199-day profile on 2027-03-16: %v", err)
	}
	if d := got.Cert.NotAfter.Sub(got.Cert.NotBefore) + time.Second; d != 99*day {
		t.Errorf("default validity on 2027-03-16: %s, want 99 days", d)
	}
	_, err = h.Authority.IssueCSR(ctx, operator, ca.Request{CA: "issuing", Profile: "server", Validity: 150 * day,
		CSR: sceautest.CSR(t, key, "www.example.org", "www.example.org")})
	if sceau.KindOf(err) != sceau.Invalid || !strings.Contains(err.Error(), "100d a public TLS certificate may last") {
		t.Errorf("a 150-day request on 2027-03-16: %v", err)
	}
}

// CA-2 (issue 12): a profile's subject rules refuse a request that lacks
// a required attribute or carries a forbidden one, naming the attribute
// and the rule, before any serial is reserved; rules naming an unknown
// attribute, or one both required and forbidden, are refused at load.
func TestCA2_ProfileSubjectRulesRequireAndForbidAttributes(t *testing.T) {
	ctx := t.Context()
	specs := sceautest.Specs()
	p := &specs[1].Profiles[0]
	p.Subject = ca.SubjectRules{Require: []string{"organization", "country"}, Forbid: []string{"organizational_unit"}}
	db := sceautest.OpenSQLite(t)
	h := sceautest.NewHierarchy(t, db, sceautest.HierarchyOptions{Specs: specs})
	key := sceautest.NewKey(t, keys.ECDSAP256)
	csr := func(subject pkix.Name) []byte {
		der, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{Subject: subject, DNSNames: []string{"www.example.org"}}, key)
		if err != nil {
			t.Fatal(err)
		}
		return der
	}
	count := func() (n int) {
		if err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM certificates`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	before := count()
	for _, c := range []struct {
		subject pkix.Name
		want    string
	}{
		{pkix.Name{CommonName: "www.example.org", Country: []string{"FR"}}, "requires the subject attribute organization (subject.require)"},
		{pkix.Name{CommonName: "www.example.org", Organization: []string{"Example"}, OrganizationalUnit: []string{"IT"}, Country: []string{"FR"}},
			"forbids the subject attribute organizational_unit (subject.forbid)"},
	} {
		_, err := h.Authority.Prepare(ctx, operator, ca.Request{CA: "issuing", Profile: p.Name, CSR: csr(c.subject)})
		if sceau.KindOf(err) != sceau.Invalid || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v; want invalid, %q", c.subject, err, c.want)
		}
	}
	if n := count() - before; n != 0 {
		t.Errorf("refused requests reserved %d serials", n)
	}
	if _, err := h.Authority.IssueCSR(ctx, operator, ca.Request{CA: "issuing", Profile: p.Name,
		CSR: csr(pkix.Name{CommonName: "www.example.org", Organization: []string{"Example"}, Locality: []string{"Paris"}, Country: []string{"FR"}})}); err != nil {
		t.Errorf("a request that follows the rules: %v", err)
	}
	for rules, want := range map[*ca.SubjectRules]string{
		{Require: []string{"colour"}}:                                 `unknown subject attribute "colour"`,
		{Require: []string{"locality"}, Forbid: []string{"locality"}}: "subject attribute locality is both required and forbidden",
	} {
		specs := sceautest.Specs()
		specs[1].Profiles[0].Subject = *rules
		if err := ca.CheckSpecs(specs, time.Now()); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("CheckSpecs with %+v: %v; want %q", *rules, err, want)
		}
	}
}

// CA-2 (TLS BR §7.1.2.10.6): a CA-level extendedKeyUsage is written into
// the CA certificate; a TLS CA mixing in a forbidden purpose, or a profile
// whose purpose its CA lacks, is refused at load, naming both.
func TestCA2_CALevelExtendedKeyUsage(t *testing.T) {
	specs := sceautest.Specs()
	specs[1].ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth}
	specs[1].Profiles = specs[1].Profiles[:1] // the server profile (serverAuth)
	specs[1].Profiles[0].ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
	if err := ca.CheckSpecs(specs, time.Now()); err != nil {
		t.Fatalf("a TLS CA with a server profile: %v", err)
	}
	h := sceautest.NewHierarchy(t, sceautest.OpenSQLite(t), sceautest.HierarchyOptions{Specs: specs})
	issuing, _ := h.Authority.CA("issuing")
	if !slices.Equal(issuing.Cert.ExtKeyUsage, specs[1].ExtKeyUsage) {
		t.Errorf("the issuing CA certificate's EKU: %v, want serverAuth, clientAuth", issuing.Cert.ExtKeyUsage)
	}
	// Its leaves verify for serverAuth through it, and its delegated OCSP
	// responder (id-kp-OCSPSigning) is accepted for them.
	ctx := t.Context()
	leaf, err := h.Authority.IssueCSR(ctx, operator, ca.Request{CA: "issuing", Profile: specs[1].Profiles[0].Name,
		CSR: sceautest.CSR(t, sceautest.NewKey(t, keys.ECDSAP256), "www.example.org", "www.example.org")})
	if err != nil {
		t.Fatal(err)
	}
	root, _ := h.Authority.CA("root")
	roots, inter := x509.NewCertPool(), x509.NewCertPool()
	roots.AddCert(root.Cert)
	inter.AddCert(issuing.Cert)
	if _, err := leaf.Cert.Verify(x509.VerifyOptions{Roots: roots, Intermediates: inter, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}); err != nil {
		t.Errorf("a leaf of the TLS CA does not verify for serverAuth: %v", err)
	}
	req, err := ocsp.CreateRequest(leaf.Cert, issuing.Cert, &ocsp.RequestOptions{Hash: crypto.SHA256})
	if err != nil {
		t.Fatal(err)
	}
	der, status := h.Revocation.NewResponder(slog.New(slog.DiscardHandler)).Respond(ctx, req)
	if r, err := ocsp.ParseResponseForCert(der, leaf.Cert, issuing.Cert); err != nil || r.Status != ocsp.Good {
		t.Errorf("the TLS CA's responder for its leaf (%s): %v, %v", status, r, err)
	}
	for _, c := range []struct {
		name string
		edit func(s *ca.Spec)
		want string
	}{
		{"emailProtection beside serverAuth", func(s *ca.Spec) { s.ExtKeyUsage = append(s.ExtKeyUsage, x509.ExtKeyUsageEmailProtection) },
			"CA issuing: ext_key_usage emailProtection beside serverAuth (CA/B Forum TLS BR §7.1.2.10.6"},
		{"a profile purpose the CA lacks", func(s *ca.Spec) {
			s.Profiles[0].ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageEmailProtection}
		}, "CA issuing, profile server: purpose emailProtection is not among the CA's ext_key_usage"},
	} {
		specs := sceautest.Specs()
		specs[1].ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
		specs[1].Profiles = specs[1].Profiles[:1]
		specs[1].Profiles[0].ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
		c.edit(&specs[1])
		if err := ca.CheckSpecs(specs, time.Now()); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v; want %q", c.name, err, c.want)
		}
	}
}
