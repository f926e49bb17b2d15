package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"filippo.io/age"

	"github.com/sceau/sceau/internal/audit"
	"github.com/sceau/sceau/internal/sceautest"
)

var archivedAs = regexp.MustCompile(`Archived as item (\d+):`)

// TestARC1_ArchiveFromTheCommandLine drives the archive as its people
// would on a served installation: the CRLs of init and the CA certificates
// are in it unasked (ARC-1); an audit report is added and comes back with
// every check passed; a confidential record is sealed to the Security
// Officer's age key, refused to the operator, opened on the officer's
// machine; the replica catches up; verify passes; the signed head verifies
// with openssl against the published root; purge is the Security
// Officer's alone (ARC-2, ARC-3, ARC-4, ARC-6). Journal: archive.added,
// archive.head_issued, archive.signer_certified, archive.retrieved.
func TestARC1_ArchiveFromTheCommandLine(t *testing.T) {
	sceautest.NeedOpenSSL(t)
	tmp := t.TempDir()
	dir := filepath.Join(tmp, "ca")
	pub, adm := freeAddr(t), freeAddr(t)
	r := (cli{t: t}).ok("init", "--dir", dir, "--public", pub, "--admin", adm, "--security-officer", "so1")
	creds := printedCredentials(r.stdout)
	c := cli{t: t, config: filepath.Join(dir, "sceau.yaml")}
	id, _ := age.GenerateX25519Identity()
	idFile := filepath.Join(tmp, "so1.age")
	os.WriteFile(idFile, []byte(id.String()+"\n"), 0o600)
	replica := filepath.Join(tmp, "second-site")
	editConfig(t, c.config, "  recipients: []\n", "  recipients: [\""+id.Recipient().String()+"\"]\n",
		"  replicas: []\n", "  replicas:\n    - name: second-site\n      dir: "+replica+"\n", "  replication_interval: 10s", "  replication_interval: 1s")
	startServe(t, c.config, pub)
	operator := &person{t: t, c: c, session: filepath.Join(tmp, "operator.session")}

	// ARC-1: the CRLs and CA certificates are there unasked.
	var list string
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		list = operator.ok("archive", "list").stdout
		if strings.Contains(list, "crl:issuing:") && strings.Contains(list, "ca-certificate:root:") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the CRLs and CA certificates were not archived:\n%s", list)
		}
	}
	report := filepath.Join(tmp, "rapport.txt")
	os.WriteFile(report, []byte("Rapport d'audit interne, novembre 2026: conforme.\n"), 0o600)
	r = operator.ok("archive", "add", "--kind", "audit-report", "--source", "audit:2026-11", "--type", "text/plain", report)
	m := archivedAs.FindStringSubmatch(r.stdout)
	if m == nil {
		t.Fatalf("archive add: %s", r.stdout)
	}
	if r := operator.run("archive", "add", "--kind", "Bad Kind", "--source", "x", report); r.code == 0 || !strings.Contains(r.stderr, "kind") {
		t.Errorf("a bad kind: %d %s", r.code, r.stderr)
	}
	operator.ok("archive", "head")
	out := filepath.Join(tmp, "back.txt")
	r = operator.ok("archive", "get", m[1], "-o", out)
	if b, _ := os.ReadFile(out); !bytes.Equal(b, mustRead(t, report)) {
		t.Fatalf("archive get wrote other bytes")
	}
	if !strings.Contains(r.stdout, "verified: hash, head signature, head chain, inclusion, timestamp") {
		t.Errorf("archive get does not report its checks:\n%s", r.stdout)
	}

	// ARC-3: a confidential record, sealed to the officer's key.
	evidence := filepath.Join(tmp, "evidence.txt")
	os.WriteFile(evidence, []byte("Pièce d'identité de Alice Martin, n° 12AB34567\n"), 0o600)
	r = operator.ok("archive", "add", "--kind", "identity-evidence", "--source", "dossier:42", "--class", "confidential", evidence)
	conf := archivedAs.FindStringSubmatch(r.stdout)[1]
	if r := operator.run("archive", "get", conf); r.code == 0 || !strings.Contains(r.stderr, "Security Officer") {
		t.Fatalf("the operator read a confidential item: %d %s", r.code, r.stderr)
	}
	so1 := newPerson(t, c, tmp, "so1", creds["so1"])
	so1.firstLogin()
	out2 := filepath.Join(tmp, "evidence-back.txt")
	r = so1.ok("archive", "get", conf, "--identity", idFile, "-o", out2)
	if b, _ := os.ReadFile(out2); !bytes.Equal(b, mustRead(t, evidence)) || !strings.Contains(r.stdout, "decrypt") {
		t.Fatalf("the officer's copy: %q\n%s", b, r.stdout)
	}
	if r := operator.run("archive", "purge", "--dry-run"); r.code == 0 || !strings.Contains(r.stderr, "Security Officer") {
		t.Errorf("the operator purged: %d %s", r.code, r.stderr)
	}
	so1.ok("archive", "purge", "--dry-run")

	// ARC-4: the replica catches up.
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(300 * time.Millisecond) {
		st := operator.ok("archive", "status").stdout
		if strings.Contains(st, "Replica second-site: caught up") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the replica did not catch up:\n%s", st)
		}
	}
	if _, err := os.Stat(filepath.Join(replica, "heads")); err != nil {
		t.Errorf("no head on the replica: %v", err)
	}
	r = operator.ok("archive", "get", m[1], "--from", "second-site", "-o", out)
	if !strings.Contains(r.stdout, "from second-site") {
		t.Errorf("get --from: %s", r.stdout)
	}
	// ARC-6: the whole archive verifies, read-only beside serve.
	if r := c.ok("archive", "verify"); !strings.Contains(r.stdout, "OK: every item") {
		t.Fatalf("archive verify:\n%s", r.stdout)
	}

	// ARC-3: the head's signature verifies with openssl and the published root.
	r = operator.ok("archive", "get", m[1], "-o", out, "--json")
	var got struct {
		Head struct {
			Body, Signature []byte
		} `json:"head"`
		Token []byte `json:"token"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &got); err != nil || len(got.Head.Signature) == 0 {
		t.Fatalf("get --json: %v\n%s", err, r.stdout)
	}
	body, sig, root := filepath.Join(tmp, "head.json"), filepath.Join(tmp, "head.p7s"), filepath.Join(tmp, "root.pem")
	os.WriteFile(body, got.Head.Body, 0o600)
	os.WriteFile(sig, got.Head.Signature, 0o600)
	resp, err := http.Get("http://" + pub + "/ca/root.pem")
	if err != nil {
		t.Fatal(err)
	}
	rb, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	os.WriteFile(root, rb, 0o600)
	if o, err := exec.Command("openssl", "cms", "-verify", "-binary", "-inform", "DER", "-in", sig, "-content", body, "-CAfile", root,
		"-purpose", "any", "-out", os.DevNull).CombinedOutput(); err != nil {
		t.Fatalf("openssl cms -verify of the tree head: %v\n%s", err, o)
	}
	// ARC-5: the item's token verifies with openssl against the same root.
	token, chain := filepath.Join(tmp, "item.tsr"), filepath.Join(tmp, "issuing.pem")
	os.WriteFile(token, got.Token, 0o600)
	resp, err = http.Get("http://" + pub + "/ca/issuing.pem")
	if err != nil {
		t.Fatal(err)
	}
	ib, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	os.WriteFile(chain, ib, 0o600)
	if o, err := exec.Command("openssl", "ts", "-verify", "-data", report, "-in", token, "-token_in", "-CAfile", root,
		"-untrusted", chain).CombinedOutput(); err != nil || !strings.Contains(string(o), "Verification: OK") {
		t.Fatalf("openssl ts -verify of the item's token: %v\n%s", err, o)
	}

	// The journal holds what happened.
	for _, a := range []string{audit.ActionArchiveAdded, audit.ActionArchiveHead, audit.ActionArchiveSignerCert, audit.ActionArchiveRetrieved} {
		if r := so1.run("audit", "events", "--action", a); r.code != 0 || !strings.Contains(r.stdout, a) {
			t.Errorf("no %s in the journal: %s %s", a, r.stdout, r.stderr)
		}
	}
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
