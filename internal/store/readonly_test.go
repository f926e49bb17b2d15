package store_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/sceau/sceau/internal/sceau"
	"github.com/sceau/sceau/internal/sceautest"
	"github.com/sceau/sceau/internal/store"
)

// SYS-2: the store of a public-only node reads what the writer stored, at
// once, and the database itself refuses its writes: a write that slipped
// into the public side changes nothing, on both engines. On SQLite it
// never takes the write lock, so the writer is not held up by it.
func TestSYS2_ReadOnlyStoreReadsAndTheDatabaseRefusesItsWrites(t *testing.T) {
	ctx := context.Background()
	engines := map[store.Engine]func(t *testing.T) string{
		store.SQLite:   func(t *testing.T) string { return filepath.Join(t.TempDir(), "sceau.db") },
		store.Postgres: func(t *testing.T) string { return sceautest.PostgresSchema(t) },
	}
	for _, engine := range []store.Engine{store.SQLite, store.Postgres} {
		t.Run(string(engine), func(t *testing.T) {
			dsn := engines[engine](t)
			w, err := store.Open(ctx, engine, dsn)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { w.Close() })
			if err := w.Migrate(ctx); err != nil {
				t.Fatal(err)
			}
			createItems(t, w)
			r, err := store.OpenReadOnly(ctx, engine, dsn)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { r.Close() })
			if !r.ReadOnly() || w.ReadOnly() {
				t.Fatalf("ReadOnly: %v for the read-only store, %v for the writer", r.ReadOnly(), w.ReadOnly())
			}
			if pending, err := r.PendingMigrations(ctx); err != nil || len(pending) != 0 {
				t.Fatalf("the read-only store sees pending migrations %v, %v", pending, err)
			}
			// The reader holds a transaction open while the writer commits:
			// the writer is not blocked, and the reader sees the row at once.
			err = r.InTx(ctx, func(rtx *store.Tx) error {
				if n := countItems(t, rtx, "a"); n != 0 {
					t.Errorf("before the write: %d rows", n)
				}
				return w.InTx(ctx, func(tx *store.Tx) error { return insertItem(ctx, tx, "a", 1) })
			})
			if err != nil {
				t.Fatalf("a write while the read-only store reads: %v", err)
			}
			if n := countItems(t, r, "a"); n != 1 {
				t.Errorf("the read-only store sees %d rows of the committed write, want 1", n)
			}
			err = r.InTx(ctx, func(tx *store.Tx) error { return insertItem(ctx, tx, "b", 2) })
			if err == nil || sceau.KindOf(err) != sceau.Unavailable {
				t.Fatalf("a write through the read-only store: %v, want the database's refusal (unavailable)", err)
			}
			if _, err := r.ExecContext(ctx, `DELETE FROM items`); err == nil {
				t.Fatal("a DELETE outside a transaction passed the read-only store")
			}
			if n := countItems(t, w, "a"); n != 1 {
				t.Errorf("after the refused writes the writer sees %d rows, want 1", n)
			}
		})
	}
	t.Run("missing", func(t *testing.T) {
		_, err := store.OpenReadOnly(ctx, store.SQLite, filepath.Join(t.TempDir(), "none.db"))
		if sceau.KindOf(err) != sceau.NotFound {
			t.Fatalf("a read-only open of a database that does not exist: %v, want not found", err)
		}
	})
}
