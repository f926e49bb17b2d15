package main

import (
	"crypto/x509"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/sceau/sceau/internal/ceremony"
	"github.com/sceau/sceau/internal/quorum"
)

// backupScript is a ceremony on the existing installation of config that
// creates CA ops and backs up its key 2 of 3 among alice, bob and carol,
// approved by the witness and a second security officer.
func backupScript(config string) string {
	return `name: Creation of the ops CA with a backup of its key
purpose: Create the ops CA under the root and back up its key 2 of 3.
location: Test site, room 1
date: 2026-03-14
configuration: ` + config + `
participants:
  - name: security-officer
    role: security-officer
    full_name: Sophie Durand
  - name: so2
    role: security-officer
    full_name: Samuel Odin
  - name: martin
    role: witness
    full_name: Jeanne Martin
  - name: alice
    role: key-share-holder
    full_name: Alice Holder
  - name: bob
    role: key-share-holder
    full_name: Bob Holder
  - name: carol
    role: key-share-holder
    full_name: Carol Holder
cas: [ops]
backups:
  - ca: ops
    holders: [alice, bob, carol]
    threshold: 2
    approvers: [martin, so2]
outputs: out
`
}

// opsCA declares CA ops under the root, its key in the service keystore.
const opsCA = `  - id: ops
    parent: root
    subject:
      common_name: Ops CA
      organization: Demo
      country: FR
    key_type: ecdsa-p256
    validity: 2y
    path_len: 0
`

