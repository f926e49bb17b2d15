package main

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sceau/sceau/internal/server"
)

// syncBuffer is a bytes.Buffer safe for the serve goroutine to write while
// the test reads.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// freeAddr returns a 127.0.0.1 address nobody listens on right now.
func freeAddr(t *testing.T) string {
	t.Helper()
	// The kernel may hand the same free port out twice in a row; a test
	// that asks for two addresses must get two.
	freeMu.Lock()
	defer freeMu.Unlock()
	for range 100 {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := ln.Addr().String()
		ln.Close()
		if !freeGiven[addr] {
			freeGiven[addr] = true
			return addr
		}
	}
	t.Fatal("no free port that was not handed out already")
	return ""
}

var (
	freeMu    sync.Mutex
	freeGiven = map[string]bool{}
)

// cli runs the command line once, as an operator would type it.
type cli struct {
	t      *testing.T
	config string
}

type result struct {
	code           int
	stdout, stderr string
}

func (c cli) run(args ...string) result {
	c.t.Helper()
	var out, errb bytes.Buffer
	if c.config != "" {
		args = append([]string{"--config", c.config}, args...)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	code := run(ctx, args, &out, &errb)
	return result{code, out.String(), errb.String()}
}

// ok runs and fails the test unless the command exits 0.
func (c cli) ok(args ...string) result {
	c.t.Helper()
	r := c.run(args...)
	if r.code != 0 {
		c.t.Fatalf("sceau %s: exit %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), r.code, r.stdout, r.stderr)
	}
	return r
}

func waitHealthy(t *testing.T, base string, serveDone <-chan int, logs *syncBuffer) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case code := <-serveDone:
			t.Fatalf("serve exited with %d before answering:\n%s", code, logs)
		default:
		}
		resp, err := http.Get(base + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("%s/healthz never answered:\n%s", base, logs)
}

func writeCSR(t *testing.T, path string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{
		Subject: pkix.Name{CommonName: "www.example.org"}, DNSNames: []string{"www.example.org"}}, key)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: der}), 0o644); err != nil {
		t.Fatal(err)
	}
}

var serialLine = regexp.MustCompile(`issued serial ([0-9a-f]+)`)

