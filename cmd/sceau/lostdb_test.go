package main

import (
	"context"
	"crypto/x509"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sceau/sceau/internal/adminapi"
	"github.com/sceau/sceau/internal/config"
	"github.com/sceau/sceau/internal/node"
	"github.com/sceau/sceau/internal/sceau"
	"github.com/sceau/sceau/internal/sceautest"
	"github.com/sceau/sceau/internal/server"
)

// AUD-7 (issue 11, defect 5): when the PostgreSQL server goes away under a
// running node, every request that needs it is refused with 503 and the
// reason (never "500 internal error"), /healthz says 503 with the reason so
// a load balancer drains the node, and when the server is back the node
// serves again without a restart and what it acknowledged is still there.
func TestAUD7_LostPostgresIsUnavailableAndHealthzSaysSo(t *testing.T) {
	pg := sceautest.NewPostgresCluster(t)
	tmp := t.TempDir()
	dsnFile := filepath.Join(tmp, "postgres.dsn")
	if err := os.WriteFile(dsnFile, []byte(pg.DSN()+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	pub, adm := freeAddr(t), freeAddr(t)
	tmpl := string(node.RenderConfig(node.ConfigValues{Org: "Sceau", PublicListen: pub, AdminListen: adm, BaseURL: "http://" + pub}))
	tmpl = strings.Replace(tmpl, "  engine: sqlite\n", "  engine: postgres\n", 1)
	tmpl = strings.Replace(tmpl, "  # dsn_file: secrets/postgres.dsn\n", "  dsn_file: "+dsnFile+"\n", 1)
	from := filepath.Join(tmp, "from.yaml")
	if err := os.WriteFile(from, []byte(tmpl), 0o600); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(tmp, "ca")
	c := cli{t: t}
	c.ok("init", "--from", from, "--dir", dir)
	c.config = filepath.Join(dir, "sceau.yaml")
	cfg, err := config.Load(c.config)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Database.Engine != "postgres" {
		t.Fatalf("the installation runs on %q, not postgres", cfg.Database.Engine)
	}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	logs := &syncBuffer{}
	done := make(chan int, 1)
	go func() { done <- run(ctx, []string{"--config", c.config, "serve"}, logs, logs) }()
	waitHealthy(t, "http://"+pub, done, logs)
	client, err := adminapi.New(cfg, adminapi.Credentials{})
	if err != nil {
		t.Fatal(err)
	}
	csr := filepath.Join(tmp, "www.csr")
	writeCSR(t, csr)
	pemCSR, _ := os.ReadFile(csr)
	req := server.IssueRequest{CA: "issuing", Profile: "server", CSR: string(pemCSR)}
	before, err := client.Issue(ctx, req)
	if err != nil {
		t.Fatal(err)
	}

	pg.Stop()
	if _, err := client.Issue(ctx, req); sceau.KindOf(err) != sceau.Unavailable || !strings.Contains(sceau.Message(err), "database") {
		t.Errorf("issue with PostgreSQL gone: %v (kind %s); want unavailable (503) naming the database", err, sceau.KindOf(err))
	}
	if _, err := client.Certificate(ctx, before.Serial); sceau.KindOf(err) != sceau.Unavailable {
		t.Errorf("read with PostgreSQL gone: %v (kind %s); want unavailable (503)", err, sceau.KindOf(err))
	}
	if code, body := get(t, "http://"+pub+"/healthz"); code != http.StatusServiceUnavailable || !strings.Contains(body, "database") {
		t.Errorf("/healthz with PostgreSQL gone: %d %q; want 503 naming the database", code, body)
	}
	// PUB-3: the public repository keeps serving what it has published: a
	// CRL is signed and names its own nextUpdate, and the freshness monitor
	// (not the request) says when it grows old. /healthz above already
	// tells the load balancer that this node has lost its database.
	if code, body := get(t, "http://"+pub+"/crl/issuing.crl"); code != http.StatusOK {
		t.Errorf("the published CRL with PostgreSQL gone: %d %q; want 200, served from what was published", code, body)
	} else if _, err := x509.ParseRevocationList([]byte(body)); err != nil {
		t.Errorf("the published CRL with PostgreSQL gone does not parse: %v", err)
	}
	if strings.Contains(logs.String(), "internal error") {
		t.Errorf("a lost database was logged as an internal error:\n%s", logs)
	}

	pg.Start()
	deadline := time.Now().Add(30 * time.Second)
	for {
		code, body := get(t, "http://"+pub+"/healthz")
		if code == http.StatusOK {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("/healthz still %d %q 30 s after PostgreSQL came back", code, body)
		}
		time.Sleep(200 * time.Millisecond)
	}
	if _, err := client.Issue(ctx, req); err != nil {
		t.Errorf("issue after PostgreSQL came back: %v", err)
	}
	if got, err := client.Certificate(ctx, before.Serial); err != nil || got.Serial != before.Serial {
		t.Errorf("the certificate acknowledged before the outage: %v, %v", got, err)
	}
	cancel()
	if code := <-done; code != 0 {
		t.Errorf("serve exited with %d:\n%s", code, logs)
	}
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}
