package main

import (
	"archive/tar"
	"context"
	"io"
	"net"
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
	"github.com/sceau/sceau/internal/continuity"
	"github.com/sceau/sceau/internal/node"
	"github.com/sceau/sceau/internal/sceautest"
)

// backupFixture is an installation whose issuing CA needs 2 of 3 holders,
// with backups to a directory of the "second site" encrypted to its age key.
type backupFixture struct {
	t                   *testing.T
	tmp, dir            string
	pub, adm            string
	c                   cli
	pins, idFile, to    string
	csr                 string
	revokeReason        string
	issued              []string // certificate files, in order
	serials             []string
	revokedSerials      map[string]bool
	holderShare         func(h string) []string
	serveWith           func(args ...string) (stop func())
	originalCRL         []byte
	originalOCSP        map[string]string
	exportDir           string
	restoredConfigFiles []string
}

var exportCaughtUp = regexp.MustCompile(`lag:\s+0 events`)

var backupWritten = regexp.MustCompile(`Backup (sceau-backup-\S+\.age) written`)

func newBackupFixture(t *testing.T) *backupFixture {
	t.Helper()
	f := &backupFixture{t: t, tmp: t.TempDir(), pub: freeAddr(t), adm: freeAddr(t), revokedSerials: map[string]bool{}, originalOCSP: map[string]string{}}
	f.pins = filepath.Join(f.tmp, "pins")
	os.MkdirAll(f.pins, 0o700)
	for _, h := range []string{"alice", "bob", "carol"} {
		os.WriteFile(filepath.Join(f.pins, h+".pin"), []byte("PIN of "+h+"\n"), 0o600)
	}
	id, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	f.idFile = filepath.Join(f.tmp, "second-site.age")
	os.WriteFile(f.idFile, []byte(id.String()+"\n"), 0o600)
	f.to = filepath.Join(f.tmp, "second-site", "backups")
	os.MkdirAll(f.to, 0o700)
	cfgText := strings.Replace(string(node.RenderConfig(node.ConfigValues{Org: "Test", PublicListen: f.pub, AdminListen: f.adm, BaseURL: "http://" + f.pub})),
		"    path_len: 0\n", "    path_len: 0\n    activation:\n      threshold: 2\n      holders: [alice, bob, carol]\n", 1)
	from := filepath.Join(f.tmp, "install.yaml")
	os.WriteFile(from, []byte(cfgText), 0o644)
	f.dir = filepath.Join(f.tmp, "ca")
	(cli{t: t}).ok("init", "--dir", f.dir, "--from", from, "--pins", f.pins)
	f.c = cli{t: t, config: filepath.Join(f.dir, "sceau.yaml")}
	editConfig(t, f.c.config, "  to: \"\"\n", "  to: "+f.to+"\n",
		"  recipients: []\n  # serve makes", "  recipients: [\""+id.Recipient().String()+"\"]\n  # serve makes",
		"    interval: 10s\n", "    interval: 1s\n")
	f.exportDir = filepath.Join(f.dir, "audit-export")
	f.csr = filepath.Join(f.tmp, "req.pem")
	writeCSR(t, f.csr)
	f.holderShare = func(h string) []string {
		return []string{"--share", h + "=" + filepath.Join(f.dir, "shares", "issuing", h+".share"), "--pin-file", h + "=" + filepath.Join(f.pins, h+".pin")}
	}
	return f
}

// serve starts `sceau serve` with args on the installation at config.
func serveArgs(t *testing.T, config, pub string, args ...string) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	logs := &syncBuffer{}
	done := make(chan int, 1)
	go func() { done <- run(ctx, append([]string{"--config", config, "serve"}, args...), logs, logs) }()
	waitHealthy(t, "http://"+pub, done, logs)
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

func (f *backupFixture) activate(c cli) {
	f.t.Helper()
	r := c.ok(append(append([]string{"ca", "activate", "issuing"}, f.holderShare("alice")...), f.holderShare("bob")...)...)
	if !strings.Contains(r.stdout, "is activated") {
		f.t.Fatalf("activation: %s", r.stdout)
	}
}

