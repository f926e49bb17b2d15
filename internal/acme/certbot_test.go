package acme_test

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sceau/sceau/internal/audit"
	"github.com/sceau/sceau/internal/revocation"
	"github.com/sceau/sceau/internal/sceautest"
)

// TestCA4_CertbotObtainsRenewsAndRevokesWithEAB drives Debian's certbot
// CLI: an account bound by EAB to a validated dossier, standalone http-01
// on a chosen port, a certificate that openssl verifies against the root
// and that is in the journal, a forced renewal, a revocation (CA-4, CA-2).
func TestCA4_CertbotObtainsRenewsAndRevokesWithEAB(t *testing.T) {
	certbot := sceautest.LookPath(t, "certbot", "apt-get install certbot")
	sceautest.NeedOpenSSL(t)
	f := newFixture(t, sceautest.OpenSQLite(t), nil)
	ctx := context.Background()
	k, err := f.svc.CreateEAB(ctx, ra1, f.dossier.ID, []string{"app.sceau-test.fr"})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	bundle := filepath.Join(dir, "acme-server.pem")
	if err := os.WriteFile(bundle, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: f.srv.Certificate().Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	common := []string{"--non-interactive", "--config-dir", filepath.Join(dir, "config"), "--work-dir", filepath.Join(dir, "work"),
		"--logs-dir", filepath.Join(dir, "logs")}
	run := func(args ...string) string {
		t.Helper()
		cmd := exec.Command(certbot, append(args, common...)...)
		cmd.Env = append(os.Environ(), "REQUESTS_CA_BUNDLE="+bundle)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("certbot %s: %v\n%s", args[0], err, out)
		}
		return string(out)
	}
	run("certonly", "--standalone", "--agree-tos", "-m", "web@sceau-test.fr", "--server", f.dirURL("server"),
		"--eab-kid", k.KID, "--eab-hmac-key", k.HMACKey, "-d", "app.sceau-test.fr",
		"--http-01-port", f.httpPort, "--http-01-address", "127.0.0.1")
	live := filepath.Join(dir, "config", "live", "app.sceau-test.fr")
	verify := func() *x509.Certificate {
		t.Helper()
		root, err := f.h.Authority.CA("root")
		if err != nil {
			t.Fatal(err)
		}
		rootPEM := filepath.Join(dir, "root.pem")
		if err := os.WriteFile(rootPEM, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: root.Cert.Raw}), 0o600); err != nil {
			t.Fatal(err)
		}
		if out, err := exec.Command("openssl", "verify", "-CAfile", rootPEM, "-untrusted", filepath.Join(live, "chain.pem"),
			filepath.Join(live, "cert.pem")).CombinedOutput(); err != nil {
			t.Fatalf("openssl verify: %v\n%s", err, out)
		}
		b, err := os.ReadFile(filepath.Join(live, "cert.pem"))
		if err != nil {
			t.Fatal(err)
		}
		blk, _ := pem.Decode(b)
		c, err := x509.ParseCertificate(blk.Bytes)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	first := verify()
	serial := revocation.SerialHex(first.SerialNumber)
	f.journaledIssue(serial)

	// Without a terminal certbot sleeps up to eight minutes before a
	// renewal, to spread the load on public CAs; the test does not wait.
	run("renew", "--force-renewal", "--no-random-sleep-on-renew")
	second := verify()
	if second.SerialNumber.Cmp(first.SerialNumber) == 0 {
		t.Fatal("the renewal kept the serial")
	}
	f.journaledIssue(revocation.SerialHex(second.SerialNumber))

	run("revoke", "--cert-path", filepath.Join(live, "cert.pem"), "--reason", "superseded", "--no-delete-after-revoke",
		"--server", f.dirURL("server"))
	rec, err := f.h.Authority.Certificate(ctx, revocation.SerialHex(second.SerialNumber))
	if err != nil || rec.Status != "revoked" || !strings.Contains(rec.Reason, "superseded") {
		t.Fatalf("after certbot revoke: %+v %v", rec, err)
	}
	if n := len(f.events(audit.ActionACMEAccountCreated)); n != 1 {
		t.Fatalf("%d accounts", n)
	}
}