// TestCA3_OperatorDrivesTheCommandLineEndToEnd boots run() on a temp
// directory and drives it as an operator would: init, serve, inspect the
// CAs, issue from a CSR and with a generated key, list, revoke (dry run,
// then for real, then twice), issue a CRL, stop.
func TestCA3_OperatorDrivesTheCommandLineEndToEnd(t *testing.T) {
	tmp := t.TempDir()
	dir := filepath.Join(tmp, "ca")
	pub, adm := freeAddr(t), freeAddr(t)
	base := "http://" + pub

	c := cli{t: t}
	r := c.ok("init", "--dir", dir, "--public", pub, "--admin", adm)
	if !strings.Contains(r.stdout, "CA root") || !strings.Contains(r.stdout, "CA issuing") || !strings.Contains(r.stdout, "SHA-256") {
		t.Errorf("init output does not list the CAs with fingerprints:\n%s", r.stdout)
	}
	c.config = filepath.Join(dir, "sceau.yaml")
	for _, f := range []string{"sceau.yaml", "secrets/keystore.secret", "admin/operator.pem", "admin/operator-key.pem", "admin/admin-ca.pem"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Errorf("init did not create %s: %v", f, err)
		}
	}
	if fi, err := os.Stat(filepath.Join(dir, "secrets/keystore.secret")); err == nil && fi.Mode().Perm() != 0o600 {
		t.Errorf("keystore secret has mode %v, want 0600", fi.Mode().Perm())
	}

	t.Run("init refuses a non-empty directory", func(t *testing.T) {
		r := cli{t: t}.run("init", "--dir", dir, "--public", freeAddr(t), "--admin", freeAddr(t))
		if r.code == 0 || !strings.Contains(r.stderr, "exists and is not empty") {
			t.Errorf("init into %s: exit %d, stderr %q; want a refusal saying it is not empty", dir, r.code, r.stderr)
		}
	})

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	logs := &syncBuffer{}
	serveDone := make(chan int, 1)
	go func() { serveDone <- run(ctx, []string{"--config", c.config, "serve"}, logs, logs) }()
	stopped := false
	defer func() {
		if !stopped {
			cancel()
			<-serveDone
		}
	}()
	waitHealthy(t, base, serveDone, logs)

	// ca list --json
	r = c.ok("ca", "list", "--json")
	var cas []server.CAInfo
	if err := json.Unmarshal([]byte(r.stdout), &cas); err != nil {
		t.Fatalf("ca list --json: %v\n%s", err, r.stdout)
	}
	if len(cas) != 2 || cas[0].ID != "root" || cas[1].ID != "issuing" || cas[1].Parent != "root" {
		t.Fatalf("ca list: %+v, want root then issuing under root", cas)
	}

	// ca show issuing
	r = c.ok("ca", "show", "issuing")
	for _, want := range []string{"CA:        issuing", "Parent:    root", "SHA-256:   " + cas[1].SHA256, "BEGIN CERTIFICATE", "server"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("ca show issuing lacks %q:\n%s", want, r.stdout)
		}
	}
	if r := c.run("ca", "show", "nope"); r.code == 0 || !strings.Contains(r.stderr, `unknown CA "nope"`) {
		t.Errorf("ca show nope: exit %d, stderr %q", r.code, r.stderr)
	}

	// cert issue --csr
	csrPath := filepath.Join(tmp, "req.pem")
	writeCSR(t, csrPath)
	certPath := filepath.Join(tmp, "www.pem")
	r = c.ok("cert", "issue", "--ca", "issuing", "--profile", "server", "--csr", csrPath, "--out", certPath)
	m := serialLine.FindStringSubmatch(r.stderr)
	if m == nil {
		t.Fatalf("cert issue did not name the serial:\n%s", r.stderr)
	}
	serial := m[1]
	b, err := os.ReadFile(certPath)
	if err != nil {
		t.Fatal(err)
	}
	blk, _ := pem.Decode(b)
	if blk == nil {
		t.Fatalf("%s holds no PEM", certPath)
	}
	cert, err := x509.ParseCertificate(blk.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	if cert.SerialNumber.Text(16) != serial || cert.Subject.CommonName != "www.example.org" {
		t.Errorf("certificate serial %x CN %q, want %s www.example.org", cert.SerialNumber, cert.Subject.CommonName, serial)
	}
	// The output file is never overwritten.
	if r := c.run("cert", "issue", "--ca", "issuing", "--profile", "server", "--csr", csrPath, "--out", certPath); r.code == 0 ||
		!strings.Contains(r.stderr, "must not exist") {
		t.Errorf("cert issue onto an existing --out: exit %d, stderr %q", r.code, r.stderr)
	}

	// cert issue --generate-key with a password file
	passPath := filepath.Join(tmp, "marie.pass")
	if err := os.WriteFile(passPath, []byte("correct horse battery staple\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	p12Path := filepath.Join(tmp, "marie.p12")
	r = c.ok("cert", "issue", "--ca", "issuing", "--profile", "person", "--generate-key", "ecdsa-p256",
		"--cn", "Marie Curie", "--given-name", "Marie", "--surname", "Curie", "--country", "FR", "--email", "marie@example.org", "--p12-out", p12Path, "--password-file", passPath)
	if !strings.Contains(r.stdout, "PKCS#12 written to "+p12Path) || strings.Contains(r.stdout, "password (shown once)") {
		t.Errorf("cert issue --generate-key output:\n%s", r.stdout)
	}
	if fi, err := os.Stat(p12Path); err != nil || fi.Size() == 0 || fi.Mode().Perm() != 0o600 {
		t.Errorf("PKCS#12 file: %v, %v", fi, err)
	}
	if r := c.run("cert", "issue", "--ca", "issuing", "--profile", "person", "--generate-key", "ecdsa-p256", "--cn", "X"); r.code != 2 ||
		!strings.Contains(r.stderr, "--p12-out") {
		t.Errorf("--generate-key without --p12-out: exit %d, stderr %q", r.code, r.stderr)
	}

	// cert show
	r = c.ok("cert", "show", serial)
	for _, want := range []string{"Serial:    " + serial, "Status:    issued", "Profile:   server", "BEGIN CERTIFICATE"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("cert show lacks %q:\n%s", want, r.stdout)
		}
	}

	// cert list --json
	r = c.ok("cert", "list", "--json")
	var list []server.CertInfo
	if err := json.Unmarshal([]byte(r.stdout), &list); err != nil {
		t.Fatalf("cert list --json: %v\n%s", err, r.stdout)
	}
	found := false
	for _, i := range list {
		found = found || i.Serial == serial
	}
	if len(list) < 2 || !found {
		t.Errorf("cert list: %d certificates, want the two issued, with %s", len(list), serial)
	}

	// cert revoke without --yes changes nothing
	r = c.ok("cert", "revoke", serial, "--reason", "keyCompromise")
	if !strings.Contains(r.stdout, "would revoke "+serial) || !strings.Contains(r.stdout, "--yes") {
		t.Errorf("dry-run revoke output:\n%s", r.stdout)
	}
	if r := c.ok("cert", "show", serial); !strings.Contains(r.stdout, "Status:    issued") {
		t.Fatalf("after a dry run the certificate is no longer issued:\n%s", r.stdout)
	}

	// with --yes it is revoked
	r = c.ok("cert", "revoke", serial, "--reason", "keyCompromise", "--yes")
	if !strings.Contains(r.stdout, "revoked "+serial+" (keyCompromise)") {
		t.Errorf("revoke output:\n%s", r.stdout)
	}
	r = c.ok("cert", "show", serial)
	if !strings.Contains(r.stdout, "Status:    revoked") || !strings.Contains(r.stdout, "(keyCompromise)") {
		t.Errorf("cert show after revoke:\n%s", r.stdout)
	}

	// twice: refused, and says so
	r = c.run("cert", "revoke", serial, "--reason", "superseded", "--yes")
	if r.code == 0 || !strings.Contains(r.stderr, "revoked already") {
		t.Errorf("second revoke: exit %d, stderr %q; want a failure saying revoked already", r.code, r.stderr)
	}
	// an unknown reason is the operator's mistake: exit 2
	if r := c.run("cert", "revoke", serial, "--reason", "bored", "--yes"); r.code != 2 || !strings.Contains(r.stderr, "not an RFC 5280 reason") {
		t.Errorf("revoke with an unknown reason: exit %d, stderr %q", r.code, r.stderr)
	}

	// ca crl issuing
	r = c.ok("ca", "crl", "issuing")
	if !regexp.MustCompile(`CRL issuing shard 0 number \d+: [1-9]\d* entries`).MatchString(r.stdout) {
		t.Errorf("ca crl issuing output:\n%s", r.stdout)
	}

	// stop
	cancel()
	select {
	case code := <-serveDone:
		stopped = true
		if code != 0 {
			t.Errorf("serve exited with %d after cancellation:\n%s", code, logs)
		}
	case <-time.After(20 * time.Second):
		t.Fatalf("serve did not return after cancellation:\n%s", logs)
	}
	if !strings.Contains(logs.String(), "sceau stopped") {
		t.Errorf("serve did not log its stop:\n%s", logs)
	}
	if r := c.run("ca", "list"); r.code == 0 || !strings.Contains(r.stderr, "is `sceau serve` running?") {
		t.Errorf("ca list with serve stopped: exit %d, stderr %q", r.code, r.stderr)
	}
}

func TestCA1_ConfigRefusesUnknownKeys(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "ca")
	c := cli{t: t}
	c.ok("init", "--dir", dir, "--public", freeAddr(t), "--admin", freeAddr(t))
	c.config = filepath.Join(dir, "sceau.yaml")
	b, err := os.ReadFile(c.config)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(c.config, append(b, []byte("bogus: 1\n")...), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"serve"}, {"ca", "list"}} {
		r := c.run(args...)
		if r.code == 0 || !strings.Contains(r.stderr, "bogus") || !strings.Contains(r.stderr, c.config) {
			t.Errorf("sceau %s with an unknown key: exit %d, stderr %q; want an error naming the file and the field", args, r.code, r.stderr)
		}
	}
}

