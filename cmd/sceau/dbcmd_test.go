package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sceau/sceau/internal/sceautest"
	"github.com/sceau/sceau/internal/store"
)

// writeDBConfig writes a configuration with database and one root CA, the
// least a configuration may declare.
func writeDBConfig(t *testing.T, dir, database string) string {
	t.Helper()
	path := filepath.Join(dir, "sceau.yaml")
	cfg := "database:\n" + database + "cas:\n  - id: root\n    subject: {common_name: Root}\n    key_type: ecdsa-p384\n    validity: 10y\n"
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// AUD-2: SQLite has no roles to grant; the command says so.
func TestAUD2_DBGrantServiceRoleRefusesSQLite(t *testing.T) {
	dir := t.TempDir()
	c := cli{t: t, config: writeDBConfig(t, dir, "  engine: sqlite\n  path: sceau.db\n")}
	r := c.run("db", "grant-service-role", "sceau_service", "--yes")
	if r.code != 2 || !strings.Contains(r.stderr, "no roles") {
		t.Errorf("on SQLite: exit %d, stderr %q; want 2 and an explanation", r.code, r.stderr)
	}
}

// AUD-2: on a fresh PostgreSQL schema, the command shows, then applies the
// migrations and the grants with the owner's DSN, and the service role of
// the configuration then opens and migrates (nothing to do) the store.
func TestAUD2_DBGrantServiceRoleOnPostgres(t *testing.T) {
	dsn := os.Getenv(sceautest.PostgresDSNEnv)
	if dsn == "" || !strings.HasPrefix(dsn, "postgres") {
		sceautest.Missing(t, "PostgreSQL", sceautest.PostgresDSNEnv+" is not set (or not a URL)")
	}
	ctx := t.Context()
	admin, err := store.Open(ctx, store.Postgres, dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { admin.Close() })
	var b [6]byte
	rand.Read(b[:])
	suffix := hex.EncodeToString(b[:])
	schema, role := "sceautest_db_"+suffix, "sceautest_svc_"+suffix
	for _, q := range []string{`CREATE SCHEMA ` + schema, `CREATE ROLE ` + role + ` LOGIN`} {
		if _, err := admin.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		for _, q := range []string{`DROP SCHEMA ` + schema + ` CASCADE`, `DROP OWNED BY ` + role, `DROP ROLE ` + role} {
			if _, err := admin.ExecContext(ctx, q); err != nil {
				t.Errorf("%s: %v", q, err)
			}
		}
	})
	as := func(user string) string {
		u, err := url.Parse(dsn)
		if err != nil {
			t.Fatal(err)
		}
		if user != "" {
			u.User = url.User(user)
		}
		q := u.Query()
		q.Set("search_path", schema)
		u.RawQuery = q.Encode()
		return u.String()
	}
	dir := t.TempDir()
	ownerDSN, serviceDSN := filepath.Join(dir, "owner.dsn"), filepath.Join(dir, "service.dsn")
	os.WriteFile(ownerDSN, []byte(as("")+"\n"), 0o600)
	os.WriteFile(serviceDSN, []byte(as(role)+"\n"), 0o600)
	c := cli{t: t, config: writeDBConfig(t, dir, "  engine: postgres\n  dsn_file: service.dsn\n")}

	r := c.ok("db", "grant-service-role", role, "--dsn-file", ownerDSN)
	if !strings.Contains(r.stdout, "would apply") || !strings.Contains(r.stdout, "add --yes") {
		t.Errorf("dry run on an empty schema:\n%s", r.stdout)
	}
	var n int
	if err := admin.QueryRowContext(ctx, `SELECT COUNT(*) FROM pg_tables WHERE schemaname = ?`, schema).Scan(&n); err != nil || n != 0 {
		t.Fatalf("the dry run created %d tables (%v)", n, err)
	}

	// The service role cannot migrate: it is told what to run.
	r = c.run("db", "grant-service-role", role, "--yes")
	if r.code == 0 || !strings.Contains(r.stderr, "grant-service-role ROLE --yes") {
		t.Errorf("with the service role's DSN: exit %d, stderr %q; want the migration refused with the fix", r.code, r.stderr)
	}

	r = c.ok("db", "grant-service-role", role, "--dsn-file", ownerDSN, "--yes")
	for _, want := range []string{"applied migration 0001_core", "granted " + role, "audit_events", "SELECT, INSERT, DELETE", "append-only"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("--yes output lacks %q:\n%s", want, r.stdout)
		}
	}
	// The grant and its audit event commit together (SYS-3).
	var granted int
	if err := admin.QueryRowContext(ctx, `SELECT COUNT(*) FROM `+schema+`.audit_events WHERE action = 'db.service_role_granted'
		AND details::text LIKE '%' || ? || '%'`, role).Scan(&granted); err != nil || granted != 1 {
		t.Errorf("db.service_role_granted events for %s: %d (%v), want 1", role, granted, err)
	}
	r = c.ok("db", "grant-service-role", role, "--dsn-file", ownerDSN, "--json")
	var plan store.ServiceRolePlan
	if err := json.Unmarshal([]byte(r.stdout), &plan); err != nil || plan.Role != role || plan.Schema != schema || len(plan.Tables) == 0 {
		t.Errorf("--json: %+v, %v\n%s", plan, err, r.stdout)
	}

	// serve's store, as the service role: opens and has nothing to migrate.
	svc, err := store.Open(ctx, store.Postgres, as(role))
	if err != nil {
		t.Fatal(err)
	}
	defer svc.Close()
	if err := svc.Migrate(ctx); err != nil {
		t.Fatalf("Migrate as the service role after the grant: %v", err)
	}
	if _, err := svc.ExecContext(ctx, `TRUNCATE audit_events`); err == nil {
		t.Error("the service role truncated audit_events")
	}
}
