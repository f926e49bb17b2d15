package etsi

import (
	"bytes"
	"encoding/asn1"
	"encoding/pem"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	zx509 "github.com/zmap/zcrypto/x509"
	"github.com/zmap/zlint/v3"
	"github.com/zmap/zlint/v3/lint"
)

func TestCA2_QCStatementsRoundTrip(t *testing.T) {
	for _, kind := range []string{"natural", "legal", "website"} {
		t.Run(kind, func(t *testing.T) {
			p, _ := good(kind)
			ext, ok, err := QCStatementsExtension(p)
			if err != nil || !ok || ext.Critical || !ext.Id.Equal(OIDQCStatements) {
				t.Fatalf("QCStatementsExtension = %+v, %v, %v", ext, ok, err)
			}
			got, err := ParseQCStatements(ext.Value)
			if err != nil {
				t.Fatal(err)
			}
			want := QCStatements{
				Compliance: true, SSCD: p.QSCD, Types: []asn1.ObjectIdentifier{p.EffectiveQcType().OID()}, HasType: true,
				PDS: p.PDS, HasPDS: true, RetentionYears: p.RetentionYears, HasRetention: p.RetentionYears > 0,
			}
			want.Statements = append(want.Statements, OIDQcCompliance)
			if p.QSCD {
				want.Statements = append(want.Statements, OIDQcSSCD)
			}
			want.Statements = append(want.Statements, OIDQcType, OIDQcPDS)
			if p.RetentionYears > 0 {
				want.Statements = append(want.Statements, OIDQcRetentionPeriod)
			}
			if s := p.semantics(); s != nil {
				want.Semantics = []asn1.ObjectIdentifier{s}
				want.Statements = append(want.Statements, OIDQCSyntaxV2)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("round trip (-want +got):\n%s", diff)
			}
		})
	}
	if _, ok, err := QCStatementsExtension(Profile{Kind: NaturalPerson, Usage: Signature, Policy: OIDNCP}); ok || err != nil {
		t.Errorf("a non-qualified natural person profile without semantics needs no qcStatements; got ok=%v err=%v", ok, err)
	}
	if _, err := EncodeQCStatements(Profile{Kind: Website, Qualified: true, PDS: []PDSLocation{{URL: "https://pki.sceau.example/é", Language: "en"}}}); err == nil {
		t.Error("a non-ASCII PDS URL was encoded as an IA5String")
	}
}

func TestCA2_ParseQCStatementsRefusesMalformed(t *testing.T) {
	for name, der := range map[string][]byte{
		"empty":                 {},
		"not a sequence":        {0x04, 0x00},
		"trailing data":         {0x30, 0x00, 0x00},
		"statement without oid": {0x30, 0x02, 0x30, 0x00},
		"compliance with info":  {0x30, 0x0c, 0x30, 0x0a, 0x06, 0x06, 0x04, 0x00, 0x8e, 0x46, 0x01, 0x01, 0x05, 0x00},
		"two infos":             {0x30, 0x0f, 0x30, 0x0d, 0x06, 0x06, 0x04, 0x00, 0x8e, 0x46, 0x01, 0x03, 0x02, 0x01, 0x05, 0x05, 0x00},
		"retention not integer": {0x30, 0x0c, 0x30, 0x0a, 0x06, 0x06, 0x04, 0x00, 0x8e, 0x46, 0x01, 0x03, 0x05, 0x00},
		"huge retention":        {0x30, 0x12, 0x30, 0x10, 0x06, 0x06, 0x04, 0x00, 0x8e, 0x46, 0x01, 0x03, 0x02, 0x06, 0x01, 0, 0, 0, 0, 0},
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := ParseQCStatements(der); err == nil {
				t.Errorf("ParseQCStatements(% x) accepted malformed input", der)
			}
		})
	}
}