func (f *backupFixture) issue(c cli) string {
	f.t.Helper()
	out := filepath.Join(f.tmp, "cert"+string(rune('a'+len(f.issued)))+".pem")
	r := c.ok("cert", "issue", "--ca", "issuing", "--profile", "server", "--csr", f.csr, "--out", out)
	f.issued = append(f.issued, out)
	f.serials = append(f.serials, serialLine.FindStringSubmatch(r.stderr)[1])
	return out
}

func (f *backupFixture) revoke(c cli, i int) {
	f.t.Helper()
	c.ok("cert", "revoke", f.serials[i], "--reason", "keyCompromise", "--yes")
	f.revokedSerials[f.serials[i]] = true
}

// getPublic GETs path from the public listener.
func getPublic(t *testing.T, pub, path string) []byte {
	t.Helper()
	resp, err := http.Get("http://" + pub + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s", path, resp.Status)
	}
	return b
}

// ocspAnswer asks the OCSP responder with openssl about cert, and returns
// what it says without the times of the response itself.
func ocspAnswer(t *testing.T, tmp, pub, cert string) string {
	t.Helper()
	chain, root := filepath.Join(tmp, "issuing-ca.pem"), filepath.Join(tmp, "root-ca.pem")
	os.WriteFile(chain, getPublic(t, pub, "/ca/issuing.pem"), 0o644)
	os.WriteFile(root, getPublic(t, pub, "/ca/root.pem"), 0o644)
	o, err := exec.Command("openssl", "ocsp", "-issuer", chain, "-cert", cert, "-url", "http://"+pub+"/ocsp",
		"-CAfile", root, "-verify_other", chain).CombinedOutput()
	if err != nil {
		t.Fatalf("openssl ocsp %s: %v\n%s", cert, err, o)
	}
	var keep []string
	for _, l := range strings.Split(string(o), "\n") {
		if strings.Contains(l, "This Update") || strings.Contains(l, "Next Update") || strings.TrimSpace(l) == "" {
			continue
		}
		keep = append(keep, strings.TrimSpace(strings.ReplaceAll(l, cert, "CERT")))
	}
	return strings.Join(keep, "\n")
}

// crlText is openssl's reading of the issuing CA's CRL, with its DER.
func crlText(t *testing.T, tmp, pub string) (string, []byte) {
	t.Helper()
	der := getPublic(t, pub, "/crl/issuing.crl")
	p := filepath.Join(tmp, "issuing.crl")
	os.WriteFile(p, der, 0o644)
	o, err := exec.Command("openssl", "crl", "-inform", "DER", "-in", p, "-noout", "-text").CombinedOutput()
	if err != nil {
		t.Fatalf("openssl crl: %v\n%s", err, o)
	}
	return string(o), der
}

// waitCRLListing waits until the served CRL lists every revoked serial.
func (f *backupFixture) waitCRLListing() {
	f.t.Helper()
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		text, der := crlText(f.t, f.tmp, f.pub)
		all := true
		for s := range f.revokedSerials {
			if !strings.Contains(strings.ToUpper(strings.ReplaceAll(text, ":", "")), strings.ToUpper(strings.TrimLeft(s, "0"))) {
				all = false
			}
		}
		if all {
			f.originalCRL = der
			return
		}
		if time.Now().After(deadline) {
			f.t.Fatalf("the CRL does not list the revoked certificates:\n%s", text)
		}
	}
}

// waitExported waits until the journal's export holds the database's head.
// waitTSACertified waits for the time-stamping unit's key to be certified,
// which the node does on its own once the issuing CA is active (the first
// archived item asks for a stamp): a backup made before it would count
// that certificate among those issued after it.
func (f *backupFixture) waitTSACertified() {
	f.t.Helper()
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		if r := f.c.ok("audit", "events", "--action", audit.ActionTSASignerCert); strings.Contains(r.stdout, audit.ActionTSASignerCert) {
			return
		}
		if time.Now().After(deadline) {
			f.t.Fatal("the time-stamping unit's key was not certified within 30 s")
		}
	}
}