// A ceremony on an existing installation creates CA ops and backs up its
// new key there and then (KEY-4, KEY-8): the backup's approvers confirm in
// the room (ROLE-3), its holders choose their PINs; the backup file and the
// share files are where 'sceau ca backup' writes them; the transcript
// records the backup (ID, mechanism, SHA-256, holders, threshold,
// approvers) and no PIN; 'sceau ca backups' lists it with the ceremony as
// approval. After the key file is lost, an approved import with two of the
// three shares restores it, and after a restart the restored key signs a
// CRL that verifies under the CA's certificate.
func TestKEY4_CeremonyBacksUpTheNewKey(t *testing.T) {
	tmp, pub, c, creds := demoPeople(t, func(cfg string) string {
		return strings.Replace(cfg, "  - id: issuing\n", opsCA+"  - id: issuing\n", 1)
	})
	dir := filepath.Dir(c.config)
	pins := filepath.Join(tmp, "pins")
	os.MkdirAll(pins, 0o700)
	for _, h := range []string{"alice", "bob", "carol"} {
		os.WriteFile(filepath.Join(pins, h+".pin"), []byte("backup PIN of "+h+"\n"), 0o600)
	}
	script := filepath.Join(tmp, "ceremony.yaml")
	os.WriteFile(script, []byte(backupScript(c.config)), 0o644)

	plan := (cli{t: t}).ok("ceremony", "plan", script)
	for _, want := range []string{"approve the backup of the key of CA ops, its wrapping key split 2 of 3 among alice, bob, carol",
		"back up the key of CA ops 2 of 3: take share 3 of the wrapping key", "receive the share file of the backup of ops"} {
		if !strings.Contains(plan.stdout, want) {
			t.Errorf("plan lacks %q:\n%s", want, plan.stdout)
		}
	}
	r := (cli{t: t}).ok("ceremony", "run", script, "--pins", pins, "--confirm-file", confirmations(t, script, nil))
	out := filepath.Join(tmp, "out")
	tr := readTranscript(t, out)
	if tr.Status != ceremony.StatusCompleted || len(tr.Backups) != 1 {
		t.Fatalf("status %s, backups %+v\n%s", tr.Status, tr.Backups, r.stdout)
	}
	b := tr.Backups[0]
	location := filepath.Join(dir, "backups", "backup-ops-1.backup")
	if b.ID != "backup-ops-1" || b.CA != "ops" || b.Mechanism != "AES-256-GCM" || b.File != location || b.SHA256 != sha256File(t, location) ||
		b.Threshold != 2 || !slices.Equal(b.Holders, []string{"alice", "bob", "carol"}) || !slices.Equal(b.Approvers, []string{"martin", "so2"}) ||
		b.Approval != "ceremony:"+tr.ID+"/ops" {
		t.Fatalf("the transcript's backup: %+v", b)
	}
	for _, s := range b.Shares {
		if want := filepath.Join(dir, "shares", "backup-ops-1", s.Holder+".share"); s.File != want || s.SHA256 != sha256File(t, want) {
			t.Errorf("share %+v, want %s", s, want)
		}
	}
	text := r.stdout + string(must(os.ReadFile(filepath.Join(out, "transcript.json")))) + string(must(os.ReadFile(filepath.Join(out, "transcript.txt"))))
	if strings.Contains(text, "backup PIN of") {
		t.Fatal("a PIN reached the screen or the transcript")
	}
	for _, s := range tr.Steps {
		if s.Kind == ceremony.StepApproveBackup && (s.Answer != "yes" || (s.Participant != "martin" && s.Participant != "so2")) {
			t.Errorf("approval step: %+v", s)
		}
	}
	if _, _, err := ceremony.VerifyFiles(filepath.Join(out, "transcript.json"), filepath.Join(out, "transcript.sig"), []string{tr.Signer.Fingerprint}); err != nil {
		t.Fatal(err)
	}
	// KEY-8: the backup is journalled in the name of the security officer
	// who conducted; the approval is the ceremony's.
	rows := dbRows(t, dir, `SELECT actor, role, details FROM audit_events WHERE action = 'key.backup_created'`)
	if len(rows) != 1 || rows[0][0] != "security-officer" || rows[0][1] != "security-officer" || !strings.Contains(rows[0][2], "ceremony:"+tr.ID+"/ops") {
		t.Fatalf("key.backup_created: %v", rows)
	}

	original := must(os.ReadFile(filepath.Join(dir, "keys", "ca-ops.key")))
	stop := startServe(t, c.config, pub)
	sys := demoAt(t, c, tmp, creds, "sysadmin")
	so2 := demoAt(t, c, tmp, creds, "so2")
	alice := demoAt(t, c, tmp, creds, "alice")
	var recs []quorum.BackupRecord
	if err := json.Unmarshal([]byte(sys.ok("ca", "backups", "ops", "--json").stdout), &recs); err != nil || len(recs) != 1 {
		t.Fatalf("ca backups --json: %v %+v", err, recs)
	}
	rec := recs[0]
	if rec.ID != b.ID || rec.Approval != b.Approval || rec.CreatedBy != "security-officer" || !slices.Equal(rec.Approvers, []string{"martin", "so2"}) ||
		rec.Threshold != 2 || rec.Location != location || rec.Status != quorum.BackupActive {
		t.Fatalf("registered backup: %+v", rec)
	}
	if r := sys.ok("ca", "backups", "ops"); !strings.Contains(r.stdout, "backup-ops-1") || !strings.Contains(r.stdout, "2 of alice,bob,carol") {
		t.Fatalf("ca backups:\n%s", r.stdout)
	}

	// The key file is lost; an approved import with two shares restores it.
	if err := os.Remove(filepath.Join(dir, "keys", "ca-ops.key")); err != nil {
		t.Fatal(err)
	}
	imp := requestID.FindStringSubmatch(sys.ok("ca", "import", "ops", "--backup", rec.ID, "--yes").stdout)[1]
	so2.ok("approval", "approve", imp, "--yes")
	alice.ok("approval", "approve", imp, "--yes")
	shares := filepath.Join(dir, "shares", rec.ID)
	sys.ok("ca", "import", "ops", "--approval", imp,
		"--share", "bob="+filepath.Join(shares, "bob.share"), "--pin-file", "bob="+filepath.Join(pins, "bob.pin"),
		"--share", "carol="+filepath.Join(shares, "carol.share"), "--pin-file", "carol="+filepath.Join(pins, "carol.pin"))
	restored, err := os.ReadFile(filepath.Join(dir, "keys", "ca-ops.key"))
	if err != nil {
		t.Fatalf("the import did not restore the key file: %v", err)
	}
	if string(restored) == string(original) {
		t.Error("the restored key file is byte for byte the lost one: it was not sealed anew")
	}
	stop()

	// Restarted, the service loads the restored key, which signs a CRL
	// that verifies under the CA's certificate.
	startServe(t, c.config, pub)
	demoAt(t, c, tmp, creds, "registrar").ok("ca", "crl", "ops")
	cert := readCertPEM(t, filepath.Join(out, "ops.pem"))
	rows = dbRows(t, dir, `SELECT der FROM crls WHERE ca_id = 'ops' AND shard = 0 ORDER BY number DESC LIMIT 1`)
	crl, err := x509.ParseRevocationList([]byte(rows[0][0]))
	if err != nil {
		t.Fatal(err)
	}
	if crl.Number.Int64() < 2 {
		t.Errorf("CRL number %v: none was issued after the restore", crl.Number)
	}
	if err := crl.CheckSignatureFrom(cert); err != nil {
		t.Fatalf("the CRL signed by the restored key does not verify: %v", err)
	}
}