func FuzzParseQCStatements(f *testing.F) {
	for _, kind := range []string{"natural", "legal", "website"} {
		p, _ := good(kind)
		der, err := EncodeQCStatements(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(der)
	}
	f.Add([]byte{0x30, 0x00})
	f.Add([]byte{0x30, 0x08, 0x30, 0x06, 0x06, 0x04, 0x04, 0x00, 0x8e, 0x46})
	f.Fuzz(func(t *testing.T, der []byte) {
		q, err := ParseQCStatements(der)
		if err != nil {
			return
		}
		// What parses must survive the rules without a panic.
		if q.HasRetention && q.RetentionYears != int(int32(q.RetentionYears)) {
			t.Errorf("retention %d escaped its bound", q.RetentionYears)
		}
		for _, l := range q.PDS {
			_ = pdsProblems([]PDSLocation{l})
		}
	})
}

// openssl, an independent decoder, sees the statements' OIDs where the
// encoder put them.
func TestCA2_QCStatementsOpenSSL(t *testing.T) {
	needOpenSSL(t)
	p, s := good("natural")
	_, der := issue(t, s)
	path := filepath.Join(t.TempDir(), "natural.pem")
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	ext, _, _ := QCStatementsExtension(p)
	var out bytes.Buffer
	// -strparse on the extension's OCTET STRING would need its offset;
	// parsing the whole certificate with -i shows every OID.
	cmd := exec.Command("openssl", "asn1parse", "-in", path, "-i")
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		t.Fatalf("openssl asn1parse: %v\n%s", err, out.String())
	}
	dump := out.String()
	if !strings.Contains(dump, "qcStatements") && !strings.Contains(dump, "1.3.6.1.5.5.7.1.3") {
		t.Fatalf("openssl does not see the qcStatements extension:\n%s", dump)
	}
	// The extension's value is an OCTET STRING at the certificate level;
	// parse it on its own to see the statement OIDs.
	inner := filepath.Join(t.TempDir(), "qcs.der")
	if err := os.WriteFile(inner, ext.Value, 0o600); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	cmd = exec.Command("openssl", "asn1parse", "-inform", "DER", "-in", inner, "-i")
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		t.Fatalf("openssl asn1parse: %v\n%s", err, out.String())
	}
	dump = out.String()
	for _, want := range []string{"0.4.0.1862.1.1", "0.4.0.1862.1.4", "0.4.0.1862.1.6", "0.4.0.1862.1.6.1", "0.4.0.1862.1.5",
		"0.4.0.1862.1.3", "1.3.6.1.5.5.7.11.2", "0.4.0.194121.1.1", "https://pki.sceau.example/pds/pds-en.pdf", ":en", ":fr"} {
		if !strings.Contains(dump, want) && !strings.Contains(dump, openSSLName(want)) {
			t.Errorf("openssl asn1parse does not show %s:\n%s", want, dump)
		}
	}
}

// openSSLName is the short name openssl prints for the OIDs it knows.
func openSSLName(oid string) string {
	return map[string]string{
		"0.4.0.1862.1.1": "qcEuCompliance", "0.4.0.1862.1.4": "qcSSCD", "1.3.6.1.5.5.7.11.2": "qcs-pkixQCSyntax-v2",
	}[oid]
}

// zlint's ETSI lints, run on the good qualified certificates, find no error.
func TestCA2_ZlintETSILintsPass(t *testing.T) {
	reg, err := lint.GlobalRegistry().Filter(lint.FilterOptions{IncludeSources: lint.SourceList{lint.EtsiEsi}})
	if err != nil {
		t.Fatal(err)
	}
	if len(reg.Names()) == 0 {
		t.Fatal("zlint has no ETSI lints")
	}
	for _, kind := range []string{"natural", "legal", "website"} {
		t.Run(kind, func(t *testing.T) {
			_, s := good(kind)
			_, der := issue(t, s)
			c, err := zx509.ParseCertificate(der)
			if err != nil {
				t.Fatal(err)
			}
			ran := 0
			for name, r := range zlint.LintCertificateEx(c, reg).Results {
				switch r.Status {
				case lint.Error, lint.Fatal:
					t.Errorf("zlint %s: %s %s", name, r.Status, r.Details)
				case lint.Pass:
					ran++
				case lint.Warn:
					t.Logf("zlint %s: warning %s", name, r.Details)
				}
			}
			if ran == 0 {
				t.Error("no zlint ETSI lint applied")
			}
		})
	}
}

// needOpenSSL skips without openssl, or fails under SCEAU_TEST_REQUIRE_ALL=1
// as internal/sceautest.Missing does; this package's tests cannot import
// sceautest, which imports ca, which imports etsi.
func needOpenSSL(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("openssl"); err == nil {
		return
	}
	if os.Getenv("SCEAU_TEST_REQUIRE_ALL") == "1" {
		t.Fatal("openssl is missing and SCEAU_TEST_REQUIRE_ALL=1 requires every component")
	}
	t.Skip("openssl is missing")
}
