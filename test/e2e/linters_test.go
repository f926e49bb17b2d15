package e2e

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/sceau/sceau/internal/sceautest"
	"github.com/sceau/sceau/internal/server"
)

// explainedWarnings are the zlint warnings docs/profiles.md explains: the
// installation under test publishes on 127.0.0.1, so its AIA and CDP URLs
// are internal names; a public installation has none of them. A common
// name in a TLS certificate is the subscriber's choice (TLS BR §7.1.4.3:
// "NOT RECOMMENDED", not forbidden). A public TLS certificate carries no
// subject key identifier (TLS BR §7.1.2.7.6: NOT RECOMMENDED), which
// zlint's RFC 5280 lints note as missing (RFC 5280 §4.2.1.2: SHOULD).
var explainedWarnings = []string{
	"w_ext_subject_key_identifier_missing_sub_cert",
	"w_sub_cert_aia_contains_internal_names",
	"w_smime_aia_contains_internal_names",
	"w_subject_common_name_included",
}

// CA-1, CA-2 (issue 12): a certificate of every profile of the installation
// that `sceau init` writes (public TLS DV and OV, internal TLS, S/MIME with EC
// and RSA keys, the eIDAS qualified person, seal and website, the
// time-stamping unit), issued through the API, passes three checkers
// we did not write: the zlint command (every applicable lint: no error, no
// warning but the explained ones), GnuTLS certtool (parse and chain
// verification), and openssl verify -x509_strict -explicit_policy with
// the leaf's policy as the required one.
func TestCA2_IndependentLintersPassEveryProfile(t *testing.T) {
	needOpenSSL(t)
	zlint := zlintPath(t)
	certtool := sceautest.LookPath(t, "certtool", "Debian package gnutls-bin")
	dir := t.TempDir()
	root, issuing := caFiles(t, dir)
	rootPEM, issuingPEM := filepath.Join(dir, "root.pem"), filepath.Join(dir, "issuing.pem")
	writeFile(t, rootPEM, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: root.Raw}))
	writeFile(t, issuingPEM, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: issuing.Raw}))

	type leaf struct {
		name, path string
		// zlint sources that do not apply: internal-server is not for the
		// public web, so the CA/B Forum TLS lints (which refuse localhost)
		// are not its rules.
		exclude string
	}
	var leaves []leaf
	for _, c := range []struct {
		name, profile string
		subject       pkix.Name
		dns           string
		exclude       string
	}{
		{"server, DV", "server", pkix.Name{CommonName: "dv.example.org"}, "dv.example.org", ""},
		{"server, OV", "server", pkix.Name{CommonName: "ov.example.org", Organization: []string{"Example"}, Locality: []string{"Paris"}, Country: []string{"FR"}},
			"ov.example.org", ""},
		{"qualified-website", "qualified-website", pkix.Name{CommonName: "qw.example.org", Organization: []string{"Example"}, Locality: []string{"Paris"},
			Country: []string{"FR"}}, "qw.example.org", ""},
		{"internal-server", "internal-server", pkix.Name{CommonName: "localhost"}, "localhost", "CABF_BR"},
		{"timestamping", "timestamping", pkix.Name{CommonName: "Sceau TSU 1", Organization: []string{"Sceau"}, Country: []string{"FR"}}, "", ""},
	} {
		leaves = append(leaves, leaf{c.name, issueForProfile(t, dir, c.profile, c.subject, c.dns), c.exclude})
	}
	for _, kt := range []string{"ecdsa-p256", "rsa-2048"} {
		out := mustSceau(t, "cert", "issue", "--ca", "issuing", "--profile", "person", "--generate-key", kt,
			"--cn", "Marie Curie", "--given-name", "Marie", "--surname", "Curie", "--country", "FR", "--email", "marie@example.org",
			"--p12-out", filepath.Join(dir, kt+".p12"), "--json")
		var resp server.PKCS12Response
		if err := json.Unmarshal([]byte(out), &resp); err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(dir, "person-"+kt+".pem")
		writeFile(t, p, []byte(resp.Certificate))
		leaves = append(leaves, leaf{"person, " + kt, p, ""})
	}
	for _, q := range []struct {
		profile string
		args    []string
	}{
		{"qualified-person", []string{"--cn", "Marie Curie", "--given-name", "Marie", "--surname", "Curie", "--serial-number", "IDCFR-12AB34567", "--country", "FR"}},
		{"qualified-seal", []string{"--cn", "Example e-seal", "--org", "Example", "--org-id", "NTRFR-999999998", "--country", "FR"}},
	} {
		out := mustSceau(t, append([]string{"cert", "issue", "--ca", "issuing", "--profile", q.profile, "--generate-key", "ecdsa-p256",
			"--p12-out", filepath.Join(dir, q.profile+".p12"), "--json"}, q.args...)...)
		var resp server.PKCS12Response
		if err := json.Unmarshal([]byte(out), &resp); err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(dir, q.profile+".pem")
		writeFile(t, p, []byte(resp.Certificate))
		leaves = append(leaves, leaf{q.profile, p, ""})
	}

	for _, l := range leaves {
		t.Run(l.name, func(t *testing.T) {
			args := []string{"-pretty"}
			if l.exclude != "" {
				args = append(args, "-excludeSources", l.exclude)
			}
			out, err := exec.Command(zlint, append(args, l.path)...).Output()
			if err != nil {
				t.Fatalf("zlint: %v", err)
			}
			var results map[string]struct {
				Result  string `json:"result"`
				Details string `json:"details"`
			}
			if err := json.Unmarshal(out, &results); err != nil {
				t.Fatalf("zlint output: %v\n%.500s", err, out)
			}
			for name, r := range results {
				switch {
				case r.Result == "error" || r.Result == "fatal":
					t.Errorf("zlint %s: %s %s", r.Result, name, r.Details)
				case r.Result == "warn" && !slices.Contains(explainedWarnings, name):
					t.Errorf("zlint warning not explained in docs/profiles.md: %s %s", name, r.Details)
				}
			}

			if out, err := exec.Command(certtool, "-i", "--infile", l.path).CombinedOutput(); err != nil ||
				strings.Contains(strings.ToLower(string(out)), "warning") {
				t.Errorf("certtool -i: %v\n%s", err, out)
			}
			chain := filepath.Join(dir, "chain.pem")
			leafPEM, err := os.ReadFile(l.path)
			if err != nil {
				t.Fatal(err)
			}
			writeFile(t, chain, append(leafPEM, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: issuing.Raw})...))
			if out, err := exec.Command(certtool, "--verify", "--load-ca-certificate", rootPEM, "--infile", chain).CombinedOutput(); err != nil ||
				!strings.Contains(string(out), "Chain verification output: Verified") {
				t.Errorf("certtool --verify: %v\n%s", err, out)
			}

			cert := parsePEMCert(t, leafPEM)
			if len(cert.PolicyIdentifiers) == 0 {
				t.Fatal("the certificate carries no policy")
			}
			for _, oid := range cert.PolicyIdentifiers {
				if out, err := openssl(t, dir, "verify", "-x509_strict", "-explicit_policy", "-policy", oid.String(),
					"-CAfile", rootPEM, "-untrusted", issuingPEM, l.path); err != nil || !strings.Contains(out, ": OK") {
					t.Errorf("openssl verify -x509_strict -explicit_policy -policy %s: %v\n%s", oid, err, out)
				}
			}
		})
	}
}