func (f *backupFixture) waitExported() {
	f.t.Helper()
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		r := f.c.ok("audit", "status")
		cur, err := audit.ReadExportCursor(f.exportDir)
		if err == nil && cur.Seq > 0 && exportCaughtUp.MatchString(r.stdout) {
			return
		}
		if time.Now().After(deadline) {
			f.t.Fatalf("the export did not catch up: cursor %d\n%s", cur.Seq, r.stdout)
		}
	}
}

// noClearKeyIn decrypts a backup and fails if any entry holds a private
// key in clear (CONT-1).
func noClearKeyIn(t *testing.T, path, idFile string) (entries []string) {
	t.Helper()
	b := mustRead(t, idFile)
	ids, err := age.ParseIdentities(strings.NewReader(string(b)))
	if err != nil {
		t.Fatal(err)
	}
	fh, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	r, err := age.Decrypt(fh, ids...)
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(r)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(tr)
		entries = append(entries, h.Name)
		if continuity.ClearPrivateKey(body) || (strings.Contains(string(body), "PRIVATE KEY-----") && !strings.Contains(string(body), "ENCRYPTED PRIVATE KEY")) {
			t.Errorf("the backup's %s holds a private key in clear", h.Name)
		}
	}
	return entries
}

// TestCONT1_RestoreAnswersOCSPAsTheOriginal: an installation issues and
// revokes, is backed up while it serves (backup.created), the backup
// verifies (backup.verified) and holds no private key in clear; it is
// restored into an empty directory (backup.restored), where `serve
// --status-only` answers the CRL byte for byte and OCSP as the original
// did (openssl), with no admin listener; then `serve`, activation with two
// holders' shares, and issuance work as usual (CONT-1).
func TestCONT1_RestoreAnswersOCSPAsTheOriginal(t *testing.T) {
	sceautest.NeedOpenSSL(t)
	f := newBackupFixture(t)
	stop := serveArgs(t, f.c.config, f.pub)
	f.activate(f.c)
	for range 3 {
		f.issue(f.c)
	}
	f.revoke(f.c, 1)
	f.waitCRLListing()
	for _, cert := range f.issued {
		f.originalOCSP[cert] = ocspAnswer(t, f.tmp, f.pub, cert)
	}
	if !strings.Contains(f.originalOCSP[f.issued[1]], ": revoked") || !strings.Contains(f.originalOCSP[f.issued[0]], ": good") {
		t.Fatalf("the original's OCSP answers: %q", f.originalOCSP)
	}
	// The export directory is there once the exporter has run (it is left out of the backup).
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		if cur, err := audit.ReadExportCursor(f.exportDir); err == nil && cur.Seq > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the journal was not exported within 30 s")
		}
	}
	r := f.c.ok("backup", "create")
	m := backupWritten.FindStringSubmatch(r.stdout)
	if m == nil {
		t.Fatalf("backup create: %s", r.stdout)
	}
	for _, left := range []string{"secrets/keystore.secret", "admin/operator-key.pem", "sceau.db-wal", "audit-export"} {
		if !strings.Contains(r.stdout, "left out: "+left) {
			t.Errorf("backup create does not say it left out %s:\n%s", left, r.stdout)
		}
	}
	backup := filepath.Join(f.to, m[1])
	entries := noClearKeyIn(t, backup, f.idFile)
	for _, want := range []string{"db/sceau.db", "data/sceau.yaml", "data/keys/keystore.json", "data/keys/ca-issuing/keystore.json", "manifest.json"} {
		if !strings.Contains(strings.Join(entries, " "), want) {
			t.Errorf("the backup lacks %s: %v", want, entries)
		}
	}
	if r := f.c.ok("backup", "list"); !strings.Contains(r.stdout, m[1]) {
		t.Errorf("backup list:\n%s", r.stdout)
	}
	r = f.c.ok("backup", "verify", backup, "--identity", f.idFile)
	if !strings.Contains(r.stdout, "OK: backup of") || !strings.Contains(r.stdout, "Trial restore: the database opens and migrates") ||
		!strings.Contains(r.stdout, "Recorded backup.verified") {
		t.Errorf("backup verify:\n%s", r.stdout)
	}
	for _, action := range []string{audit.ActionBackupCreated, audit.ActionBackupVerified} {
		if r := f.c.ok("audit", "events", "--action", action); !strings.Contains(r.stdout, m[1]) {
			t.Errorf("no %s event naming the backup:\n%s", action, r.stdout)
		}
	}
	stop()

	// The second site: a clean directory.
	newDir := filepath.Join(f.tmp, "site2", "ca")
	r = (cli{t: t}).ok("backup", "restore", backup, "--dir", newDir, "--identity", f.idFile, "--secrets", f.dir)
	if !strings.Contains(r.stdout, "Restored "+m[1]) {
		t.Errorf("backup restore:\n%s", r.stdout)
	}
	c2 := cli{t: t, config: filepath.Join(newDir, "sceau.yaml")}
	stop2 := serveArgs(t, c2.config, f.pub, "--status-only")
	if conn, err := net.DialTimeout("tcp", f.adm, time.Second); err == nil {
		conn.Close()
		t.Error("serve --status-only listens on the admin address")
	}
	_, der := crlText(t, f.tmp, f.pub)
	if string(der) != string(f.originalCRL) {
		t.Error("the restored site serves another CRL than the original's")
	}
	for _, cert := range f.issued {
		if got := ocspAnswer(t, f.tmp, f.pub, cert); got != f.originalOCSP[cert] {
			t.Errorf("OCSP for %s: restored says\n%s\noriginal said\n%s", cert, got, f.originalOCSP[cert])
		}
	}
	if h := string(getPublic(t, f.pub, "/healthz")); !strings.Contains(h, node.ModeStatusOnly) {
		t.Errorf("/healthz does not say status-only: %s", h)
	}
	stop2()

	// Then the CAs as usual: serve, two holders' shares, issuance.
	serveArgs(t, c2.config, f.pub)
	if r := c2.run("cert", "issue", "--ca", "issuing", "--profile", "server", "--csr", f.csr); r.code == 0 || !strings.Contains(r.stderr, "not activated") {
		t.Fatalf("issuance before activation at the second site: %d %s", r.code, r.stderr)
	}
	f.activate(c2)
	cert := f.issue(c2)
	if got := ocspAnswer(t, f.tmp, f.pub, cert); !strings.Contains(got, ": good") {
		t.Errorf("OCSP for the certificate issued at the second site: %s", got)
	}
	if r := c2.ok("audit", "events", "--action", audit.ActionBackupRestored); !strings.Contains(r.stdout, m[1]) {
		t.Errorf("no backup.restored event:\n%s", r.stdout)
	}
}

