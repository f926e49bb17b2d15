package sceautest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sceau/sceau/internal/store"
)

// PostgresDSNEnv names the environment variable that holds the DSN of a
// PostgreSQL server for tests. When it is set, ForEachEngine also runs on
// PostgreSQL; when it is empty, the PostgreSQL runs are skipped.
const PostgresDSNEnv = "SCEAU_TEST_POSTGRES_DSN"

// ForEachEngine runs fn once per database engine, each time on a fresh,
// migrated, empty database: always in a subtest "sqlite" on a file in
// t.TempDir(), and in a subtest "postgres" when SCEAU_TEST_POSTGRES_DSN is
// set, on a schema of its own that is dropped when the subtest ends. This is
// the store conformance suite's runner: every package whose SQL must work on
// both engines runs its store tests through it.
func ForEachEngine(t *testing.T, fn func(t *testing.T, db *store.DB)) {
	t.Helper()
	t.Run(string(store.SQLite), func(t *testing.T) {
		fn(t, OpenSQLite(t))
	})
	if os.Getenv(PostgresDSNEnv) == "" {
		return
	}
	t.Run(string(store.Postgres), func(t *testing.T) {
		fn(t, OpenPostgres(t))
	})
}

// OpenSQLite returns a fresh migrated SQLite database in a file under
// t.TempDir(). It is closed when the test ends.
func OpenSQLite(t testing.TB) *store.DB {
	t.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, store.SQLite, filepath.Join(t.TempDir(), "sceau.db"))
	if err != nil {
		t.Fatalf("sceautest: open sqlite: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	if err := db.Migrate(ctx); err != nil {
		t.Fatalf("sceautest: migrate sqlite: %v", err)
	}
	return db
}

// OpenPostgres returns a fresh migrated PostgreSQL database: a uniquely
// named schema on the server that SCEAU_TEST_POSTGRES_DSN names, with every
// connection's search_path set to it. The schema is dropped when the test
// ends. The test is skipped when the variable is not set (it fails under
// SCEAU_TEST_REQUIRE_ALL=1).
func OpenPostgres(t testing.TB) *store.DB {
	t.Helper()
	sdsn := PostgresSchema(t)
	ctx := context.Background()
	db, err := store.Open(ctx, store.Postgres, sdsn)
	if err != nil {
		t.Fatalf("sceautest: open postgres schema: %v", err)
	}
	// Registered after the drop, so it runs before it: no connection holds
	// the schema when it is dropped.
	t.Cleanup(func() { db.Close() })
	if err := db.Migrate(ctx); err != nil {
		t.Fatalf("sceautest: migrate postgres schema: %v", err)
	}
	return db
}

// PostgresSchema creates a uniquely named, empty schema on the server that
// SCEAU_TEST_POSTGRES_DSN names and returns a DSN whose connections use it
// (search_path), for a test that writes it into an installation's
// database.dsn_file. The schema is dropped when the test ends; close what
// uses it in a cleanup registered after this call. The test is skipped
// when the variable is not set (it fails under SCEAU_TEST_REQUIRE_ALL=1).
func PostgresSchema(t testing.TB) string {
	t.Helper()
	dsn := os.Getenv(PostgresDSNEnv)
	if dsn == "" {
		Missing(t, "PostgreSQL", PostgresDSNEnv+" is not set")
	}
	ctx := context.Background()
	admin, err := store.Open(ctx, store.Postgres, dsn)
	if err != nil {
		t.Fatalf("sceautest: open postgres (%s): %v", PostgresDSNEnv, err)
	}
	t.Cleanup(func() { admin.Close() })

	schema := schemaName()
	if _, err := admin.ExecContext(ctx, `CREATE SCHEMA `+schema); err != nil {
		t.Fatalf("sceautest: create schema %s: %v", schema, err)
	}
	t.Cleanup(func() {
		// t.Context() is already cancelled when cleanups run.
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if _, err := admin.ExecContext(ctx, `DROP SCHEMA `+schema+` CASCADE`); err != nil {
			t.Errorf("sceautest: drop schema %s: %v", schema, err)
		}
	})
	sdsn, err := withSearchPath(dsn, schema)
	if err != nil {
		t.Fatalf("sceautest: %s: %v", PostgresDSNEnv, err)
	}
	return sdsn
}

// schemaName returns a fresh schema name; it needs no quoting.
func schemaName() string {
	var b [8]byte
	rand.Read(b[:])
	return "sceautest_" + hex.EncodeToString(b[:])
}

// withSearchPath returns dsn with search_path set to schema as a run-time
// parameter, for both the URL and the keyword/value forms of a DSN.
func withSearchPath(dsn, schema string) (string, error) {
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		u, err := url.Parse(dsn)
		if err != nil {
			return "", err
		}
		q := u.Query()
		q.Set("search_path", schema)
		u.RawQuery = q.Encode()
		return u.String(), nil
	}
	// Keyword/value form: a later keyword wins.
	return strings.TrimSpace(dsn) + " search_path=" + schema, nil
}
