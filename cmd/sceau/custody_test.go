package main

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sceau/sceau/internal/keys"
	"github.com/sceau/sceau/internal/node"
	"github.com/sceau/sceau/internal/sceau"
	"github.com/sceau/sceau/internal/sceautest"
)

// startServe runs `serve` on cfg until the test ends, and waits until it answers.
func startServe(t *testing.T, cfg, publicAddr string) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	logs := &syncBuffer{}
	done := make(chan int, 1)
	go func() { done <- run(ctx, []string{"--config", cfg, "serve"}, logs, logs) }()
	waitHealthy(t, "http://"+publicAddr, done, logs)
	stopped := false
	stop = func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		if code := <-done; code != 0 {
			t.Errorf("serve exited with %d:\n%s", code, logs)
		}
	}
	t.Cleanup(stop)
	return stop
}

// A CA with a 3-of-5 policy: nothing is signed after a restart until three
// holders have presented their shares; two are not enough; deactivation
// stops signing again (KEY-2, KEY-5).
func TestKEY2_ThreeOfFiveHoldersActivateAfterRestart(t *testing.T) {
	tmp := t.TempDir()
	pub, adm := freeAddr(t), freeAddr(t)
	holders := []string{"alice", "bob", "carol", "dave", "erin"}
	pins := filepath.Join(tmp, "pins")
	os.MkdirAll(pins, 0o700)
	for _, h := range holders {
		os.WriteFile(filepath.Join(pins, h+".pin"), []byte("PIN of "+h+"\n"), 0o600)
	}
	cfgText := strings.Replace(string(node.RenderConfig(node.ConfigValues{Org: "Test", PublicListen: pub, AdminListen: adm, BaseURL: "http://" + pub})),
		"    path_len: 0\n", "    path_len: 0\n    activation:\n      threshold: 3\n      holders: [alice, bob, carol, dave, erin]\n", 1)
	from := filepath.Join(tmp, "custody.yaml")
	os.WriteFile(from, []byte(cfgText), 0o644)
	dir := filepath.Join(tmp, "ca")
	(cli{t: t}).ok("init", "--dir", dir, "--from", from, "--pins", pins)
	c := cli{t: t, config: filepath.Join(dir, "sceau.yaml")}
	for _, h := range holders {
		if _, err := os.Stat(filepath.Join(dir, "shares", "issuing", h+".share")); err != nil {
			t.Fatalf("no share file for %s: %v", h, err)
		}
	}
	share := func(h string) []string {
		return []string{"--share", h + "=" + filepath.Join(dir, "shares", "issuing", h+".share"), "--pin-file", h + "=" + filepath.Join(pins, h+".pin")}
	}
	issue := func() result {
		return c.run("cert", "issue", "--ca", "issuing", "--profile", "person", "--generate-key", "ecdsa-p256", "--cn", "Test Holder",
			"--given-name", "Test", "--surname", "Holder", "--country", "FR", "--email", "holder@example.org",
			"--p12-out", filepath.Join(t.TempDir(), "holder.p12"))
	}

	stop := startServe(t, c.config, pub)
	// After start (a restart of the process that created the key): refused.
	if r := issue(); r.code == 0 || !strings.Contains(r.stderr, "not activated") || !strings.Contains(r.stderr, "3 of its 5") {
		t.Fatalf("issuance before activation: exit %d, %s", r.code, r.stderr)
	}
	// Two holders: still refused.
	r := c.ok(append(append([]string{"ca", "activate", "issuing"}, share("alice")...), share("dave")...)...)
	if !strings.Contains(r.stdout, "1 more needed") {
		t.Fatalf("two holders: %s", r.stdout)
	}
	if r := issue(); r.code == 0 {
		t.Fatal("two of three holders activated the CA")
	}
	// A wrong PIN is refused and counted.
	os.WriteFile(filepath.Join(pins, "bad.pin"), []byte("not bob's PIN"), 0o600)
	if r := c.run("ca", "activate", "issuing", "--share", "bob="+filepath.Join(dir, "shares", "issuing", "bob.share"), "--pin-file", "bob="+filepath.Join(pins, "bad.pin")); r.code == 0 || !strings.Contains(r.stderr, "wrong PIN for bob's share (1 of 5") {
		t.Fatalf("wrong PIN: exit %d %s", r.code, r.stderr)
	}
	// Three holders: activated, issuance works.
	r = c.ok(append(append(append([]string{"ca", "activate", "issuing"}, share("carol")...), share("erin")...), share("bob")...)...)
	if !strings.Contains(r.stdout, "is activated") {
		t.Fatalf("three holders: %s", r.stdout)
	}
	if r := issue(); r.code != 0 {
		t.Fatalf("issuance after activation: %s", r.stderr)
	}
	// Deactivate: refused again.
	c.ok("ca", "deactivate", "issuing", "--yes")
	if r := issue(); r.code == 0 {
		t.Fatal("issued after deactivation")
	}
	// Activate, restart: the restarted process signs nothing.
	c.ok(append(append(append([]string{"ca", "activate", "issuing"}, share("alice")...), share("bob")...), share("carol")...)...)
	stop()
	startServe(t, c.config, pub)
	if r := issue(); r.code == 0 || !strings.Contains(r.stderr, "not activated") {
		t.Fatalf("issuance after restart: exit %d %s", r.code, r.stderr)
	}
}

