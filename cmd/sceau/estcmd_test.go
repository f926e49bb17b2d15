package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"filippo.io/age"

	"github.com/sceau/sceau/internal/node"
	"github.com/sceau/sceau/internal/sceautest"
)

var estLine = regexp.MustCompile(`(?m)^\s+user name:\s+(\S+)\n\s+password:\s+(\S+)`)

// TestCA4_ESTFromTheCommandLine, on the demo's running server: an officer
// enters a website dossier, a second validates it, the first makes its
// EST credential with 'sceau est credential create'; curl fetches the CA
// certificates, enrolls an openssl CSR with the credential and re-enrolls
// with the issued certificate as its TLS client certificate on the
// enrollment listener; openssl verifies both against the chain;
// 'sceau est credential list' shows both, and after 'sceau est credential
// revoke' nothing more is issued.
func TestCA4_ESTFromTheCommandLine(t *testing.T) {
	sceautest.NeedOpenSSL(t)
	sceautest.LookPath(t, "curl", "apt-get install curl")
	enroll := freeAddr(t)
	id, _ := age.GenerateX25519Identity()
	tmp, pub, c, creds := demoWithEnroll(t, enroll, func(y string) string {
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
	r := ra1.ok("dossier", "create", write("web.json", `{"kind":"device","ca":"issuing","profile":"server",
		"subject":{"dns_names":["est.sceau-test.fr"]},"contact":{"name":"Ops","email":"ops@sceau-test.fr"}}`))
	m := dossierNumber.FindStringSubmatch(r.stdout)
	if m == nil {
		t.Fatalf("create: %s", r.stdout)
	}
	dossier := m[1]
	ra1.ok("dossier", "evidence", "add", dossier, "--type", "domain_control", "--number", "WHOIS-2026-7", "--country", "FR",
		"--expires", "2035-01-01", "--method", "face_to_face", "--scan", write("whois.pdf", "%PDF-1.4\n%%EOF\n"))
	var cguID, cguSum string
	for _, line := range strings.Split(ra1.ok("publication", "list").stdout, "\n") {
		if f := strings.Fields(line); len(f) > 1 && strings.HasPrefix(f[0], "cgu/") && strings.HasSuffix(f[0], "/fr") {
			cguID, cguSum = f[0], f[len(f)-1]
		}
	}
	ra1.ok("dossier", "accept-cgu", dossier, "--document", cguID, "--sha256", cguSum, "--how", "handwritten",
		"--proof", write("cgu.pdf", "%PDF-1.4\n% CGU\n%%EOF\n"))
	ra1.ok("dossier", "submit", dossier)
	if r := ra1.run("est", "credential", "create", "--dossier", dossier); r.code == 0 {
		t.Fatalf("an EST credential for a dossier not validated: %s", r.stdout)
	}
	ra2.ok("dossier", "validate", dossier, "--yes")
	r = ra1.ok("est", "credential", "create", "--dossier", dossier)
	cm := estLine.FindStringSubmatch(r.stdout)
	if cm == nil {
		t.Fatalf("est credential create: %s", r.stdout)
	}
	user, password := cm[1], cm[2]

	// curl and openssl on the enrollment listener, trusting the admin CA that issued its certificate.
	run := func(name string, args ...string) string {
		t.Helper()
		cmd := exec.Command(name, args...)
		cmd.Dir = tmp
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
		}
		return string(out)
	}
	caFile := filepath.Join(filepath.Dir(c.config), "admin", "admin-ca.pem")
	base := "https://" + enroll + "/.well-known/est/issuing/"
	curl := func(out string, args ...string) string {
		t.Helper()
		return run("curl", append([]string{"-sS", "--cacert", caFile, "-o", out, "-w", "%{http_code}"}, args...)...)
	}
	toPEM := func(b64, pemFile string) {
		run("openssl", "base64", "-d", "-in", b64, "-out", b64+".der")
		run("openssl", "pkcs7", "-inform", "DER", "-in", b64+".der", "-print_certs", "-out", pemFile)
	}
	csr := func(name string) {
		run("openssl", "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", name+".key",
			"-subj", "/CN=est.sceau-test.fr", "-outform", "DER", "-out", name+".der")
		run("openssl", "base64", "-in", name+".der", "-out", name+".b64")
	}
	if s := curl("cacerts.b64", base+"cacerts"); s != "200" {
		t.Fatalf("cacerts: %s", s)
	}
	toPEM("cacerts.b64", "chain.pem")
	csr("one")
	if s := curl("one.p7", "--user", user+":"+password, "-H", "Content-Type: application/pkcs10", "--data-binary", "@one.b64",
		base+"simpleenroll"); s != "200" {
		body, _ := os.ReadFile(filepath.Join(tmp, "one.p7"))
		t.Fatalf("simpleenroll: %s %s", s, body)
	}
	toPEM("one.p7", "one.pem")
	run("openssl", "verify", "-CAfile", "chain.pem", "one.pem")
	csr("two")
	if s := curl("two.p7", "--cert", "one.pem", "--key", "one.key", "-H", "Content-Type: application/pkcs10", "--data-binary", "@two.b64",
		base+"simplereenroll"); s != "200" {
		body, _ := os.ReadFile(filepath.Join(tmp, "two.p7"))
		t.Fatalf("simplereenroll: %s %s", s, body)
	}
	toPEM("two.p7", "two.pem")
	run("openssl", "verify", "-CAfile", "chain.pem", "two.pem")
	serial := func(pemFile string) string {
		out := run("openssl", "x509", "-in", pemFile, "-noout", "-serial")
		return strings.ToLower(strings.TrimLeft(strings.TrimSpace(strings.TrimPrefix(out, "serial=")), "0"))
	}
	s1, s2 := serial("one.pem"), serial("two.pem")
	list := ra1.ok("est", "credential", "list").stdout
	if !strings.Contains(list, user) || !strings.Contains(list, s1+","+s2) || strings.Contains(list, password) {
		t.Fatalf("est credential list (want %s,%s):\n%s", s1, s2, list)
	}
	if r := ra1.ok("cert", "show", s2); !strings.Contains(r.stdout, "issued") {
		t.Errorf("cert show: %s", r.stdout)
	}
	ra1.ok("est", "credential", "revoke", user)
	csr("three")
	if s := curl("three.out", "--cert", "two.pem", "--key", "two.key", "-H", "Content-Type: application/pkcs10", "--data-binary", "@three.b64",
		base+"simplereenroll"); s != "403" {
		t.Fatalf("a re-enrollment after the credential's revocation: %s", s)
	}
}
