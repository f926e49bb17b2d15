package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"filippo.io/age"

	"github.com/sceau/sceau/internal/node"
)

var (
	dossierNumber = regexp.MustCompile(`(?m)^Dossier (\d+):`)
	issuedSerial  = regexp.MustCompile(`issued: serial ([0-9a-f]+)`)
	requestNumber = regexp.MustCompile(`(?m)^Request (\d+):`)
)

// CA-4 from the command line, on the demo: one Registration Officer
// enters a natural person's dossier, its evidence and CGU acceptance; the
// same officer cannot validate it, the second one does; the certificate is
// issued from the dossier in a PKCS#12 and delivered; the holder's request,
// with the revocation secret, is processed by a Revocation Officer.
func TestCA4_RegistrationFromTheCommandLine(t *testing.T) {
	id, _ := age.GenerateX25519Identity()
	tmp, pub, c, creds := demoPeople(t, func(y string) string {
		return strings.Replace(y, "  recipients: []\n", "  recipients: [\""+id.Recipient().String()+"\"]\n", 1)
	})
	startServe(t, c.config, pub)
	shares := node.LayoutOf(mustConfig(t, c.config)).SharesDir("issuing")
	args := []string{"ca", "activate", "issuing"}
	for _, h := range []string{"alice", "bob", "carol"} {
		pin, _ := node.DemoPIN("issuing", h)
		pinFile := filepath.Join(tmp, h+".pin")
		if err := os.WriteFile(pinFile, append(pin, '\n'), 0o600); err != nil {
			t.Fatal(err)
		}
		args = append(args, "--share", h+"="+filepath.Join(shares, h+".share"), "--pin-file", h+"="+pinFile)
	}
	c.ok(args...)
	ra1 := demoAt(t, c, tmp, creds, "registrar")
	ra2 := demoAt(t, c, tmp, creds, "registrar2")
	write := func(name, content string) string {
		p := filepath.Join(tmp, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}

	if r := ra1.ok("dossier", "requirements", "--ca", "issuing", "--profile", "qualified-person", "--kind", "natural"); !strings.Contains(r.stdout, "serial_number") {
		t.Errorf("requirements:\n%s", r.stdout)
	}
	file := write("marie.json", `{"kind":"natural","ca":"issuing","profile":"qualified-person",
		"subject":{"common_name":"Marie Curie","given_name":"Marie","surname":"Curie","serial_number":"IDCFR-123456789012","country":"FR"},
		"contact":{"name":"Marie Curie","email":"marie@example.org","phone":"+33 1 23 45 67 89"}}`)
	r := ra1.ok("dossier", "create", file)
	m := dossierNumber.FindStringSubmatch(r.stdout)
	if m == nil {
		t.Fatalf("create: %s", r.stdout)
	}
	dossier := m[1]
	scan := write("cni.pdf", "%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n")
	if r := ra1.run("dossier", "evidence", "add", dossier, "--type", "id_card", "--number", "123456789012", "--country", "FR",
		"--expires", "2020-01-01", "--method", "face_to_face", "--scan", scan); r.code == 0 || !strings.Contains(r.stderr, "expired") {
		t.Errorf("expired evidence: %d %s", r.code, r.stderr)
	}
	ra1.ok("dossier", "evidence", "add", dossier, "--type", "id_card", "--number", "123456789012", "--country", "FR",
		"--expires", "2035-01-01", "--method", "face_to_face", "--scan", scan)
	var cguID, cguSum string
	for _, line := range strings.Split(ra1.ok("publication", "list").stdout, "\n") {
		if f := strings.Fields(line); len(f) > 1 && strings.HasPrefix(f[0], "cgu/") && strings.HasSuffix(f[0], "/fr") {
			cguID, cguSum = f[0], f[len(f)-1]
		}
	}
	if cguID == "" {
		t.Fatal("the demo publishes no French CGU")
	}
	proof := write("cgu-signee.pdf", "%PDF-1.4\n% CGU signées par Marie Curie\n%%EOF\n")
	ra1.ok("dossier", "accept-cgu", dossier, "--document", cguID, "--sha256", cguSum, "--how", "handwritten", "--proof", proof)
	ra1.ok("dossier", "submit", dossier)
	if r := ra1.run("dossier", "validate", dossier, "--yes"); r.code == 0 || !strings.Contains(r.stderr, "four eyes") {
		t.Fatalf("the officer who entered it validated it: %d %s", r.code, r.stderr)
	}
	if r := ra2.ok("dossier", "validate", dossier); !strings.Contains(r.stdout, "would validate") {
		t.Errorf("validate without --yes: %s", r.stdout)
	}
	ra2.ok("dossier", "validate", dossier, "--yes")
	p12, secret := filepath.Join(tmp, "marie.p12"), filepath.Join(tmp, "secret.txt")
	r = ra1.ok("dossier", "issue", dossier, "--key-type", "ecdsa-p256", "--p12-out", p12, "--holder-secret-file", secret)
	m = issuedSerial.FindStringSubmatch(r.stdout)
	if m == nil || !strings.Contains(r.stdout, "PKCS#12 password") {
		t.Fatalf("issue: %s", r.stdout)
	}
	serial := m[1]
	if _, err := os.Stat(p12); err != nil {
		t.Fatal(err)
	}
	if r := ra1.ok("dossier", "deliver", dossier, "--how", "USB key, password by SMS"); !strings.Contains(r.stdout, "delivered") {
		t.Errorf("deliver: %s", r.stdout)
	}
	r = ra1.ok("revocation-request", "holder", "--serial", serial, "--secret-file", secret, "--reason", "keyCompromise")
	m = requestNumber.FindStringSubmatch(r.stdout)
	if m == nil {
		t.Fatalf("holder request: %s", r.stdout)
	}
	if r := ra2.ok("revocation-request", "list", "--state", "received"); !strings.Contains(r.stdout, serial) {
		t.Errorf("list: %s", r.stdout)
	}
	if r := ra2.ok("revocation-request", "process", m[1], "--revoke", "--yes"); !strings.Contains(r.stdout, "revoked") {
		t.Errorf("process: %s", r.stdout)
	}
	if r := ra1.ok("cert", "show", serial); !strings.Contains(r.stdout, "revoked") {
		t.Errorf("cert show: %s", r.stdout)
	}
}
