package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/sceau/sceau/internal/audit"
	"github.com/sceau/sceau/internal/keys"
	"github.com/sceau/sceau/internal/sceautest"
	"github.com/sceau/sceau/internal/store"
)

// newTCPCollector is a syslog collector on 127.0.0.1 (RFC 6587 octet counting).
func newTCPCollector(t *testing.T) (string, *sceautest.SyslogCollector) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return ln.Addr().String(), sceautest.CollectSyslog(t, ln)
}

func editConfig(t *testing.T, path string, pairs ...string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	for i := 0; i < len(pairs); i += 2 {
		if !strings.Contains(s, pairs[i]) {
			t.Fatalf("%s does not contain %q", path, pairs[i])
		}
		s = strings.Replace(s, pairs[i], pairs[i+1], 1)
	}
	if err := os.WriteFile(path, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestAUD2_OperatorVerifiesTheJournalFromTheCommandLine drives the journal
// as an operator and an auditor would: init, enter a physical access,
// serve with syslog collection and export, change the configuration and
// serve again, then verify the installation, a tampered copy, and a
// database rolled back to an older copy (AUD-1, AUD-2, AUD-5, SYS-3).
func TestAUD2_OperatorVerifiesTheJournalFromTheCommandLine(t *testing.T) {
	tmp := t.TempDir()
	dir := filepath.Join(tmp, "ca")
	pub, adm := freeAddr(t), freeAddr(t)
	c := cli{t: t}
	c.ok("init", "--dir", dir, "--public", pub, "--admin", adm)
	c.config = filepath.Join(dir, "sceau.yaml")
	collector, msgs := newTCPCollector(t)
	editConfig(t, c.config, `address: ""`, `address: "`+collector+`"`, "network: udp", "network: tcp")

	// An event outside the software: shown first, recorded with --yes.
	rec := []string{"audit", "record", "physical-access", "--operator", "sam", "--role", "security-officer",
		"--who", "Jean Dupont (HSM vendor)", "--where", "vault-1", "--escorted-by", "sam", "--purpose", "HSM battery"}
	r := c.ok(rec...)
	if !strings.Contains(r.stdout, "Would record physical_access.recorded on site:vault-1") || !strings.Contains(r.stdout, "--yes") {
		t.Errorf("record without --yes:\n%s", r.stdout)
	}
	r = c.ok(append(rec, "--yes")...)
	if !regexp.MustCompile(`Recorded event \d+: physical_access.recorded on site:vault-1 by sam \(security-officer\)`).MatchString(r.stdout) {
		t.Errorf("record --yes:\n%s", r.stdout)
	}
	if r := c.run("audit", "record", "maintenance", "--who", "x", "--system", "y", "--description", "z", "--yes"); r.code != 2 ||
		!strings.Contains(r.stderr, "operator") {
		t.Errorf("record without --operator: exit %d, %s", r.code, r.stderr)
	}

	stop := startServe(t, c.config, pub)
	deadline := time.Now().Add(20 * time.Second)
	for !strings.Contains(msgs.String(), "service.started") && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	stop()
	if m := msgs.String(); !regexp.MustCompile(`<\d+>1 \S+ \S+ sceau \d+ service.started \[sceau@32473 seq="\d+"`).MatchString(m) {
		t.Errorf("the collector did not get service.started in RFC 5424:\n%.2000s", m)
	}
	snapshot := filepath.Join(tmp, "snapshot.db")
	copyDB(t, filepath.Join(dir, "sceau.db"), snapshot)

	// A configuration change, recorded at the next start with old and new values.
	editConfig(t, c.config, "batch_max: 128", "batch_max: 64", "every: 1000", "every: 500")
	stop = startServe(t, c.config, pub)
	stop()
	r = c.ok("audit", "events", "--action", "config.changed", "--limit", "10")
	if !strings.Contains(r.stdout, `{"key":"issuance.batch_max","old":"128","new":"64"}`) {
		t.Errorf("config.changed events do not show the batch_max change:\n%s", r.stdout)
	}
	r = c.ok("audit", "events", "--action", "audit.config_changed", "--limit", "10")
	if !strings.Contains(r.stdout, `{"key":"audit.checkpoint.every","old":"1000","new":"500"}`) {
		t.Errorf("audit.config_changed events do not show the checkpoint change:\n%s", r.stdout)
	}

	// The installation verifies, against its export.
	r = c.ok("audit", "verify")
	for _, want := range []string{"Export " + filepath.Join(dir, "audit-export"), "Database " + filepath.Join(dir, "sceau.db"),
		"no rollback", "OK: the journal is whole."} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("audit verify lacks %q:\n%s", want, r.stdout)
		}
	}
	r = c.ok("audit", "status", "--key-out", filepath.Join(tmp, "audit-key.pem"))
	for _, want := range []string{"Checkpoint:   #", "(final)", "unsigned:   0 events", "lag:        0 events", "Signing key:  "} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("audit status lacks %q:\n%s", want, r.stdout)
		}
	}
	r = c.ok("audit", "verify", "--no-export", "--key", filepath.Join(tmp, "audit-key.pem"))
	if strings.Contains(r.stdout, "warning") {
		t.Errorf("a pinned key still warns:\n%s", r.stdout)
	}
	if r := c.run("audit", "verify", "--no-export", "--key-id", strings.Repeat("ab", 32)); r.code != 1 || !strings.Contains(r.stdout, "not trusted") {
		t.Errorf("verify with another key pinned: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	c.ok("audit", "alerts")
	r = c.ok("audit", "events", "--limit", "1000")
	for _, a := range []string{audit.ActionKeyRegistered, audit.ActionPhysicalAccess, audit.ActionLoggingStarted, audit.ActionServiceStarted,
		audit.ActionServiceStopped, audit.ActionLoggingStopped, audit.ActionConfigChanged, audit.ActionLoggingConfigChanged,
		audit.ActionKeystoreActivated, audit.ActionCACreated, audit.ActionCRLIssued, audit.ActionAdminPKICreated} {
		if !strings.Contains(r.stdout, " "+a+" ") {
			t.Errorf("the journal has no %s event", a)
		}
	}

	// A tampered copy: one event edited in place.
	tampered := filepath.Join(tmp, "tampered.db")
	copyDB(t, filepath.Join(dir, "sceau.db"), tampered)
	tamper(t, tampered, `UPDATE audit_events SET details = '{"who":"nobody"}' WHERE action = 'physical_access.recorded'`)
	r = c.run("audit", "verify", "--db", tampered, "--export", filepath.Join(dir, "audit-export"))
	if r.code != 1 || !strings.Contains(r.stdout, "BROKEN at event") || !strings.Contains(r.stderr, "the database is broken") {
		t.Errorf("verify of a tampered copy: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	// The database rolled back to the copy taken after the first run.
	r = c.run("audit", "verify", "--db", snapshot, "--export", filepath.Join(dir, "audit-export"))
	if r.code != 1 || !strings.Contains(r.stdout, "rolled back") {
		t.Errorf("verify of a rolled-back database: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if r := c.ok("audit", "verify", "--db", snapshot, "--no-export"); !strings.Contains(r.stdout, "OK") {
		t.Errorf("the old copy alone should verify:\n%s", r.stdout)
	}
}

func copyDB(t *testing.T, src, dst string) {
	t.Helper()
	db, err := store.Open(context.Background(), store.SQLite, src)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.ExecContext(context.Background(), `VACUUM INTO '`+dst+`'`); err != nil {
		t.Fatal(err)
	}
}

func tamper(t *testing.T, path, q string) {
	t.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, store.SQLite, path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, s := range []string{`DROP TRIGGER audit_events_no_update`, q} {
		if _, err := db.ExecContext(ctx, s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
}

// TestAUD2_CheckpointsSignedByTheAuditKeyInTheToken: with audit.token set,
// the audit signing key is generated in the PKCS#11 token (SoftHSM2), the
// key that signed until then vouches for it once, and the journal verifies
// with only the first key pinned; the checkpoints from then on are signed
// by the token's key.
func TestAUD2_CheckpointsSignedByTheAuditKeyInTheToken(t *testing.T) {
	module, token, pin := sceautest.SoftHSM(t)
	tmp := t.TempDir()
	dir := filepath.Join(tmp, "ca")
	pub, adm := freeAddr(t), freeAddr(t)
	c := cli{t: t}
	c.ok("init", "--dir", dir, "--public", pub, "--admin", adm)
	c.config = filepath.Join(dir, "sceau.yaml")
	first := filepath.Join(tmp, "first-key.pem")
	c.ok("audit", "status", "--local", "--key-out", first)
	os.WriteFile(filepath.Join(dir, "audit-token.pin"), []byte(pin+"\n"), 0o600)
	editConfig(t, c.config, "  secret_file: secrets/keystore.secret\n",
		"  secret_file: secrets/keystore.secret\n  pkcs11:\n    module: "+module+"\n",
		"  signing_key: audit-signing\n", "  signing_key: audit-signing\n  token: "+token+"\n  token_pin_file: audit-token.pin\n")
	stop := startServe(t, c.config, pub)
	stop()

	// The token holds the key pair; its public key is the one registered last.
	ks := keys.OpenPKCS11(keys.PKCS11Config{Module: module, TokenLabel: token})
	if err := ks.Activate([]byte(pin)); err != nil {
		t.Fatal(err)
	}
	s, err := ks.Signer("audit-signing")
	if err != nil {
		t.Fatalf("the token holds no audit-signing key: %v", err)
	}
	tokenID, _ := audit.KeyID(s.Public())
	ks.Deactivate()
	ctx := context.Background()
	db, err := store.Open(ctx, store.SQLite, filepath.Join(dir, "sceau.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	last, err := audit.LastCheckpoint(ctx, db)
	if err != nil || last == nil || last.KeyID != tokenID || last.Kind != audit.KindFinal {
		t.Fatalf("the last checkpoint %+v (%v) is not the final one signed by the token's key %s", last, err, tokenID[:16])
	}
	r := c.ok("audit", "events", "--local", "--action", audit.ActionLoggingStarted, "--limit", "10")
	if !strings.Contains(r.stdout, `"signing_key_store":"PKCS#11 token `+token+`"`) {
		t.Errorf("audit.logging_started does not say the key is in the token:\n%s", r.stdout)
	}
	// Pinned to the first key only, the journal verifies: the first key
	// vouched for the token's.
	r = c.ok("audit", "verify", "--no-export", "--key", first)
	if !strings.Contains(r.stdout, tokenID) || !strings.Contains(r.stdout, "OK: the journal is whole.") {
		t.Errorf("verify pinned to the first key does not trust the token's key %s:\n%s", tokenID[:16], r.stdout)
	}
}

// TestAUD5_ServeExportsToObjectStorage: with audit.export.s3 set, serve
// puts the journal in the bucket (s3rver, an S3-compatible server), the
// status shows the position and a lag of zero after the stop, and the
// bucket's copy verifies with the audit key pinned.
func TestAUD5_ServeExportsToObjectStorage(t *testing.T) {
	bin := sceautest.LookPath(t, "s3rver", "npm install -g s3rver@3.7.1")
	tmp := t.TempDir()
	s3addr := freeAddr(t)
	_, port, _ := net.SplitHostPort(s3addr)
	srv := exec.Command(bin, "-d", filepath.Join(tmp, "s3"), "-a", "127.0.0.1", "-p", port, "--silent", "--configure-bucket", "journal")
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Process.Kill(); srv.Wait() })
	for deadline := time.Now().Add(20 * time.Second); ; {
		if c, err := net.Dial("tcp", s3addr); err == nil {
			c.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("s3rver does not answer")
		}
		time.Sleep(100 * time.Millisecond)
	}
	dir := filepath.Join(tmp, "ca")
	pub, adm := freeAddr(t), freeAddr(t)
	c := cli{t: t}
	c.ok("init", "--dir", dir, "--public", pub, "--admin", adm)
	c.config = filepath.Join(dir, "sceau.yaml")
	os.WriteFile(filepath.Join(dir, "secrets", "s3.access"), []byte("S3RVER\n"), 0o600)
	os.WriteFile(filepath.Join(dir, "secrets", "s3.secret"), []byte("S3RVER\n"), 0o600)
	editConfig(t, c.config, "    interval: 10s\n", "    interval: 10s\n    s3:\n      endpoint: http://"+s3addr+"\n      bucket: journal\n"+
		"      access_key_file: secrets/s3.access\n      secret_key_file: secrets/s3.secret\n")
	startServe(t, c.config, pub)()
	r := c.ok("audit", "status", "--local", "--key-out", filepath.Join(tmp, "key.pem"))
	if !regexp.MustCompile(`Object store: exported through event \d+; lag 0 events`).MatchString(r.stdout) {
		t.Errorf("status does not show the object storage export:\n%s", r.stdout)
	}
	st := &audit.S3{Endpoint: "http://" + s3addr, Bucket: "journal", AccessKey: "S3RVER", SecretKey: "S3RVER"}
	copyDir := filepath.Join(tmp, "bucket-copy")
	if n, err := audit.FetchObjects(context.Background(), st, "sceau-audit/", copyDir); err != nil || n == 0 {
		t.Fatalf("FetchObjects = %d, %v", n, err)
	}
	if r := c.ok("audit", "verify", "--export", copyDir, "--key", filepath.Join(tmp, "key.pem")); !strings.Contains(r.stdout, "OK: the journal is whole.") {
		t.Errorf("the bucket's copy does not verify:\n%s", r.stdout)
	}
}

// TestAUD5_ServeForwardsToASyslogCollectorOverTLS: with network tls and a
// CA file, serve sends the journal to an RFC 5425 collector whose
// certificate that CA issued.
func TestAUD5_ServeForwardsToASyslogCollectorOverTLS(t *testing.T) {
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "collector CA"}, IsCA: true,
		BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	caDER, _ := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, caKey.Public(), caKey)
	caCert, _ := x509.ParseCertificate(caDER)
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	der, _ := x509.CreateCertificate(rand.Reader, &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "collector"},
		DNSNames: []string{"collector.test"}, IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, NotBefore: time.Now().Add(-time.Hour),
		NotAfter: time.Now().Add(time.Hour), ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}, caCert, key.Public(), caKey)
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}})
	if err != nil {
		t.Fatal(err)
	}
	msgs := sceautest.CollectSyslog(t, ln)
	tmp := t.TempDir()
	dir := filepath.Join(tmp, "ca")
	pub, adm := freeAddr(t), freeAddr(t)
	c := cli{t: t}
	c.ok("init", "--dir", dir, "--public", pub, "--admin", adm)
	c.config = filepath.Join(dir, "sceau.yaml")
	os.WriteFile(filepath.Join(dir, "collector-ca.pem"), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}), 0o644)
	editConfig(t, c.config, `address: ""`, `address: "`+ln.Addr().String()+`"`+"\n    ca_file: collector-ca.pem\n    server_name: collector.test",
		"network: udp", "network: tls")
	stop := startServe(t, c.config, pub)
	deadline := time.Now().Add(20 * time.Second)
	for !strings.Contains(msgs.String(), "service.started") && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	stop()
	if m := msgs.String(); !regexp.MustCompile(`<\d+>1 \S+ \S+ sceau \d+ service.started \[sceau@32473 seq="\d+"`).MatchString(m) {
		t.Errorf("the TLS collector did not get service.started:\n%.2000s", m)
	}
}
