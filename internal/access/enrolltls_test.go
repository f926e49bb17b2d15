package access_test

import (
	"bytes"
	"crypto/x509"
	"os"
	"path/filepath"
	"testing"

	"github.com/sceau/sceau/internal/access"
	"github.com/sceau/sceau/internal/keys"
)

// TestSYS2_EnrollmentListenerCertificateIsIssuedOnceAndFollowsItsHosts:
// the enrollment listener's own certificate comes from the admin CA,
// verifies for its hosts, is reused while it covers them and is issued
// again, with the same key, when a host is added.
func TestSYS2_EnrollmentListenerCertificateIsIssuedOnceAndFollowsItsHosts(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "admin")
	ks := keys.OpenSoftStore(filepath.Join(t.TempDir(), "keys"))
	if err := ks.Init([]byte("a test activation secret")); err != nil {
		t.Fatal(err)
	}
	if err := access.CreateAdminPKI(dir, ks, []string{"127.0.0.1"}, "operator", nil); err != nil {
		t.Fatal(err)
	}
	ca, err := access.LoadAdminCA(dir, ks)
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AddCert(ca.Cert)
	leafOf := func(hosts ...string) *x509.Certificate {
		t.Helper()
		cfg, err := access.EnrollTLS(dir, ks, hosts, "", "", nil)
		if err != nil {
			t.Fatal(err)
		}
		if cfg.ClientAuth != 0 || cfg.MinVersion == 0 {
			t.Fatalf("client auth %v, min version %x", cfg.ClientAuth, cfg.MinVersion)
		}
		leaf := cfg.Certificates[0].Leaf
		for _, h := range hosts {
			if _, err := leaf.Verify(x509.VerifyOptions{Roots: roots, DNSName: h, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}); err != nil {
				t.Fatalf("%s: %v", h, err)
			}
		}
		return leaf
	}
	first := leafOf("localhost", "127.0.0.1")
	if again := leafOf("localhost"); again.SerialNumber.Cmp(first.SerialNumber) != 0 {
		t.Fatal("a certificate that covers the hosts was issued again")
	}
	more := leafOf("localhost", "enroll.example.org")
	if more.SerialNumber.Cmp(first.SerialNumber) == 0 {
		t.Fatal("a new host did not get a new certificate")
	}
	if !bytes.Equal(more.RawSubjectPublicKeyInfo, first.RawSubjectPublicKeyInfo) {
		t.Fatal("the listener's key changed")
	}
	if _, err := os.Stat(filepath.Join(dir, access.EnrollCertFile)); err != nil {
		t.Fatal(err)
	}
	// An operator's own chain and key are served as given; a missing one is refused.
	if _, err := access.EnrollTLS(dir, ks, nil, filepath.Join(dir, "nope.pem"), filepath.Join(dir, "nope-key.pem"), nil); err == nil {
		t.Fatal("a missing enroll.cert_file was accepted")
	}
	cfg, err := access.EnrollTLS(dir, ks, nil, filepath.Join(dir, access.OperatorCert), filepath.Join(dir, access.OperatorKeyFile), nil)
	if err != nil || len(cfg.Certificates) != 1 {
		t.Fatalf("operator's files: %v", err)
	}
}