// KEY-4, KEY-8: a ceremony refused after the backup was made leaves no
// backup behind: no file, no share file, no registration, no split; the
// journal says it was discarded and the transcript what was undone. The
// installation is new, so the backup was made while the issuing CA's key,
// under a 3-of-5 policy, was still activated from its creation.
func TestKEY4_CeremonyAbortedAfterTheBackupDiscardsIt(t *testing.T) {
	f := newCeremonyFixture(t)
	script := scriptText("sceau.yaml", "ca", []string{"root", "issuing"}, ceremonyHolders)
	script = strings.Replace(script, "outputs: out\n", "backups:\n  - ca: issuing\n    holders: [alice, bob, carol]\n    threshold: 2\n    approvers: [martin, olivier]\noutputs: out\n", 1)
	os.WriteFile(f.script, []byte(script), 0o644)
	refused := false
	confirm := confirmations(t, f.script, func(l string) string {
		if !refused && strings.Contains(l, "receive the share file of the backup of issuing") {
			refused = true
			return strings.Replace(l, " yes", " no the share file is damaged", 1)
		}
		return l
	})
	r := (cli{t: t}).run("ceremony", "run", f.script, "--pins", f.pins, "--confirm-file", confirm)
	if r.code == 0 || !refused {
		t.Fatalf("the ceremony completed (refusal written: %v):\n%s", refused, r.stdout)
	}
	install := filepath.Join(f.dir, "ca")
	tr := readTranscript(t, f.outputs)
	if tr.Status != ceremony.StatusAborted || len(tr.Backups) != 1 || tr.Backups[0].Mechanism != "AES-256-GCM" {
		t.Fatalf("status %s, backups %+v", tr.Status, tr.Backups)
	}
	if !strings.Contains(strings.Join(tr.Abort.Remains, "\n"), "backup backup-issuing-1 of CA issuing was undone") {
		t.Errorf("remains: %v", tr.Abort.Remains)
	}
	for _, p := range []string{tr.Backups[0].File, filepath.Join(install, "shares", "backup-issuing-1")} {
		if _, err := os.Stat(p); !os.IsNotExist(err) {
			t.Errorf("%s remains: %v", p, err)
		}
	}
	if rows := dbRows(t, install, `SELECT COUNT(*) FROM key_backups`); rows[0][0] != "0" {
		t.Errorf("registered backups: %v", rows)
	}
	if rows := dbRows(t, install, `SELECT COUNT(*) FROM key_splits WHERE key_id = 'backup-issuing-1'`); rows[0][0] != "0" {
		t.Errorf("the wrapping key's split remains: %v", rows)
	}
	rows := dbRows(t, install, `SELECT action, actor FROM audit_events WHERE action IN ('key.backup_created', 'key.split_discarded', 'key.backup_discarded') ORDER BY seq`)
	var got []string
	for _, row := range rows {
		got = append(got, row[0]+"/"+row[1])
	}
	if strings.Join(got, " ") != "key.backup_created/sophie key.split_discarded/sophie key.backup_discarded/sophie" {
		t.Errorf("journal: %v", got)
	}
	// The CA itself exists: only the backup was undone.
	if rows := dbRows(t, install, `SELECT COUNT(*) FROM cas`); rows[0][0] != "2" {
		t.Errorf("CAs: %v", rows)
	}
}

// KEY-4: a CA whose key a token generates not extractable cannot be backed
// up: the script is refused before anything is created.
func TestKEY4_CeremonyRefusesABackupFromATokenWithoutAllowBackup(t *testing.T) {
	f := newCeremonyFixture(t)
	cfg := string(must(os.ReadFile(f.config)))
	cfg = strings.Replace(cfg, "  secret_file: secrets/keystore.secret\n",
		"  secret_file: secrets/keystore.secret\n  pkcs11:\n    module: /usr/lib/softhsm/libsofthsm2.so\n", 1)
	cfg = strings.Replace(cfg, "    activation:\n      threshold: 3\n", "    token: issuing-token\n    activation:\n      threshold: 3\n", 1)
	os.WriteFile(f.config, []byte(cfg), 0o644)
	script := scriptText("sceau.yaml", "ca", []string{"root", "issuing"}, ceremonyHolders)
	script = strings.Replace(script, "outputs: out\n", "backups:\n  - ca: issuing\n    holders: [alice, bob]\n    threshold: 2\n    approvers: [martin, olivier]\noutputs: out\n", 1)
	os.WriteFile(f.script, []byte(script), 0o644)
	r := (cli{t: t}).run("ceremony", "plan", f.script)
	if r.code == 0 || !strings.Contains(r.stderr, `generated in token "issuing-token" not extractable`) || !strings.Contains(r.stderr, "keystore.pkcs11.allow_backup: true") {
		t.Fatalf("plan: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	os.WriteFile(f.config, []byte(strings.Replace(cfg, "libsofthsm2.so\n", "libsofthsm2.so\n    allow_backup: true\n", 1)), 0o644)
	if r := (cli{t: t}).run("ceremony", "plan", f.script); strings.Contains(r.stderr, "not extractable") {
		t.Fatalf("with allow_backup: %s", r.stderr)
	}
}
