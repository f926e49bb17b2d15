//go:build cgo

package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sceau/sceau/internal/node"
	"github.com/sceau/sceau/internal/sceautest"
)

// END-1 on PostgreSQL with the issuing CA's key in a PKCS#11 token
// (SoftHSM2) under 2-of-3 activation: the same termination as on SQLite,
// the key destroyed in the device (key.destroyed; the device itself is
// tested in internal/keys TestKEY6_PKCS11DestroyedKeyCannotSign).
func TestEND1_TerminationOnPostgresWithTheKeyInSoftHSM(t *testing.T) {
	sceautest.NeedOpenSSL(t)
	dsn := sceautest.PostgresSchema(t)
	module, token, initialPIN := sceautest.SoftHSM(t)
	tmp := t.TempDir()
	dsnFile := filepath.Join(tmp, "postgres.dsn")
	tokenPins, pins := filepath.Join(tmp, "token-pins"), filepath.Join(tmp, "pins")
	write := func(path, content string) {
		t.Helper()
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write(dsnFile, dsn+"\n")
	write(filepath.Join(tokenPins, token+".pin"), initialPIN)
	for _, h := range []string{"alice", "bob", "carol"} {
		write(filepath.Join(pins, h+".pin"), "pin-of-"+h+"-1234")
	}
	pub, adm := freeAddr(t), freeAddr(t)
	cfg := string(node.RenderConfig(node.ConfigValues{Org: "Sceau", PublicListen: pub, AdminListen: adm, BaseURL: "http://" + pub}))
	for _, r := range [][2]string{
		{"  engine: sqlite\n", "  engine: postgres\n"},
		{"  # dsn_file: secrets/postgres.dsn\n", "  dsn_file: " + dsnFile + "\n"},
		{"  secret_file: secrets/keystore.secret\n", "  secret_file: secrets/keystore.secret\n  pkcs11:\n    module: " + module + "\n"},
		{"    path_len: 0\n", "    path_len: 0\n    token: " + token + "\n    activation:\n      threshold: 2\n      holders: [alice, bob, carol]\n"},
	} {
		if !strings.Contains(cfg, r[0]) {
			t.Fatalf("the template lacks %q", r[0])
		}
		cfg = strings.Replace(cfg, r[0], r[1], 1)
	}
	from := filepath.Join(tmp, "from.yaml")
	write(from, cfg)
	dir := filepath.Join(tmp, "ca")
	r := (cli{t: t}).ok("init", "--from", from, "--dir", dir, "--pins", pins, "--token-pins", tokenPins,
		"--security-officer", "so1", "--security-officer", "so2", "--security-officer", "so3")
	creds := printedCredentials(r.stdout)
	c := cli{t: t, config: filepath.Join(dir, "sceau.yaml")}
	startServe(t, c.config, pub)
	shares := node.LayoutOf(mustConfig(t, c.config)).SharesDir("issuing")
	c.ok("ca", "activate", "issuing", "--share", "alice="+filepath.Join(shares, "alice.share"), "--pin-file", "alice="+filepath.Join(pins, "alice.pin"),
		"--share", "bob="+filepath.Join(shares, "bob.share"), "--pin-file", "bob="+filepath.Join(pins, "bob.pin"))
	terminateIssuing(t, tmp, pub, c, creds)
}
