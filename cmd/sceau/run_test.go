package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sceau/sceau/internal/ceremony"
	"github.com/sceau/sceau/internal/config"
	"github.com/sceau/sceau/internal/sceautest"
)

// TestKEY8_RunDrivesAnInstallationThroughItsLife drives run() as the
// operators of one installation would, end to end: init with a 3-of-5
// issuing CA, serve, activation by three holders (KEY-2), issuance,
// revocation, then, the service stopped, a key ceremony that adds a CA to
// the installation with a signed transcript (KEY-8).
func TestKEY8_RunDrivesAnInstallationThroughItsLife(t *testing.T) {
	sceautest.NeedOpenSSL(t)
	f := newCeremonyFixture(t)
	install := filepath.Join(f.dir, "ca")
	c := cli{t: t}
	c.ok("init", "--from", f.config, "--dir", install, "--pins", f.pins)
	c.config = filepath.Join(install, "sceau.yaml")
	cfg, err := config.Load(c.config)
	if err != nil {
		t.Fatal(err)
	}

	ctx, cancel := context.WithCancel(context.Background())
	logs := &syncBuffer{}
	serveDone := make(chan int, 1)
	go func() { serveDone <- run(ctx, []string{"--config", c.config, "serve"}, logs, logs) }()
	stop := func() {
		if cancel != nil {
			cancel()
			<-serveDone
			cancel = nil
		}
	}
	defer stop()
	waitHealthy(t, "http://"+cfg.Public.Listen, serveDone, logs)

	csr := filepath.Join(f.dir, "www.csr")
	writeCSR(t, csr)
	if r := c.run("cert", "issue", "--ca", "issuing", "--profile", "server", "--csr", csr); r.code == 0 {
		t.Fatalf("the issuing CA signed before its activation:\n%s", r.stdout)
	}
	activate := []string{"ca", "activate", "issuing"}
	for _, h := range []string{"alice", "bob", "carol"} {
		activate = append(activate, "--share", h+"="+filepath.Join(install, "shares", "issuing", h+".share"),
			"--pin-file", h+"="+filepath.Join(f.pins, h+".pin"))
	}
	if r := c.ok(activate...); !strings.Contains(r.stdout, "CA issuing is activated") {
		t.Fatalf("activation by three holders:\n%s", r.stdout)
	}
	r := c.ok("cert", "issue", "--ca", "issuing", "--profile", "server", "--csr", csr)
	m := serialLine.FindStringSubmatch(r.stderr)
	if m == nil {
		t.Fatalf("no serial in:\n%s", r.stderr)
	}
	serial := m[1]
	c.ok("cert", "revoke", serial, "--reason", "keyCompromise", "--yes")
	if r := c.ok("cert", "show", serial); !strings.Contains(r.stdout, "Status:    revoked") {
		t.Fatalf("after revocation:\n%s", r.stdout)
	}
	stop()

	// A ceremony on the stopped installation adds a second issuing CA,
	// signed by the root, its secret split among the same five holders.
	text, err := os.ReadFile(c.config)
	if err != nil {
		t.Fatal(err)
	}
	block := string(text[strings.Index(string(text), "  - id: issuing"):])
	block = strings.Replace(strings.Replace(block, "  - id: issuing", "  - id: team", 1), "Issuing CA", "Team CA", 1)
	if err := os.WriteFile(c.config, append(text, []byte(block)...), 0o644); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(f.script, []byte(scriptText(c.config, "", []string{"team"}, ceremonyHolders)), 0o644)
	(cli{t: t}).ok("ceremony", "run", f.script, "--pins", f.pins, "--confirm-file", confirmations(t, f.script, nil))
	tr := readTranscript(t, f.outputs)
	if tr.Status != ceremony.StatusCompleted || len(tr.CAs) != 1 || tr.CAs[0].ID != "team" {
		t.Fatalf("the ceremony: %s, CAs %+v", tr.Status, tr.CAs)
	}
	if r := c.ok("ceremony", "verify", f.outputs); !strings.Contains(r.stdout, "OK") {
		t.Fatalf("the transcript does not verify:\n%s", r.stdout)
	}
}
