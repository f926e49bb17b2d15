package etsi

import (
	"crypto/x509"
	"crypto/x509/pkix"
	"os"
	"strings"
	"testing"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

func TestCA2_GoodCertificatesPassEveryRule(t *testing.T) {
	for _, kind := range []string{"natural", "natural-auth", "legal", "website"} {
		t.Run(kind, func(t *testing.T) {
			p, s := good(kind)
			if err := p.Validate(); err != nil {
				t.Fatalf("the good profile is refused: %v", err)
			}
			c, _ := issue(t, s)
			if fs := Check(c, p); len(fs) != 0 {
				t.Errorf("findings on a good %s certificate: %v", kind, fs)
			}
		})
	}
}

// One row per clause: the good certificate of a kind, broken in exactly one
// place, is refused by that clause alone.
func TestCA2_EN319412ClauseRules(t *testing.T) {
	names := func(n ...pkix.AttributeTypeAndValue) []pkix.AttributeTypeAndValue { return n }
	for _, tc := range []struct {
		clause string
		kind   string
		level  Level
		want   string // substring of the finding
		breaks func(s *spec, p *Profile)
	}{
		// EN 319 412-2, natural persons.
		{"EN 319 412-2 §4.2.4", "natural", Error, "countryName is missing", func(s *spec, _ *Profile) { s.tmpl.Subject.Country = nil }},
		{"EN 319 412-2 §4.2.4", "natural", Error, "commonName is missing", func(s *spec, _ *Profile) { s.tmpl.Subject.CommonName = "" }},
		{"EN 319 412-2 §4.2.4", "natural", Error, "neither givenName nor surname nor pseudonym", func(s *spec, _ *Profile) { s.tmpl.Subject.ExtraNames = nil }},
		{"EN 319 412-2 §4.2.4", "natural", Error, "countryName appears 2 times", func(s *spec, _ *Profile) { s.tmpl.Subject.Country = []string{"FR", "BE"} }},
		{"EN 319 412-2 §4.2.4", "natural", Error, "pseudonym is present together with givenName and surname", func(s *spec, _ *Profile) {
			s.tmpl.Subject.ExtraNames = append(s.tmpl.Subject.ExtraNames, attr(OIDPseudonym, "Polonium"))
		}},
		{"EN 319 412-1 §5.1.3", "natural", Error, `serialNumber "IDCFR-8806923102": a French identity card number`, func(s *spec, _ *Profile) { s.tmpl.Subject.SerialNumber = "IDCFR-8806923102" }},
		{"EN 319 412-1 §5.1.3", "natural", Error, "serialNumber is missing", func(s *spec, _ *Profile) { s.tmpl.Subject.SerialNumber = "" }},
		{"EN 319 412-2 §4.3.2", "natural", Error, "keyUsage: the extension is missing", func(s *spec, _ *Profile) { s.tmpl.KeyUsage = 0 }},
		{"EN 319 412-2 §4.3.2", "natural", Error, "{nonRepudiation, dataEncipherment} is none of table 1", func(s *spec, _ *Profile) {
			s.tmpl.KeyUsage = x509.KeyUsageContentCommitment | x509.KeyUsageDataEncipherment
		}},
		{"EN 319 412-2 §4.3.2", "natural", Error, "a signature certificate needs nonRepudiation", func(s *spec, _ *Profile) { s.tmpl.KeyUsage = x509.KeyUsageDigitalSignature }},
		{"EN 319 412-2 §4.3.2", "natural-auth", Error, "an authentication certificate must not assert nonRepudiation", func(s *spec, _ *Profile) { s.tmpl.KeyUsage = x509.KeyUsageContentCommitment }},
		{"EN 319 412-2 §4.3.2", "natural-auth", Warning, "type D, which mixes usages", func(s *spec, _ *Profile) {
			s.tmpl.KeyUsage = x509.KeyUsageDigitalSignature | x509.KeyUsageKeyAgreement
		}},

		// EN 319 412-3, legal persons.
		{"EN 319 412-3 §4.2.1", "legal", Error, "organizationName is missing", func(s *spec, _ *Profile) { s.tmpl.Subject.Organization = nil }},
		{"EN 319 412-3 §4.2.1", "legal", Error, "organizationIdentifier is missing", func(s *spec, _ *Profile) { s.tmpl.Subject.ExtraNames = nil }},
		{"EN 319 412-3 §4.2.1", "legal", Error, "organizationName appears 2 times", func(s *spec, _ *Profile) {
			s.tmpl.Subject.Organization = []string{"TotalEnergies SE", "Total"}
		}},
		{"EN 319 412-3 §4.2.1", "legal", Error, "repeats the organizationName", func(s *spec, _ *Profile) { s.tmpl.Subject.Organization = []string{"ntrfr-542051180"} }},
		{"EN 319 412-1 §5.1.4", "legal", Error, `organizationIdentifier "NTRFR-542051181": the SIREN check digit is wrong (EN 319 412-1 §5.1.4)`, func(s *spec, _ *Profile) {
			s.tmpl.Subject.ExtraNames = names(attr(OIDOrganizationIdentifier, "NTRFR-542051181"))
		}},
		{"EN 319 412-1 §5.1.4", "legal", Error, "the VAT key 58 does not match", func(s *spec, _ *Profile) {
			s.tmpl.Subject.ExtraNames = names(attr(OIDOrganizationIdentifier, "VATFR-58542051180"))
		}},
		{"EN 319 412-3 §4.3.1", "legal", Error, "a signature certificate needs nonRepudiation", func(s *spec, _ *Profile) {
			s.tmpl.KeyUsage = x509.KeyUsageDigitalSignature
		}},
		{"EN 319 412-3 §4.3.1", "legal", Warning, "type B, which mixes usages", func(s *spec, _ *Profile) {
			s.tmpl.KeyUsage = x509.KeyUsageDigitalSignature | x509.KeyUsageContentCommitment
		}},

		// EN 319 412-2 general requirements.
		{"EN 319 412-2 §4.3.3", "natural", Error, "the profile's policy 0.4.0.194112.1.2 (QCP-n-qscd) is missing", func(s *spec, _ *Profile) {
			s.tmpl.Policies = []x509.OID{oid(OIDNCPPlus)}
		}},
		{"EN 319 412-2 §4.3.3", "legal", Error, "certificatePolicies: the extension is missing", func(s *spec, _ *Profile) { s.tmpl.Policies = nil }},
		{"EN 319 412-2 §4.3.11", "natural", Error, "missing, and authorityInfoAccess names no OCSP responder", func(s *spec, _ *Profile) {
			s.tmpl.CRLDistributionPoints, s.tmpl.OCSPServer = nil, nil
		}},
		{"EN 319 412-2 §4.3.11", "legal", Error, "no http or ldap URL", func(s *spec, _ *Profile) {
			s.tmpl.CRLDistributionPoints = []string{"https://crl.sceau.example/ops.crl"}
		}},
		{"EN 319 412-2 §4.4.1", "natural", Error, "no http(s) caIssuers location", func(s *spec, _ *Profile) { s.tmpl.IssuingCertificateURL = nil }},
		{"EN 319 412-2 §4.4.1", "website", Error, "none http(s)", func(s *spec, _ *Profile) { s.tmpl.OCSPServer = []string{"ldap://ocsp.sceau.example"} }},

		// EN 319 412-4, websites.
		{"EN 319 412-4 §4.1", "website", Error, "subjectAltName: the extension is missing", func(s *spec, _ *Profile) { s.tmpl.DNSNames = nil }},
		{"EN 319 412-4 §4.1", "website", Error, "subjectAltName: no dNSName", func(s *spec, _ *Profile) {
			s.tmpl.DNSNames = nil
			s.tmpl.EmailAddresses = []string{"pki@danone.example"}
		}},
		{"EN 319 412-4 §4.1", "website", Error, "serverAuth is missing", func(s *spec, _ *Profile) { s.tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth} }},
		{"EN 319 412-4 §4.1", "website", Error, "no CA/B Forum reserved policy OID", func(s *spec, _ *Profile) { s.tmpl.Policies = []x509.OID{oid(OIDQCPWeb)} }},

		// EN 319 412-5, QCStatements.
		{"EN 319 412-5 §4.1", "natural", Error, "the extension is critical", func(s *spec, _ *Profile) { s.qcsCritical = true }},
		{"EN 319 412-5 §4.1", "legal", Error, "qcStatements: not a single SEQUENCE", func(s *spec, _ *Profile) { s.rawQCS = []byte{0x30, 0x03, 0x06, 0x01} }},
		{"EN 319 412-5 §4.1", "website", Error, "statement 0.4.0.1862.1.1 appears more than once", func(s *spec, _ *Profile) {
			s.rawQCS = rewrite(s.enc, func(stmts [][]byte) [][]byte { return append(stmts, stmts[0]) })
		}},
		{"EN 319 412-5 §4.2.1", "natural", Error, "QcCompliance is missing", func(s *spec, _ *Profile) {
			s.rawQCS = rewrite(s.enc, func(stmts [][]byte) [][]byte { return stmts[1:] }) // QcCompliance comes first
		}},
		{"EN 319 412-5 §4.2.1", "natural-auth", Error, "claims a qualified certificate", func(s *spec, _ *Profile) { s.enc.Qualified = true; s.enc.PDS = testPDS }},
		{"EN 319 412-5 §4.2.2", "natural", Error, "QcSSCD is missing", func(s *spec, _ *Profile) { s.enc.QSCD = false }},
		{"EN 319 412-5 §4.2.2", "website", Error, "QcSSCD claims a QSCD", func(s *spec, _ *Profile) { s.enc.QSCD = true }},
		{"EN 319 412-5 §4.2.3", "natural", Error, "QcType is 0.4.0.1862.1.6.2, a natural person needs 0.4.0.1862.1.6.1", func(s *spec, _ *Profile) { s.enc.QcType = QcTypeESeal }},
		{"EN 319 412-5 §4.2.3", "website", Error, "QcType is 0.4.0.1862.1.6.1", func(s *spec, _ *Profile) { s.enc.QcType = QcTypeESign }},
		{"EN 319 412-5 §4.3.4", "natural", Error, "QcPDS is missing", func(s *spec, _ *Profile) { s.enc.PDS = nil }},
		{"EN 319 412-5 §4.3.4", "legal", Error, `"http://pki.sceau.example/pds/pds-en.pdf" is not an https URL`, func(s *spec, _ *Profile) {
			s.enc.PDS = []PDSLocation{{URL: "http://pki.sceau.example/pds/pds-en.pdf", Language: "en"}, testPDS[1]}
		}},
		{"EN 319 412-5 §4.3.4", "website", Error, `no PDS in English`, func(s *spec, _ *Profile) { s.enc.PDS = testPDS[1:] }},
		{"EN 319 412-5 §4.3.4", "website", Error, `language "EN" of`, func(s *spec, _ *Profile) {
			s.enc.PDS = []PDSLocation{{URL: testPDS[0].URL, Language: "EN"}, testPDS[1]}
		}},
		{"EN 319 412-5 §4.3.3", "natural", Error, "QcRetentionPeriod of 7 years is missing", func(s *spec, _ *Profile) { s.enc.RetentionYears = 0 }},
		{"EN 319 412-5 §4.3.3", "natural", Error, "QcRetentionPeriod is -3 years, not positive", func(s *spec, _ *Profile) { s.enc.RetentionYears = -3 }},
		{"EN 319 412-1 §5.1", "legal", Error, "the semantics identifier 0.4.0.194121.1.2 is missing", func(s *spec, _ *Profile) {
			s.enc.Kind = Website
			s.enc.QcType = QcTypeESeal
		}},
		{"EN 319 412-1 §5.1", "natural-auth", Error, "semantics identifier 0.4.0.194121.1.2 does not fit a natural person", func(s *spec, _ *Profile) {
			s.enc = Profile{Kind: LegalPerson}
		}},
	} {
		t.Run(tc.clause+"/"+tc.want, func(t *testing.T) {
			p, s := good(tc.kind)
			tmpl := *s.tmpl
			tmpl.Subject.ExtraNames = append([]pkix.AttributeTypeAndValue(nil), s.tmpl.Subject.ExtraNames...)
			s.tmpl = &tmpl
			tc.breaks(&s, &p)
			c, _ := issue(t, s)
			fs := Check(c, p)
			hit := false
			for _, f := range fs {
				if f.Clause != tc.clause || (f.Level == Error) != (tc.level == Error) {
					t.Errorf("unexpected finding beside %s: %v", tc.clause, f)
				}
				hit = hit || strings.Contains(f.Message, tc.want)
			}
			if !hit {
				t.Errorf("no %s finding containing %q; got %v", tc.clause, tc.want, fs)
			}
		})
	}
}