// TestCONT1_OlderSnapshotRecoversCertificatesFromTheJournal: a backup is
// made, then more certificates are issued and some revoked, the old one
// included; the journal's export holds them. A restore of that older
// backup reconciled with the export (--journal) recreates them: OCSP says
// good for each issued since, revoked for the revoked ones, never unknown,
// and the restored node starts (its journal extends the export: no
// rollback refusal). Without --journal, the restore says they are unknown.
func TestCONT1_OlderSnapshotRecoversCertificatesFromTheJournal(t *testing.T) {
	sceautest.NeedOpenSSL(t)
	f := newBackupFixture(t)
	stop := serveArgs(t, f.c.config, f.pub)
	f.activate(f.c)
	f.issue(f.c)         // 0: before the backup
	f.waitTSACertified() // its certificate is not among the test's
	r := f.c.ok("backup", "create")
	m := backupWritten.FindStringSubmatch(r.stdout)
	if m == nil {
		t.Fatalf("backup create: %s", r.stdout)
	}
	backup := filepath.Join(f.to, m[1])
	for range 3 {
		f.issue(f.c) // 1..3: after it
	}
	f.revoke(f.c, 0) // issued before, revoked after
	f.revoke(f.c, 2) // issued and revoked after
	f.waitCRLListing()
	for _, cert := range f.issued {
		f.originalOCSP[cert] = ocspAnswer(t, f.tmp, f.pub, cert)
	}
	stop()
	f.waitExported()

	// Without the journal: the restore says what it cannot know.
	plain := filepath.Join(f.tmp, "site2-plain")
	r = (cli{t: t}).ok("backup", "restore", backup, "--dir", plain, "--identity", f.idFile, "--secrets", f.dir)
	if !strings.Contains(r.stdout, "Not reconciled") {
		t.Errorf("a restore without --journal does not warn:\n%s", r.stdout)
	}

	newDir := filepath.Join(f.tmp, "site2", "ca")
	r = (cli{t: t}).ok("backup", "restore", backup, "--dir", newDir, "--identity", f.idFile, "--secrets", f.dir, "--journal", f.exportDir)
	if !strings.Contains(r.stdout, "recovered: 3 issued, 2 revoked") {
		t.Errorf("backup restore --journal:\n%s", r.stdout)
	}
	c2 := cli{t: t, config: filepath.Join(newDir, "sceau.yaml")}
	serveArgs(t, c2.config, f.pub, "--status-only")
	for i, cert := range f.issued {
		got := ocspAnswer(t, f.tmp, f.pub, cert)
		want := ": good"
		if f.revokedSerials[f.serials[i]] {
			want = ": revoked"
		}
		if !strings.Contains(got, want) || !strings.Contains(got, "Response verify OK") {
			t.Errorf("OCSP for certificate %d (%s) after the restore: want %s, got\n%s", i, f.serials[i], want, got)
		}
		if got != f.originalOCSP[cert] {
			t.Errorf("OCSP for certificate %d: restored says\n%s\noriginal said\n%s", i, got, f.originalOCSP[cert])
		}
	}
	if r := c2.ok("audit", "verify"); !strings.Contains(r.stdout, "OK") {
		t.Errorf("audit verify after the restore:\n%s", r.stdout)
	}
}