// The issuing CA's key is generated inside a PKCS#11 token (SoftHSM2) whose
// user PIN becomes the split secret: after a restart nothing is signed
// until three of five holders activate it, and the certificate it then
// issues verifies with openssl (KEY-1, KEY-2, KEY-5).
func TestKEY1_TokenKeyActivatedThreeOfFiveSignsVerifiably(t *testing.T) {
	sceautest.NeedOpenSSL(t)
	module, token, initialPIN := sceautest.SoftHSM(t)
	tmp := t.TempDir()
	pub, adm := freeAddr(t), freeAddr(t)
	pins := filepath.Join(tmp, "pins")
	os.MkdirAll(pins, 0o700)
	for _, h := range []string{"alice", "bob", "carol", "dave", "erin"} {
		os.WriteFile(filepath.Join(pins, h+".pin"), []byte("PIN of "+h+"\n"), 0o600)
	}
	tokenPins := filepath.Join(tmp, "token-pins")
	os.MkdirAll(tokenPins, 0o700)
	os.WriteFile(filepath.Join(tokenPins, token+".pin"), []byte(initialPIN), 0o600)
	cfgText := string(node.RenderConfig(node.ConfigValues{Org: "Test", PublicListen: pub, AdminListen: adm, BaseURL: "http://" + pub}))
	cfgText = strings.Replace(cfgText, "  secret_file: secrets/keystore.secret\n",
		"  secret_file: secrets/keystore.secret\n  pkcs11:\n    module: "+module+"\n", 1)
	cfgText = strings.Replace(cfgText, "    path_len: 0\n",
		"    path_len: 0\n    token: "+token+"\n    activation:\n      threshold: 3\n      holders: [alice, bob, carol, dave, erin]\n", 1)
	from := filepath.Join(tmp, "token.yaml")
	os.WriteFile(from, []byte(cfgText), 0o644)
	dir := filepath.Join(tmp, "ca")
	(cli{t: t}).ok("init", "--dir", dir, "--from", from, "--pins", pins, "--token-pins", tokenPins)
	// The initial PIN no longer opens the token.
	if err := keys.SetTokenPIN(module, token, []byte(initialPIN), []byte("whatever 1234")); sceau.KindOf(err) != sceau.Denied {
		t.Fatalf("the initial token PIN still works: %v", err)
	}
	c := cli{t: t, config: filepath.Join(dir, "sceau.yaml")}
	share := func(h string) []string {
		return []string{"--share", h + "=" + filepath.Join(dir, "shares", "issuing", h+".share"), "--pin-file", h + "=" + filepath.Join(pins, h+".pin")}
	}
	csr := filepath.Join(tmp, "req.pem")
	writeCSR(t, csr)
	issue := func(out string) result {
		return c.run("cert", "issue", "--ca", "issuing", "--profile", "server", "--csr", csr, "--out", out)
	}
	startServe(t, c.config, pub)
	if r := issue(filepath.Join(tmp, "refused.pem")); r.code == 0 || !strings.Contains(r.stderr, "not activated") {
		t.Fatalf("issuance before activation: exit %d %s", r.code, r.stderr)
	}
	c.ok(append(append([]string{"ca", "activate", "issuing"}, share("bob")...), share("erin")...)...)
	if r := issue(filepath.Join(tmp, "refused2.pem")); r.code == 0 {
		t.Fatal("two holders activated the token")
	}
	c.ok(append(append(append([]string{"ca", "activate", "issuing"}, share("alice")...), share("carol")...), share("dave")...)...)
	leaf := filepath.Join(tmp, "leaf.pem")
	if r := issue(leaf); r.code != 0 {
		t.Fatalf("issuance after activation: %s", r.stderr)
	}
	chain := filepath.Join(tmp, "chain.pem")
	r := c.ok("ca", "show", "issuing", "--json")
	var info struct{ PEM string }
	json.Unmarshal([]byte(r.stdout), &info)
	rr := c.ok("ca", "show", "root", "--json")
	var root struct{ PEM string }
	json.Unmarshal([]byte(rr.stdout), &root)
	os.WriteFile(chain, []byte(root.PEM), 0o644)
	inter := filepath.Join(tmp, "issuing.pem")
	os.WriteFile(inter, []byte(info.PEM), 0o644)
	out, err := exec.Command("openssl", "verify", "-CAfile", chain, "-untrusted", inter, leaf).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "OK") {
		t.Fatalf("openssl verify: %v\n%s", err, out)
	}
	c.ok("ca", "deactivate", "issuing", "--yes")
	if r := issue(filepath.Join(tmp, "refused3.pem")); r.code == 0 {
		t.Fatal("issued after deactivation")
	}
}
