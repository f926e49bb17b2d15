package node_test

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ocsp"

	"github.com/sceau/sceau/internal/node"
	"github.com/sceau/sceau/internal/revocation"
	"github.com/sceau/sceau/internal/sceau"
	"github.com/sceau/sceau/internal/sceautest"
	"github.com/sceau/sceau/internal/server"
	"github.com/sceau/sceau/internal/store"
)

// CONT-1, SYS-2 (docs/scaling.md, "A streaming standby"): a public-only
// node serves CRLs and OCSP from a PostgreSQL hot standby, the copy a
// second site keeps. With synchronous_commit = remote_apply on the primary,
// a revocation the signing node acknowledged is answered "revoked" by the
// public-only node on the standby at once; the standby refuses every
// write, and the public-only node needs none.
func TestCONT1_PublicOnlyNodeServesFromAStreamingStandby(t *testing.T) {
	primary := sceautest.NewPostgresCluster(t)
	standby := primary.NewStandby()
	ctx := t.Context()
	db, err := store.Open(ctx, store.Postgres, primary.DSN())
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		var n int
		if err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM pg_stat_replication WHERE state = 'streaming'`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the standby does not stream after 30s")
		}
		time.Sleep(50 * time.Millisecond)
	}
	// Every commit waits until the standby has applied it.
	for _, q := range []string{`ALTER SYSTEM SET synchronous_standby_names = '*'`, `ALTER SYSTEM SET synchronous_commit = 'remote_apply'`,
		`SELECT pg_reload_conf()`} {
		if _, err := db.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	db.Close()

	scratch := t.TempDir()
	load := initOnPostgres(t, primary.DSN(), scratch)
	cfgA, cfgC := load(), load()
	standbyDSN := filepath.Join(scratch, "standby.dsn")
	if err := os.WriteFile(standbyDSN, []byte(standby.DSN()+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfgC.Database.DSNFile = standbyDSN
	cfgC.Public.Listen, cfgC.Admin.Listen = freeAddr(t), freeAddr(t)
	cfgC.Keystore.Dir, cfgC.Keystore.SecretFile = filepath.Join(scratch, "no-keystore"), ""
	a := &testNode{name: "A", cfg: cfgA, n: startNode(t, cfgA, node.Serve, &errorLog{})}
	logC := &errorLog{}
	c := &testNode{name: "C (public-only, on the standby)", cfg: cfgC, n: startNode(t, cfgC, node.ServePublic, logC)}
	a.connect(t)
	c.connect(t)
	issuing := a.n.Authority.CAs()[1].Cert

	good, err := issueOne(ctx, a.api, "good.standby.example.org")
	if err != nil {
		t.Fatal(err)
	}
	bad, err := issueOne(ctx, a.api, "revoked.standby.example.org")
	if err != nil {
		t.Fatal(err)
	}
	if st, err := c.ocspStatus(good, issuing); err != nil || st != ocsp.Good {
		t.Fatalf("a certificate just issued on the primary: status %d on the standby's public-only node (%v), want good", st, err)
	}
	serial := revocation.SerialHex(bad.SerialNumber)
	if _, err := a.api.Revoke(ctx, serial, server.RevokeRequest{Reason: "keyCompromise"}); err != nil {
		t.Fatal(err)
	}
	if st, err := c.ocspStatus(bad, issuing); err != nil || st != ocsp.Revoked {
		t.Fatalf("right after its revocation: status %d on the standby's public-only node (%v), want revoked", st, err)
	}
	// A CRL signed on A, served from the standby within a site refresh.
	from := time.Now()
	crls, err := a.n.Revocation.IssueCRL(ctx, sceau.System("test"), "issuing")
	if err != nil {
		t.Fatal(err)
	}
	crl, lag := c.waitCRL(t, crls[0].Number, from)
	listed := false
	for _, e := range crl.RevokedCertificateEntries {
		listed = listed || revocation.SerialHex(e.SerialNumber) == serial
	}
	if !listed {
		t.Errorf("CRL %d served from the standby does not list %s", crl.Number, serial)
	}
	if body := c.get(t, "/healthz", http.StatusOK); !strings.Contains(body, "mode: "+node.ModePublicOnly) {
		t.Errorf("/healthz of the public-only node on the standby: %q", body)
	}
	// The standby refuses writes, whatever the session says.
	sdb, err := store.Open(context.Background(), store.Postgres, standby.DSN())
	if err != nil {
		t.Fatal(err)
	}
	defer sdb.Close()
	if _, err := sdb.ExecContext(ctx, `UPDATE crl_numbers SET last_number = last_number + 1`); err == nil {
		t.Error("the standby accepted a write")
	}
	if errs := logC.errors(); len(errs) > 0 {
		t.Errorf("the public-only node on the standby logged errors:\n%s", strings.Join(errs, "\n"))
	}
	t.Logf("public-only node on a streaming standby (synchronous_commit = remote_apply): revocation answered at once, CRL %d served within %v",
		crl.Number, lag.Round(time.Millisecond))
}
