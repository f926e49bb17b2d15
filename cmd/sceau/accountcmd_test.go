package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestROLE4_PersonalCertificateFromTheCommandLine: a Security Officer has
// a personal certificate issued for another person, whose key is made by
// the CLI; the person acts with it; once revoked it is refused; a
// suspension takes effect on the next command.
func TestROLE4_PersonalCertificateFromTheCommandLine(t *testing.T) {
	tmp := t.TempDir()
	dir := filepath.Join(tmp, "ca")
	pub, adm := freeAddr(t), freeAddr(t)
	r := (cli{t: t}).ok("init", "--dir", dir, "--public", pub, "--admin", adm, "--security-officer", "so1", "--security-officer", "so2")
	creds := printedCredentials(r.stdout)
	if fi, err := os.Stat(filepath.Join(dir, "secrets", "totp.key")); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("init made no TOTP key file of mode 0600: %v %v", fi, err)
	}
	c := cli{t: t, config: filepath.Join(dir, "sceau.yaml")}
	startServe(t, c.config, pub)
	so1 := newPerson(t, c, tmp, "so1", creds["so1"])
	so1.firstLogin()
	out := filepath.Join(tmp, "so2-cert")
	if r := so1.run("account", "cert", "issue", "so1", "--out", out, "--yes"); r.code == 0 || !strings.Contains(r.stderr, "own account") {
		t.Fatalf("issuing for oneself: %d %s", r.code, r.stderr)
	}
	so1.ok("account", "cert", "issue", "so2", "--out", out, "--yes")
	certFile, keyFile := filepath.Join(out, "so2.pem"), filepath.Join(out, "so2-key.pem")
	if fi, err := os.Stat(keyFile); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file: %v %v", fi, err)
	}
	if r := so1.run("account", "cert", "issue", "so2", "--out", out, "--yes"); r.code == 0 || !strings.Contains(r.stderr, "never overwritten") {
		t.Fatalf("second issue into the same directory: %d %s", r.code, r.stderr)
	}
	so2 := &person{t: t, c: c, name: "so2", session: filepath.Join(tmp, "so2.session")}
	t.Setenv("SCEAU_CLIENT_CERT", certFile)
	t.Setenv("SCEAU_CLIENT_KEY", keyFile)
	if r := so2.ok("whoami"); !strings.Contains(r.stdout, "Account:   so2") || !strings.Contains(r.stdout, "certificate") {
		t.Fatalf("whoami with the personal certificate:\n%s", r.stdout)
	}
	t.Setenv("SCEAU_CLIENT_CERT", "")
	t.Setenv("SCEAU_CLIENT_KEY", "")
	r = so1.ok("account", "cert", "list", "so2")
	fields := strings.Fields(strings.Split(r.stdout, "\n")[1])
	if len(fields) == 0 || !strings.Contains(r.stdout, "valid") {
		t.Fatalf("cert list:\n%s", r.stdout)
	}
	so1.ok("account", "cert", "revoke", "so2", fields[0], "--reason", "test", "--yes")
	t.Setenv("SCEAU_CLIENT_CERT", certFile)
	t.Setenv("SCEAU_CLIENT_KEY", keyFile)
	if r := so2.run("whoami"); r.code == 0 || !strings.Contains(r.stderr, "revoked") {
		t.Fatalf("whoami with the revoked certificate: %d %s", r.code, r.stderr)
	}
	t.Setenv("SCEAU_CLIENT_CERT", "")
	t.Setenv("SCEAU_CLIENT_KEY", "")
	// Suspension, by one officer, at once.
	so1.ok("account", "suspend", "operator", "--reason", "named officers exist", "--yes")
	nobody := &person{t: t, c: c, session: filepath.Join(tmp, "none.session")}
	if r := nobody.run("whoami"); r.code == 0 || !strings.Contains(r.stderr, "suspended") {
		t.Fatalf("operator.pem after the suspension: %d %s", r.code, r.stderr)
	}
	if r := so1.ok("account", "list"); !strings.Contains(r.stdout, "suspended") {
		t.Fatalf("account list:\n%s", r.stdout)
	}
}
