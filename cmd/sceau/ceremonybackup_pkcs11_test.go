//go:build cgo

package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sceau/sceau/internal/ceremony"
	"github.com/sceau/sceau/internal/keys"
	"github.com/sceau/sceau/internal/sceautest"
)

// KEY-4, KEY-8 with a PKCS#11 token (SoftHSM2) and allow_backup: the
// ceremony generates the issuing CA's key in the token, and the token
// wraps it with CKM_AES_KEY_WRAP_PAD for the backup the script declares;
// the transcript and the registry record that mechanism.
func TestKEY4_CeremonyBacksUpATokenKey(t *testing.T) {
	module, token, initialPIN := sceautest.SoftHSM(t)
	f := newCeremonyFixture(t)
	tokenPins := filepath.Join(f.dir, "token-pins")
	os.MkdirAll(tokenPins, 0o700)
	os.WriteFile(filepath.Join(tokenPins, token+".pin"), []byte(initialPIN), 0o600)
	cfg := string(must(os.ReadFile(f.config)))
	cfg = strings.Replace(cfg, "  secret_file: secrets/keystore.secret\n",
		"  secret_file: secrets/keystore.secret\n  pkcs11:\n    module: "+module+"\n    allow_backup: true\n", 1)
	cfg = strings.Replace(cfg, "    activation:\n      threshold: 3\n", "    token: "+token+"\n    activation:\n      threshold: 3\n", 1)
	os.WriteFile(f.config, []byte(cfg), 0o644)
	script := scriptText("sceau.yaml", "ca", []string{"root", "issuing"}, ceremonyHolders)
	script = strings.Replace(script, "outputs: out\n", "backups:\n  - ca: issuing\n    holders: [dave, erin]\n    threshold: 2\n    approvers: [martin, olivier]\noutputs: out\n", 1)
	os.WriteFile(f.script, []byte(script), 0o644)
	r := (cli{t: t}).run("ceremony", "run", f.script, "--pins", f.pins, "--confirm-file", confirmations(t, f.script, nil), "--token-pins", tokenPins)
	if r.code != 0 {
		t.Fatalf("ceremony: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	tr := readTranscript(t, f.outputs)
	if tr.Status != ceremony.StatusCompleted || len(tr.Backups) != 1 || tr.Backups[0].Mechanism != keys.MechAESKeyWrapPad {
		t.Fatalf("status %s, backups %+v", tr.Status, tr.Backups)
	}
	install := filepath.Join(f.dir, "ca")
	rows := dbRows(t, install, `SELECT id, mechanism, approval_id, created_by FROM key_backups`)
	if len(rows) != 1 || rows[0][1] != keys.MechAESKeyWrapPad || rows[0][2] != "ceremony:"+tr.ID+"/issuing" || rows[0][3] != "sophie" {
		t.Fatalf("key_backups: %v", rows)
	}
	bk, _, err := keys.ReadBackupFile(tr.Backups[0].File)
	if err != nil || bk.CA != "issuing" || len(bk.KeyID) == 0 {
		t.Fatalf("backup file: %+v %v", bk, err)
	}
}