// TestCONT1_AFullOrMissingTargetIsReported: a backup to a target that is
// not there (an unmounted second site) fails with that reason, creates
// nothing, and is journaled as backup.failed; a restore into a directory
// that is not empty, or with a wrong identity, is refused and leaves the
// directory as it was (CONT-1).
func TestCONT1_AFullOrMissingTargetIsReported(t *testing.T) {
	f := newBackupFixture(t)
	os.RemoveAll(f.to)
	r := f.c.run("backup", "create")
	if r.code == 0 || !strings.Contains(r.stderr, "is the second site mounted") {
		t.Fatalf("backup to a missing target: %d %s", r.code, r.stderr)
	}
	if _, err := os.Stat(f.to); err == nil {
		t.Error("the missing target was created")
	}
	rows := dbRows(t, f.dir, `SELECT details FROM audit_events WHERE action = '`+audit.ActionBackupFailed+`'`)
	if len(rows) != 1 || !strings.Contains(rows[0][0], f.to) {
		t.Errorf("backup.failed events: %v", rows)
	}
	os.MkdirAll(f.to, 0o700)
	r = f.c.ok("backup", "create")
	backup := filepath.Join(f.to, backupWritten.FindStringSubmatch(r.stdout)[1])
	full := filepath.Join(f.tmp, "busy")
	os.MkdirAll(full, 0o700)
	os.WriteFile(filepath.Join(full, "something"), []byte("x"), 0o600)
	if r := (cli{t: t}).run("backup", "restore", backup, "--dir", full, "--identity", f.idFile); r.code == 0 || !strings.Contains(r.stderr, "not empty") {
		t.Errorf("restore into a directory in use: %d %s", r.code, r.stderr)
	}
	other, _ := age.GenerateX25519Identity()
	wrong := filepath.Join(f.tmp, "wrong.age")
	os.WriteFile(wrong, []byte(other.String()+"\n"), 0o600)
	fresh := filepath.Join(f.tmp, "fresh")
	if r := (cli{t: t}).run("backup", "restore", backup, "--dir", fresh, "--identity", wrong); r.code == 0 || !strings.Contains(r.stderr, "none of the identities") {
		t.Errorf("restore with a wrong identity: %d %s", r.code, r.stderr)
	}
	if entries, _ := os.ReadDir(fresh); len(entries) != 0 {
		t.Errorf("a refused restore wrote %d entries", len(entries))
	}
	if r := (cli{t: t}).run("backup", "verify", backup, "--identity", wrong); r.code == 0 {
		t.Error("verify with a wrong identity passed")
	}
}
