package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sceau/sceau/internal/access"
	"github.com/sceau/sceau/internal/adminapi"
	"github.com/sceau/sceau/internal/config"
)

// AUD-6 (issue 11, defect 6): every refused TLS handshake on the admin
// listener leaves a login.failed event on the peer, with its address, the
// certificate it presented and the reason, and a log line; a prober cannot
// flood the journal (at most 10 events per peer and minute); the operator's
// own certificate still gets in.
func TestAUD6_RefusedAdminHandshakesAreJournaled(t *testing.T) {
	tmp := t.TempDir()
	dir := filepath.Join(tmp, "ca")
	pub, adm := freeAddr(t), freeAddr(t)
	c := cli{t: t}
	c.ok("init", "--dir", dir, "--public", pub, "--admin", adm)
	c.config = filepath.Join(dir, "sceau.yaml")
	cfg, err := config.Load(c.config)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	logs := &syncBuffer{}
	done := make(chan int, 1)
	go func() { done <- run(ctx, []string{"--config", c.config, "serve"}, logs, logs) }()
	waitHealthy(t, "http://"+pub, done, logs)

	adminDir := filepath.Join(dir, "admin")
	roots := x509.NewCertPool()
	caPEM, err := os.ReadFile(filepath.Join(adminDir, access.AdminCAFile))
	if err != nil {
		t.Fatal(err)
	}
	roots.AppendCertsFromPEM(caPEM)
	operator, err := tls.LoadX509KeyPair(filepath.Join(adminDir, access.OperatorCert), filepath.Join(adminDir, access.OperatorKeyFile))
	if err != nil {
		t.Fatal(err)
	}
	stranger := selfSigned(t, "stranger", x509.ExtKeyUsageClientAuth)
	// A certificate of the installation's public hierarchy: a real
	// end-entity certificate, but not one of the admin CA.
	csr := filepath.Join(tmp, "www.csr")
	writeCSR(t, csr)
	certFile := filepath.Join(tmp, "www.pem")
	c.ok("cert", "issue", "--ca", "issuing", "--profile", "server", "--csr", csr, "--out", certFile)
	eeDER := firstPEM(t, certFile)
	ee := tls.Certificate{Certificate: [][]byte{eeDER}, PrivateKey: stranger.PrivateKey}

	dial := func(cfg *tls.Config) error {
		cfg.RootCAs, cfg.ServerName = roots, "127.0.0.1"
		d := &tls.Dialer{Config: cfg}
		conn, err := d.DialContext(ctx, "tcp", adm)
		if err != nil {
			return err
		}
		defer conn.Close()
		// TLS 1.3 sends the client's refusal after the client's side of
		// the handshake: a read makes it arrive.
		conn.SetReadDeadline(time.Now().Add(5 * time.Second))
		_, err = conn.Read(make([]byte, 1))
		return err
	}
	attempts := []struct {
		name   string
		cfg    *tls.Config
		reason string
		sha    []byte
	}{
		{"no certificate", &tls.Config{MinVersion: tls.VersionTLS13}, "didn't provide a certificate", nil},
		{"a certificate of another CA", present(stranger), "client certificate was refused", stranger.Certificate[0]},
		{"an end-entity certificate of the public hierarchy", present(ee), "client certificate was refused", eeDER},
		{"TLS 1.2", &tls.Config{Certificates: []tls.Certificate{operator}, MaxVersion: tls.VersionTLS12}, "unsupported versions", nil},
	}
	for _, a := range attempts {
		if err := dial(a.cfg); err == nil {
			t.Errorf("%s: the admin listener let the connection through", a.name)
		}
	}
	// A probe: many more refusals from the same host.
	for range 15 {
		dial(&tls.Config{MinVersion: tls.VersionTLS13})
	}
	client, err := adminapi.New(cfg, adminapi.Credentials{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := client.CAs(ctx); err != nil {
		t.Errorf("the operator's certificate after the probe: %v", err)
	}
	time.Sleep(500 * time.Millisecond) // the last refusals are journalled by their handshake goroutines
	cancel()
	if code := <-done; code != 0 {
		t.Fatalf("serve exited with %d:\n%s", code, logs)
	}

	r := c.ok("audit", "events", "--action", "login.failed", "--limit", "100", "--json")
	var events []struct {
		Actor   string `json:"actor"`
		Object  string `json:"object"`
		Details struct {
			Peer        string `json:"peer"`
			Reason      string `json:"reason"`
			Certificate struct {
				SHA256 string `json:"sha256"`
			} `json:"certificate"`
		} `json:"details"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &events); err != nil {
		t.Fatalf("audit events --json: %v\n%s", err, r.stdout)
	}
	if len(events) != 10 {
		t.Errorf("%d login.failed events for 19 refusals from one host; want 10 (the per-peer limit)", len(events))
	}
	for _, e := range events {
		if e.Object != "peer:127.0.0.1" || e.Actor != "peer:127.0.0.1" || !strings.HasPrefix(e.Details.Peer, "127.0.0.1:") {
			t.Errorf("event by %s on %s, peer %q; want peer:127.0.0.1 and its address", e.Actor, e.Object, e.Details.Peer)
		}
	}
	// The handshakes are journalled as they end, so the first four events
	// are the four attempts in some order.
	for _, a := range attempts {
		want := ""
		if a.sha != nil {
			sum := sha256.Sum256(a.sha)
			want = hex.EncodeToString(sum[:])
		}
		found := false
		for _, e := range events {
			if strings.Contains(e.Details.Reason, a.reason) && e.Details.Certificate.SHA256 == want {
				found = true
			}
		}
		if !found {
			t.Errorf("%s: no event with the reason %q and the presented certificate %q:\n%s", a.name, a.reason, want, r.stdout)
		}
	}
	if n := strings.Count(logs.String(), "admin TLS handshake refused"); n != 10 {
		t.Errorf("%d log lines for the refused handshakes; want 10:\n%s", n, logs)
	}
	r = c.ok("audit", "alerts")
	if !strings.Contains(r.stdout, "failed logins on peer:127.0.0.1") {
		t.Errorf("the anomaly analysis did not flag the probe:\n%s", r.stdout)
	}
}

// present makes the client send cert whatever CAs the server asks for (Go's
// client otherwise sends none that the server would not accept).
func present(cert tls.Certificate) *tls.Config {
	return &tls.Config{GetClientCertificate: func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return &cert, nil }}
}

func selfSigned(t *testing.T, cn string, eku x509.ExtKeyUsage) tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(7), Subject: pkix.Name{CommonName: cn},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{eku}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

func firstPEM(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	blk, _ := pem.Decode(b)
	if blk == nil {
		t.Fatalf("%s holds no PEM", path)
	}
	return blk.Bytes
}
