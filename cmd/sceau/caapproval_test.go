package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sceau/sceau/internal/access"
	"github.com/sceau/sceau/internal/node"
	"github.com/sceau/sceau/internal/server"
)

// demoPeople makes a demo installation with its demo people; edit, if
// set, changes its configuration before anything runs on it.
func demoPeople(t *testing.T, edit func(yaml string) string) (tmp, pub string, c cli, creds map[string]access.Credentials) {
	t.Helper()
	tmp = t.TempDir()
	dir := filepath.Join(tmp, "demo")
	pub = freeAddr(t)
	(cli{t: t}).ok("demo", "--exit", "--dir", dir, "--public", pub, "--admin", freeAddr(t), "--enroll", freeAddr(t))
	var list []access.Credentials
	b, err := os.ReadFile(filepath.Join(dir, "demo-credentials.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &list); err != nil {
		t.Fatal(err)
	}
	creds = map[string]access.Credentials{}
	for _, cr := range list {
		creds[cr.Account] = cr
	}
	c = cli{t: t, config: filepath.Join(dir, "sceau.yaml")}
	if edit != nil {
		b, err := os.ReadFile(c.config)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(c.config, []byte(edit(string(b))), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return tmp, pub, c, creds
}

// ROLE-3 from the command line: a Registration Officer's request to revoke
// every certificate of the issuing CA does nothing until two other people
// approve it, then revokes them all; an Application Administrator's
// termination, once approved, stops issuance from that CA.
func TestROLE3_MassRevocationAndTerminationFromTheCommandLine(t *testing.T) {
	tmp, pub, c, creds := demoPeople(t, nil)
	startServe(t, c.config, pub)
	registrar := demoAt(t, c, tmp, creds, "registrar")
	so := demoAt(t, c, tmp, creds, "security-officer")
	so2 := demoAt(t, c, tmp, creds, "so2")
	appadmin := demoAt(t, c, tmp, creds, "appadmin")

	// The demo's issuing CA is under a 3-of-5 policy: after the restart,
	// three holders activate it.
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

	csr := filepath.Join(tmp, "req.pem")
	writeCSR(t, csr)
	for range 3 {
		registrar.ok("cert", "issue", "--ca", "issuing", "--profile", "server", "--csr", csr)
	}
	issued := func() (good, revoked int) {
		var certs []server.CertInfo
		if err := json.Unmarshal([]byte(registrar.ok("cert", "list", "--ca", "issuing", "--json").stdout), &certs); err != nil {
			t.Fatal(err)
		}
		for _, ci := range certs {
			if ci.Status == "revoked" {
				revoked++
			} else {
				good++
			}
		}
		return good, revoked
	}
	if good, _ := issued(); good < 3 {
		t.Fatalf("%d certificates issued, want at least 3", good)
	}

	if r := registrar.run("ca", "revoke-all", "issuing", "--yes"); r.code == 0 || !strings.Contains(r.stderr, "--reason") {
		t.Fatalf("revoke-all without a reason: %d %s", r.code, r.stderr)
	}
	if r := registrar.ok("ca", "revoke-all", "issuing", "--reason", "superseded"); !strings.Contains(r.stdout, "would request") {
		t.Fatalf("dry run:\n%s", r.stdout)
	}
	r := registrar.ok("ca", "revoke-all", "issuing", "--reason", "superseded", "--yes")
	m := requestID.FindStringSubmatch(r.stdout)
	if m == nil {
		t.Fatalf("revoke-all request:\n%s", r.stdout)
	}
	if r := registrar.run("approval", "approve", m[1], "--yes"); r.code == 0 {
		t.Fatal("the requester approved their own mass revocation")
	}
	so.ok("approval", "approve", m[1], "--yes")
	if _, revoked := issued(); revoked != 0 {
		t.Fatalf("%d certificates revoked after one approval", revoked)
	}
	so2.ok("approval", "approve", m[1], "--yes")
	if good, revoked := issued(); good != 0 || revoked < 3 {
		t.Fatalf("after two approvals: %d good, %d revoked; want none good", good, revoked)
	}

	if r := registrar.run("ca", "terminate", "issuing", "--reason", "end of service", "--yes"); r.code == 0 {
		t.Fatal("a Registration Officer requested a CA termination")
	}
	r = appadmin.ok("ca", "terminate", "issuing", "--reason", "end of service", "--yes")
	m = requestID.FindStringSubmatch(r.stdout)
	if m == nil {
		t.Fatalf("terminate request:\n%s", r.stdout)
	}
	so.ok("approval", "approve", m[1], "--yes")
	registrar.ok("cert", "issue", "--ca", "issuing", "--profile", "server", "--csr", csr)
	so2.ok("approval", "approve", m[1], "--yes")
	if r := registrar.run("cert", "issue", "--ca", "issuing", "--profile", "server", "--csr", csr); r.code == 0 || !strings.Contains(r.stderr, "terminated") {
		t.Fatalf("issuance after termination: %d %s", r.code, r.stderr)
	}
}

// extraCA declares a CA "extra" under the demo root.
func extraCA(yaml string) string {
	return strings.Replace(yaml, "  - id: issuing\n", `  - id: extra
    parent: root
    subject:
      common_name: Sceau Demo Extra CA (demo)
      organization: Sceau Demo
      country: FR
    key_type: ecdsa-p256
    validity: 1y
    path_len: 0
    policies:
      - oid: 1.2.250.1.999.1.1
    crl:
      validity: 24h
    profiles:
      - name: server
        key_usage: [digitalSignature]
        ext_key_usage: [serverAuth]
        policies:
          - oid: 1.2.250.1.999.1.1
        key_types: [ecdsa-p256]
        validity: 90d
        max_validity: 90d
        allow_dns_names: true
        require_san: true
  - id: issuing
`, 1)
}

// ROLE-3 from the command line: a CA declared in the configuration is not
// created (and the service runs without it) until an Application
// Administrator's request for it has two other approvals; then 'ca create'
// makes it and the journal names the requester.
func TestROLE3_CACreationNeedsAnApprovedRequest(t *testing.T) {
	tmp, pub, c, creds := demoPeople(t, extraCA)
	startServe(t, c.config, pub)
	appadmin := demoAt(t, c, tmp, creds, "appadmin")
	so := demoAt(t, c, tmp, creds, "security-officer")
	so2 := demoAt(t, c, tmp, creds, "so2")

	if r := c.ok("ca", "create"); !strings.Contains(r.stdout, "cannot create yet") || !strings.Contains(r.stdout, "request-create extra") {
		t.Fatalf("dry run without a request:\n%s", r.stdout)
	}
	if r := c.run("ca", "create", "--yes"); r.code == 0 || !strings.Contains(r.stderr, "needs an approved request") {
		t.Fatalf("creation without a request: %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if r := so.run("ca", "request-create", "extra", "--reason", "second issuing CA", "--yes"); r.code == 0 {
		t.Fatal("a Security Officer requested a CA creation")
	}
	if r := appadmin.run("ca", "request-create", "undeclared", "--reason", "x", "--yes"); r.code == 0 || !strings.Contains(r.stderr, "not declared") {
		t.Fatalf("request for an undeclared CA: %d %s", r.code, r.stderr)
	}
	r := appadmin.ok("ca", "request-create", "extra", "--reason", "second issuing CA", "--yes")
	m := requestID.FindStringSubmatch(r.stdout)
	if m == nil {
		t.Fatalf("request-create:\n%s", r.stdout)
	}
	so.ok("approval", "approve", m[1], "--yes")
	if r := c.run("ca", "create", "--yes"); r.code == 0 {
		t.Fatal("a CA was created with one approval")
	}
	so2.ok("approval", "approve", m[1], "--yes")
	if r := c.run("ca", "create", "--yes", "--card", "nobody"); r.code == 0 || !strings.Contains(r.stderr, "HOLDER=TOKEN") {
		t.Fatalf("a malformed --card: %d %s", r.code, r.stderr)
	}
	r = c.ok("ca", "create", "--yes")
	if !strings.Contains(r.stdout, "created CA extra") || !strings.Contains(r.stdout, "authorised by request "+m[1]+" of appadmin") {
		t.Fatalf("creation after two approvals:\n%s", r.stdout)
	}
	if r := c.ok("ca", "create"); !strings.Contains(r.stdout, "nothing to create") {
		t.Fatalf("second run:\n%s", r.stdout)
	}
	db, err := node.OpenStore(t.Context(), mustConfig(t, c.config))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var actor string
	if err := db.QueryRowContext(t.Context(), `SELECT actor FROM audit_events WHERE action = 'ca.created' AND object = 'ca:extra'`).Scan(&actor); err != nil || actor != "appadmin" {
		t.Fatalf("ca.created for extra by %q (%v), want appadmin", actor, err)
	}
}