func TestCA1_DemoRunsTwiceAndRefusesForeignDirectories(t *testing.T) {
	tmp := t.TempDir()
	dir := filepath.Join(tmp, "demo")
	c := cli{t: t}
	r := c.ok("demo", "--exit", "--dir", dir, "--public", freeAddr(t), "--admin", freeAddr(t), "--enroll", freeAddr(t))
	for _, want := range []string{demoMarker, "openssl verify -crl_check", "openssl ocsp -issuer", "openssl pkcs12 -in",
		"10 sample versions published under dual control", "publication verify http://",
		"Registration (CA-4): dossier 1 (device localhost, profile internal-server) entered by operator, validated by registrar",
		"Enroll over EST", "/.well-known/est/simpleenroll"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("first demo output lacks %q:\n%s", want, r.stdout)
		}
	}
	for _, f := range []string{"sample/localhost.pem", "sample/marie.p12", "sample/ca-chain.pem"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Errorf("demo did not create %s: %v", f, err)
		}
	}
	fi, err := os.Stat(filepath.Join(dir, "sample", "est-credential"))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("the demo EST credential: %v %v", fi, err)
	}
	estUser := regexp.MustCompile(`DEMO credential (\S+)`).FindStringSubmatch(r.stdout)
	r = c.ok("demo", "--exit", "--dir", dir, "--public", freeAddr(t), "--admin", freeAddr(t), "--enroll", freeAddr(t))
	if estUser == nil || !strings.Contains(r.stdout, "DEMO credential "+estUser[1]) || !strings.Contains(r.stdout, "Registration (CA-4): dossier 1 ") {
		t.Errorf("second demo run does not reuse the dossier and its EST credential %v:\n%s", estUser, r.stdout)
	}
	if !strings.Contains(r.stdout, "Reusing") {
		t.Errorf("second demo run does not say it reuses the directory:\n%s", r.stdout)
	}
	if strings.Contains(r.stdout, "sample versions published") {
		t.Errorf("second demo run published the sample documents again:\n%s", r.stdout)
	}

	foreign := filepath.Join(tmp, "foreign")
	if err := os.MkdirAll(foreign, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(foreign, "notes.txt"), []byte("mine\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	r = c.run("demo", "--exit", "--dir", foreign, "--public", freeAddr(t), "--admin", freeAddr(t), "--enroll", freeAddr(t))
	if r.code == 0 || !strings.Contains(r.stderr, "is not a Sceau demo directory") {
		t.Errorf("demo on a foreign directory: exit %d, stderr %q", r.code, r.stderr)
	}
	if entries, _ := os.ReadDir(foreign); len(entries) != 1 {
		t.Errorf("demo wrote into the foreign directory: %d entries", len(entries))
	}
	// An installation made by init is not a demo either.
	prod := filepath.Join(tmp, "prod")
	c.ok("init", "--dir", prod, "--public", freeAddr(t), "--admin", freeAddr(t))
	if r := c.run("demo", "--exit", "--dir", prod); r.code == 0 || !strings.Contains(r.stderr, "is not a Sceau demo directory") {
		t.Errorf("demo on an init directory: exit %d, stderr %q", r.code, r.stderr)
	}
}