// rewrite encodes p's statements, lets edit change the list of encoded
// QCStatement elements, and re-wraps them in the outer SEQUENCE.
func rewrite(p Profile, edit func([][]byte) [][]byte) []byte {
	der, err := EncodeQCStatements(p)
	if err != nil {
		panic(err)
	}
	in := cryptobyte.String(der)
	var seq cryptobyte.String
	if !in.ReadASN1(&seq, cbasn1.SEQUENCE) {
		panic("bad encoding")
	}
	var stmts [][]byte
	for !seq.Empty() {
		var el cryptobyte.String
		if !seq.ReadASN1Element(&el, cbasn1.SEQUENCE) {
			panic("bad statement")
		}
		stmts = append(stmts, el)
	}
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		for _, st := range edit(stmts) {
			b.AddBytes(st)
		}
	})
	return b.BytesOrPanic()
}

func readFile(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// Every clause of the table appears in CLAUSES.md, with its level.
func TestCA2_ClausesDocumented(t *testing.T) {
	doc := readFile(t, "CLAUSES.md")
	for _, r := range Rules() {
		row := "| " + r.Clause + " | " + r.Checks + " | " + r.Level.String() + " |"
		if !strings.Contains(doc, row) {
			t.Errorf("CLAUSES.md lacks the row %q", row)
		}
	}
}
