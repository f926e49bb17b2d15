package main

import (
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sceau/sceau/internal/audit"
	"github.com/sceau/sceau/internal/sceautest"
)

// TestEND1_TerminationRevokesPublishesTheFinalCRLAndDestroysTheKey drives a
// CA's termination as its Security Officers would: one requests it, the
// requester alone cannot carry it, two others approve; then every
// certificate of the CA is revoked (cessationOfOperation), openssl reads a
// final CRL whose nextUpdate is 9999-12-31 23:59:59 GMT listing them, OCSP
// says revoked, the key is destroyed (key.destroyed), the CA issues and
// signs nothing more, and a second termination is refused (END-1, ROLE-3).
func TestEND1_TerminationRevokesPublishesTheFinalCRLAndDestroysTheKey(t *testing.T) {
	sceautest.NeedOpenSSL(t)
	tmp := t.TempDir()
	dir := filepath.Join(tmp, "ca")
	pub, adm := freeAddr(t), freeAddr(t)
	r := (cli{t: t}).ok("init", "--dir", dir, "--public", pub, "--admin", adm,
		"--security-officer", "so1", "--security-officer", "so2", "--security-officer", "so3")
	creds := printedCredentials(r.stdout)
	c := cli{t: t, config: filepath.Join(dir, "sceau.yaml")}
	startServe(t, c.config, pub)
	terminateIssuing(t, tmp, pub, c, creds)
	if rows := dbRows(t, dir, `SELECT object FROM audit_events WHERE action = '`+audit.ActionCATerminationCompleted+`'`); len(rows) != 1 || rows[0][0] != "ca:issuing" {
		t.Errorf("%s events: %v", audit.ActionCATerminationCompleted, rows)
	}
}

// terminateIssuing drives the termination of the issuing CA of a served
// installation with three Security Officers, and checks it with openssl
// and the journal (END-1).
func terminateIssuing(t *testing.T, tmp, pub string, c cli, creds map[string]initCreds) {
	t.Helper()
	operator := &person{t: t, c: c, session: filepath.Join(tmp, "operator.session")}
	csr := filepath.Join(tmp, "req.pem")
	writeCSR(t, csr)
	var serials []string
	for i := range 3 {
		out := filepath.Join(tmp, "cert"+string(rune('a'+i))+".pem")
		r := operator.ok("cert", "issue", "--ca", "issuing", "--profile", "server", "--csr", csr, "--out", out)
		serials = append(serials, serialLine.FindStringSubmatch(r.stderr)[1])
	}
	var so []*person
	for _, name := range []string{"so1", "so2", "so3"} {
		p := newPerson(t, c, tmp, name, creds[name])
		p.firstLogin()
		so = append(so, p)
	}
	r := so[0].ok("ca", "terminate", "issuing", "--reason", "end of service", "--yes")
	m := requestID.FindStringSubmatch(r.stdout)
	if m == nil {
		t.Fatalf("terminate request:\n%s", r.stdout)
	}
	if r := so[0].run("approval", "approve", m[1], "--yes"); r.code == 0 {
		t.Fatal("the requester approved their own termination")
	}
	so[1].ok("approval", "approve", m[1], "--yes")
	if r := operator.run("cert", "issue", "--ca", "issuing", "--profile", "server", "--csr", csr); r.code != 0 {
		t.Fatalf("issuance stopped after one approval: %s", r.stderr)
	}
	so[2].ok("approval", "approve", m[1], "--yes")
	if r := operator.run("cert", "issue", "--ca", "issuing", "--profile", "server", "--csr", csr); r.code == 0 || !strings.Contains(r.stderr, "terminated") {
		t.Fatalf("issuance after termination: %d %s", r.code, r.stderr)
	}

	// The final CRL, as openssl reads it from the public listener.
	crlFile := filepath.Join(tmp, "issuing.crl")
	var text string
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(300 * time.Millisecond) {
		resp, err := http.Get("http://" + pub + "/crl/issuing.crl")
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		os.WriteFile(crlFile, b, 0o600)
		o, _ := exec.Command("openssl", "crl", "-inform", "DER", "-in", crlFile, "-noout", "-text").CombinedOutput()
		text = string(o)
		if strings.Contains(text, "Next Update: Dec 31 23:59:59 9999 GMT") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no final CRL:\n%s", text)
		}
	}
	for _, s := range serials {
		if !strings.Contains(strings.ToUpper(strings.ReplaceAll(text, ":", "")), strings.ToUpper(strings.TrimLeft(s, "0"))) {
			t.Errorf("the final CRL does not list %s", s)
		}
	}
	if strings.Count(text, "Cessation Of Operation") < len(serials) {
		t.Errorf("the final CRL does not give cessationOfOperation for each:\n%s", text)
	}
	// The DER holds GeneralizedTime 99991231235959Z.
	if b, _ := os.ReadFile(crlFile); !strings.Contains(string(b), "99991231235959Z") {
		t.Error("the final CRL's DER does not hold 99991231235959Z")
	}
	// OCSP, from the delegated responder: revoked.
	chain := filepath.Join(tmp, "issuing.pem")
	resp, _ := http.Get("http://" + pub + "/ca/issuing.pem")
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	os.WriteFile(chain, b, 0o600)
	root := filepath.Join(tmp, "root.pem")
	resp, _ = http.Get("http://" + pub + "/ca/root.pem")
	b, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	os.WriteFile(root, b, 0o600)
	o, err := exec.Command("openssl", "ocsp", "-issuer", chain, "-cert", filepath.Join(tmp, "certa.pem"), "-url", "http://"+pub+"/ocsp",
		"-CAfile", root, "-verify_other", chain).CombinedOutput()
	if err != nil || !strings.Contains(string(o), ": revoked") {
		t.Errorf("OCSP after termination: %v\n%s", err, o)
	}

	// The key is destroyed and the termination complete; nothing is signed.
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(300 * time.Millisecond) {
		if r := so[0].run("audit", "events", "--action", audit.ActionCATerminationCompleted); r.code == 0 && strings.Contains(r.stdout, "ca:issuing") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the termination did not complete")
		}
	}
	if r := so[0].ok("audit", "events", "--action", "key.destroyed"); !strings.Contains(r.stdout, "key:ca-issuing") {
		t.Errorf("no key.destroyed event for the issuing CA:\n%s", r.stdout)
	}
	if r := operator.run("ca", "crl", "issuing"); r.code == 0 {
		t.Error("a CRL was issued after the final one")
	}
	if r := so[0].run("ca", "terminate", "issuing", "--reason", "again", "--yes"); r.code == 0 || !strings.Contains(r.stderr, "terminated") {
		t.Errorf("a second termination: %d %s", r.code, r.stderr)
	}
	// The site shows it terminated.
	resp, _ = http.Get("http://" + pub + "/en/")
	b, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(b), "terminated") {
		t.Errorf("the site does not show the CA terminated")
	}
}