// zlintPath finds the zlint command: on PATH, or where `go install` puts
// it. .ci/run installs it (github.com/zmap/zlint/v3/cmd/zlint, pinned).
func zlintPath(t *testing.T) string {
	t.Helper()
	if p, err := exec.LookPath("zlint"); err == nil {
		return p
	}
	if out, err := exec.Command("go", "env", "GOPATH").Output(); err == nil {
		p := filepath.Join(strings.TrimSpace(string(out)), "bin", "zlint")
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	sceautest.Missing(t, "zlint", "go install github.com/zmap/zlint/v3/cmd/zlint@v3.7.3")
	return ""
}

// issueForProfile has the CLI issue a certificate of profile for a new key
// and returns the path of the PEM certificate.
func issueForProfile(t *testing.T, dir, profile string, subject pkix.Name, dnsName string) string {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	var dns []string
	if dnsName != "" {
		dns = []string{dnsName}
	}
	der, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{Subject: subject, DNSNames: dns}, key)
	if err != nil {
		t.Fatal(err)
	}
	name := strings.NewReplacer(" ", "", ",", "-").Replace(profile + "-" + dnsName + subject.CommonName)
	csrPath, certPath := filepath.Join(dir, name+".csr"), filepath.Join(dir, name+".pem")
	writeFile(t, csrPath, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: der}))
	mustSceau(t, "cert", "issue", "--ca", "issuing", "--profile", profile, "--csr", csrPath, "--out", certPath)
	return certPath
}
