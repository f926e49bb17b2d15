//go:build cgo

package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sceau/sceau/internal/sceautest"
)

// A ceremony creates a root and an issuing CA whose key is generated in a
// PKCS#11 token (SoftHSM2) and whose activation secret is split 3 of 5:
// alice and bob receive their shares on smart cards of their own, the
// others in share files. After a restart the CA signs nothing; a wrong card
// PIN is refused by the card (not counted by Sceau) and journalled; two
// holders are not enough; three (two cards and a file) activate it; the
// certificate it then issues verifies with openssl; deactivated, it
// refuses again (KEY-1, KEY-2, KEY-5, KEY-8).
func TestKEY2_CeremonyWithSmartCardsThenActivateFromCards(t *testing.T) {
	sceautest.NeedOpenSSL(t)
	module, token, initialPIN := sceautest.SoftHSM(t)
	f := newCeremonyFixture(t)
	cardPINs := map[string]string{}
	for _, h := range []string{"alice", "bob"} {
		cardPINs[h] = sceautest.SoftHSMExtraToken(t, h+"-card")
		// --pins gives the card's own PIN for a holder with a card.
		os.WriteFile(filepath.Join(f.pins, h+".pin"), []byte(cardPINs[h]+"\n"), 0o600)
	}
	tokenPins := filepath.Join(f.dir, "token-pins")
	os.MkdirAll(tokenPins, 0o700)
	os.WriteFile(filepath.Join(tokenPins, token+".pin"), []byte(initialPIN), 0o600)
	cfgText, _ := os.ReadFile(f.config)
	cfg := strings.Replace(string(cfgText), "  secret_file: secrets/keystore.secret\n",
		"  secret_file: secrets/keystore.secret\n  pkcs11:\n    module: "+module+"\n", 1)
	cfg = strings.Replace(cfg, "    activation:\n      threshold: 3\n", "    token: "+token+"\n    activation:\n      threshold: 3\n", 1)
	os.WriteFile(f.config, []byte(cfg), 0o644)
	script := scriptText("sceau.yaml", "ca", []string{"root", "issuing"}, ceremonyHolders)
	for _, h := range []string{"alice", "bob"} {
		holder := "  - name: " + h + "\n    role: key-share-holder\n    full_name: " + strings.ToUpper(h[:1]) + h[1:] + " Holder\n"
		script = strings.Replace(script, holder, holder+"    card:\n      token: "+h+"-card\n", 1)
	}
	os.WriteFile(f.script, []byte(script), 0o644)
	run := (cli{t: t}).run("ceremony", "run", f.script, "--pins", f.pins, "--confirm-file", confirmations(t, f.script, nil), "--token-pins", tokenPins)
	if run.code != 0 {
		t.Fatalf("ceremony: exit %d\n%s\n%s", run.code, run.stdout, run.stderr)
	}
	install := filepath.Join(f.dir, "ca")

	// The transcript says where each share went; no share file for a card.
	tr := readTranscript(t, f.outputs)
	sp := tr.CAs[1].Split
	if sp == nil || sp.Shares[0].Card != `card "alice-card"` || sp.Shares[0].File != "" || sp.Shares[2].File == "" {
		t.Fatalf("shares in the transcript: %+v", sp)
	}
	if _, err := os.Stat(filepath.Join(install, "shares", "issuing", "alice.share")); !os.IsNotExist(err) {
		t.Error("a share file was written for a holder with a card")
	}
	if rows := dbRows(t, install, `SELECT holder, carrier FROM key_shares ORDER BY x`); len(rows) != 5 || rows[0][1] != "card" || rows[1][1] != "card" || rows[2][1] != "file" {
		t.Errorf("carriers: %v", rows)
	}
	text := run.stdout + string(must(os.ReadFile(filepath.Join(f.outputs, "transcript.txt"))))
	for _, pin := range cardPINs {
		if strings.Contains(text, pin) {
			t.Fatal("a card PIN reached the screen or the transcript")
		}
	}
	// The first people's initial credentials are in a file of their own,
	// not on the room's screen.
	credPath := filepath.Join(install, "initial-credentials.txt")
	fi, err := os.Stat(credPath)
	if err != nil || fi.Mode().Perm() != 0o600 || fi.Size() == 0 {
		t.Fatalf("initial credentials: %v %v", fi, err)
	}
	for _, l := range strings.Split(string(must(os.ReadFile(credPath))), "\n") {
		if l = strings.TrimSpace(l); len(l) > 24 && strings.Contains(run.stdout, l) {
			t.Errorf("the ceremony's screen shows a line of the credentials: %q", l)
		}
	}
	// KEY-8: what the ceremony created is in the security officer's name.
	if rows := dbRows(t, install, `SELECT actor FROM audit_events WHERE action IN ('key.split_registered', 'ca.created') ORDER BY seq`); len(rows) == 0 || rows[0][0] != "sophie" {
		t.Errorf("split and CAs recorded as %v, want sophie", rows)
	}

	c := cli{t: t, config: filepath.Join(install, "sceau.yaml")}
	pins := filepath.Join(f.dir, "pins")
	os.WriteFile(filepath.Join(pins, "bad.pin"), []byte("0000000000000000"), 0o600)
	card := func(h string) []string {
		return []string{"--card", h + "=" + h + "-card", "--pin-file", h + "=" + filepath.Join(pins, h+".pin")}
	}
	file := func(h string) []string {
		return []string{"--share", h + "=" + filepath.Join(install, "shares", "issuing", h+".share"), "--pin-file", h + "=" + filepath.Join(pins, h+".pin")}
	}
	activate := func(args ...[]string) result {
		all := []string{"ca", "activate", "issuing"}
		for _, a := range args {
			all = append(all, a...)
		}
		return c.run(all...)
	}
	csr := filepath.Join(f.dir, "req.pem")
	writeCSR(t, csr)
	issue := func(out string) result {
		return c.run("cert", "issue", "--ca", "issuing", "--profile", "server", "--csr", csr, "--out", out)
	}

	startServe(t, c.config, addrOf(t, cfg, "public"))
	if r := issue(filepath.Join(f.dir, "refused.pem")); r.code == 0 || !strings.Contains(r.stderr, "not activated") {
		t.Fatalf("issuance before activation: exit %d %s", r.code, r.stderr)
	}
	// A wrong card PIN: the card refuses it; Sceau journals, does not count.
	r := c.run("ca", "activate", "issuing", "--card", "alice=alice-card", "--pin-file", "alice="+filepath.Join(pins, "bad.pin"))
	if r.code == 0 || !strings.Contains(r.stderr, `card "alice-card" refused the PIN`) || strings.Contains(r.stderr, "0000000000000000") {
		t.Fatalf("wrong card PIN: exit %d %s", r.code, r.stderr)
	}
	if rows := dbRows(t, install, `SELECT failures FROM key_shares WHERE holder = 'alice'`); rows[0][0] != "0" {
		t.Errorf("Sceau counted the card's wrong PIN: %v", rows)
	}
	if rows := dbRows(t, install, `SELECT details FROM audit_events WHERE action = 'key.share_refused'`); len(rows) != 1 || !strings.Contains(rows[0][0], "wrong PIN") {
		t.Errorf("refusal events: %v", rows)
	}
	// Two holders, a card and a file: not enough.
	if r := activate(card("alice"), file("carol")); r.code != 0 || !strings.Contains(r.stdout, "1 more needed") {
		t.Fatalf("two holders: exit %d %s %s", r.code, r.stdout, r.stderr)
	}
	if r := issue(filepath.Join(f.dir, "refused2.pem")); r.code == 0 {
		t.Fatal("two holders activated the CA")
	}
	// Three: two cards and a file.
	if r := activate(card("bob"), file("dave"), card("alice")); r.code != 0 || !strings.Contains(r.stdout, "is activated") {
		t.Fatalf("three holders: exit %d %s %s", r.code, r.stdout, r.stderr)
	}
	leaf := filepath.Join(f.dir, "leaf.pem")
	if r := issue(leaf); r.code != 0 {
		t.Fatalf("issuance after activation: %s", r.stderr)
	}
	var root, inter struct{ PEM string }
	json.Unmarshal([]byte(c.ok("ca", "show", "root", "--json").stdout), &root)
	json.Unmarshal([]byte(c.ok("ca", "show", "issuing", "--json").stdout), &inter)
	os.WriteFile(filepath.Join(f.dir, "root.pem"), []byte(root.PEM), 0o644)
	os.WriteFile(filepath.Join(f.dir, "issuing.pem"), []byte(inter.PEM), 0o644)
	out, err := exec.Command("openssl", "verify", "-CAfile", filepath.Join(f.dir, "root.pem"), "-untrusted", filepath.Join(f.dir, "issuing.pem"), leaf).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "OK") {
		t.Fatalf("openssl verify: %v\n%s", err, out)
	}
	c.ok("ca", "deactivate", "issuing", "--yes")
	if r := issue(filepath.Join(f.dir, "refused3.pem")); r.code == 0 {
		t.Fatal("issued after deactivation")
	}
}

// addrOf finds a listener address in a configuration's text.
func addrOf(t *testing.T, cfg, section string) string {
	t.Helper()
	i := strings.Index(cfg, "\n"+section+":")
	if i < 0 {
		t.Fatalf("no %s section", section)
	}
	rest := cfg[i:]
	j := strings.Index(rest, "listen: ")
	if j < 0 {
		t.Fatalf("no %s.listen", section)
	}
	line := rest[j+len("listen: "):]
	return strings.Trim(strings.TrimSpace(line[:strings.Index(line, "\n")]), `"`)
}
