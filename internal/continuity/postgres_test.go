package continuity_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	"filippo.io/age"

	"github.com/sceau/sceau/internal/audit"
	"github.com/sceau/sceau/internal/continuity"
	"github.com/sceau/sceau/internal/sceau"
	"github.com/sceau/sceau/internal/sceautest"
	"github.com/sceau/sceau/internal/store"
)

// newDatabase creates an empty database on the server of
// SCEAU_TEST_POSTGRES_DSN and returns its DSN; it is dropped at the end.
func newDatabase(t *testing.T) string {
	t.Helper()
	dsn := os.Getenv(sceautest.PostgresDSNEnv)
	if dsn == "" {
		sceautest.Missing(t, "PostgreSQL", sceautest.PostgresDSNEnv+" is not set")
	}
	ctx := context.Background()
	admin, err := store.Open(ctx, store.Postgres, dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { admin.Close() })
	var b [6]byte
	rand.Read(b[:])
	name := "sceau_cont1_" + hex.EncodeToString(b[:])
	if _, err := admin.ExecContext(ctx, `CREATE DATABASE `+name); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if _, err := admin.ExecContext(ctx, `DROP DATABASE `+name+` WITH (FORCE)`); err != nil {
			t.Errorf("drop database %s: %v", name, err)
		}
	})
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatalf("%s must be a URL here: %v", sceautest.PostgresDSNEnv, err)
	}
	u.Path = "/" + name
	return u.String()
}

// TestCONT1_PostgresBackupRestoresIntoANewDatabase: a PostgreSQL
// installation is dumped from an exported snapshot while events are being
// appended, restored with pg_restore into a new database, and holds there
// the journal head the manifest states, with its chain and the key that
// signed the manifest (CONT-1).
func TestCONT1_PostgresBackupRestoresIntoANewDatabase(t *testing.T) {
	sceautest.LookPath(t, "pg_dump", "apt-get install postgresql-client (of the server's major version)")
	ctx := context.Background()
	dsnA, dsnB := newDatabase(t), newDatabase(t)
	dbA, err := store.Open(ctx, store.Postgres, dsnA)
	if err != nil {
		t.Fatal(err)
	}
	defer dbA.Close()
	if err := dbA.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	f := newFixture(t, dbA)
	f.opts.PostgresDSN = dsnA
	// Writers keep appending during the dump: the snapshot is one moment.
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		j := audit.NewJournal(nil)
		for {
			select {
			case <-stop:
				return
			default:
			}
			_ = dbA.InTx(ctx, func(tx *store.Tx) error {
				return j.Append(ctx, tx, audit.Event{Actor: sceau.System("test"), Action: "service.started", Object: "service:sceau"})
			})
		}
	}()
	res, err := continuity.Create(ctx, f.target, f.opts)
	close(stop)
	<-done
	if err != nil {
		t.Fatal(err)
	}
	if res.Manifest.Engine != "postgres" {
		t.Errorf("engine %s", res.Manifest.Engine)
	}
	o, err := continuity.Extract(ctx, f.target, res.Name, []age.Identity{f.id}, filepath.Join(t.TempDir(), "stage"))
	if err != nil {
		t.Fatal(err)
	}
	if err := continuity.RestorePostgres(ctx, o.DBPath(), dsnB); err != nil {
		t.Fatal(err)
	}
	dbB, err := store.Open(ctx, store.Postgres, dsnB)
	if err != nil {
		t.Fatal(err)
	}
	defer dbB.Close()
	if err := dbB.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	head, hash, err := audit.Head(ctx, dbB)
	if err != nil || head != res.Manifest.JournalSeq || hex.EncodeToString(hash) != res.Manifest.JournalHash {
		t.Errorf("restored head %d %x (%v), manifest says %d %s", head, hash, err, res.Manifest.JournalSeq, res.Manifest.JournalHash)
	}
	if err := continuity.Trusted(ctx, dbB, o.Signed); err != nil {
		t.Error(err)
	}
	if r, err := audit.Verify(ctx, dbB); err != nil || !r.OK() {
		t.Errorf("the restored journal: %+v %v", r, err)
	}
	// A second restore into the same, no longer empty, database is refused.
	if err := continuity.RestorePostgres(ctx, o.DBPath(), dsnB); err == nil {
		t.Error("pg_restore into a database that holds the installation passed")
	}
}
