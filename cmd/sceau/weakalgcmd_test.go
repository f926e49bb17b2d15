package main

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sceau/sceau/internal/sceautest"
)

// INC-3: the certificates with RSA keys under 3072 bits are found by a dry
// run (through the API, and locally with every match in a CSV), nothing
// changes until two other officers approve, then exactly those are
// revoked: openssl's OCSP says revoked for the weak one and good for the
// strong one. A selector by nothing or matching nothing is refused.
func TestINC3_WeakAlgorithmFromTheCommandLine(t *testing.T) {
	sceautest.NeedOpenSSL(t)
	tmp := t.TempDir()
	dir := filepath.Join(tmp, "ca")
	pub, adm := freeAddr(t), freeAddr(t)
	r := (cli{t: t}).ok("init", "--dir", dir, "--public", pub, "--admin", adm,
		"--security-officer", "so1", "--security-officer", "so2", "--security-officer", "so3")
	creds := printedCredentials(r.stdout)
	c := cli{t: t, config: filepath.Join(dir, "sceau.yaml")}
	startServe(t, c.config, pub)
	operator := &person{t: t, c: c, session: filepath.Join(tmp, "operator.session")}
	weakCSR, strongCSR := filepath.Join(tmp, "weak.csr"), filepath.Join(tmp, "strong.csr")
	writeRSACSR(t, weakCSR, 2048)
	writeCSR(t, strongCSR)
	var weak []string
	for i := range 2 {
		r := operator.ok("cert", "issue", "--ca", "issuing", "--profile", "server", "--csr", weakCSR, "--out", filepath.Join(tmp, "weak"+string(rune('a'+i))+".pem"))
		weak = append(weak, serialLine.FindStringSubmatch(r.stderr)[1])
	}
	operator.ok("cert", "issue", "--ca", "issuing", "--profile", "server", "--csr", strongCSR, "--out", filepath.Join(tmp, "strong.pem"))
	var so []*person
	for _, name := range []string{"so1", "so2", "so3"} {
		p := newPerson(t, c, tmp, name, creds[name])
		p.firstLogin()
		so = append(so, p)
	}
	sel := []string{"incident", "weak-algorithm", "--key-type", "rsa", "--key-bits-below", "3072"}
	if r := so[0].ok(sel...); !strings.Contains(r.stdout, "2 of ") || !strings.Contains(r.stdout, "Nothing was changed") {
		t.Errorf("dry run through the API:\n%s", r.stdout)
	}
	list := filepath.Join(tmp, "weak.csv")
	so[0].ok(append(sel, "--local", "--out", list)...)
	if b, _ := os.ReadFile(list); strings.Count(string(b), "rsa 2048") != 2 || !strings.Contains(string(b), weak[0]) {
		t.Errorf("the local dry run's list:\n%s", b)
	}
	if r := so[0].run("incident", "weak-algorithm", "--ca", "issuing"); r.code == 0 || !strings.Contains(r.stderr, "at least one criterion") {
		t.Errorf("a selector by nothing: %d %s", r.code, r.stderr)
	}
	if r := so[0].run("incident", "weak-algorithm", "--curve", "P-521", "--yes"); r.code == 0 || !strings.Contains(r.stderr, "no live certificate matches") {
		t.Errorf("a selector matching nothing: %d %s", r.code, r.stderr)
	}
	r = so[0].ok(append(sel, "--yes")...)
	m := requestID.FindStringSubmatch(r.stdout)
	if m == nil {
		t.Fatalf("request:\n%s", r.stdout)
	}
	if r := so[0].run("approval", "approve", m[1], "--yes"); r.code == 0 {
		t.Fatal("the requester approved their own request")
	}
	so[1].ok("approval", "approve", m[1], "--yes")
	if r := so[0].ok(sel...); !strings.Contains(r.stdout, "2 of ") {
		t.Errorf("revoked after one approval:\n%s", r.stdout)
	}
	so[2].ok("approval", "approve", m[1], "--yes")
	if r := so[0].run(sel...); !strings.Contains(r.stdout, "0 of ") {
		t.Errorf("after the approvals the selector still matches:\n%s %s", r.stdout, r.stderr)
	}
	fetch := func(path, file string) {
		resp, err := http.Get("http://" + pub + path)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		os.WriteFile(file, b, 0o600)
	}
	issuing, root := filepath.Join(tmp, "issuing.pem"), filepath.Join(tmp, "root.pem")
	fetch("/ca/issuing.pem", issuing)
	fetch("/ca/root.pem", root)
	for file, want := range map[string]string{"weaka.pem": ": revoked", "weakb.pem": ": revoked", "strong.pem": ": good"} {
		var o []byte
		for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(300 * time.Millisecond) {
			o, _ = exec.Command("openssl", "ocsp", "-issuer", issuing, "-cert", filepath.Join(tmp, file), "-url", "http://"+pub+"/ocsp",
				"-CAfile", root, "-verify_other", issuing).CombinedOutput()
			if strings.Contains(string(o), want) || time.Now().After(deadline) {
				break
			}
		}
		if !strings.Contains(string(o), want) {
			t.Errorf("OCSP for %s: want %q\n%s", file, want, o)
		}
	}
}

func writeRSACSR(t *testing.T, path string, bits int) {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, bits)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{
		Subject: pkix.Name{CommonName: "legacy.example.org"}, DNSNames: []string{"legacy.example.org"}}, key)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: der}), 0o644); err != nil {
		t.Fatal(err)
	}
}
