package store_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/sceau/sceau/internal/audit"
	"github.com/sceau/sceau/internal/sceau"
	"github.com/sceau/sceau/internal/sceautest"
	"github.com/sceau/sceau/internal/store"
)

// The store conformance suite: every test runs on SQLite, and on PostgreSQL
// when SCEAU_TEST_POSTGRES_DSN is set (see sceautest.ForEachEngine).

var testActor = sceau.Actor{ID: "tester", Role: "operator"}

// createItems creates a scratch table for the tests that need one outside the
// domain schema.
func createItems(t *testing.T, db *store.DB) {
	t.Helper()
	if _, err := db.ExecContext(t.Context(), `CREATE TABLE items (
		id   TEXT PRIMARY KEY,
		n    INTEGER NOT NULL,
		note TEXT NOT NULL,
		at   TEXT NOT NULL)`); err != nil {
		t.Fatalf("create items: %v", err)
	}
}

func insertItem(ctx context.Context, q store.Querier, id string, n int) error {
	_, err := q.ExecContext(ctx, `INSERT INTO items (id, n, note, at) VALUES (?, ?, ?, ?)`,
		id, n, "note of "+id, store.FormatTime(time.Unix(int64(n), 0)))
	return store.Classify("test: insert item", err)
}

func countItems(t *testing.T, q store.Querier, id string) int {
	t.Helper()
	var n int
	if err := q.QueryRowContext(t.Context(), `SELECT COUNT(*) FROM items WHERE id = ?`, id).Scan(&n); err != nil {
		t.Fatalf("count items: %v", err)
	}
	return n
}

// insertCA writes a row into cas, the state change of the AUD-7 tests.
func insertCA(ctx context.Context, q store.Querier, id string) error {
	now := store.FormatTime(time.Now())
	_, err := q.ExecContext(ctx, `INSERT INTO cas (id, subject, key_ref, cert_der, not_before, not_after, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?)`, id, "CN="+id, "key:"+id, []byte{0x30, 0x00}, now, now, now)
	return store.Classify("test: insert ca", err)
}

func countCAs(t *testing.T, q store.Querier, id string) int {
	t.Helper()
	var n int
	if err := q.QueryRowContext(t.Context(), `SELECT COUNT(*) FROM cas WHERE id = ?`, id).Scan(&n); err != nil {
		t.Fatalf("count cas: %v", err)
	}
	return n
}

func countEvents(t *testing.T, q store.Querier) int64 {
	t.Helper()
	var n int64
	if err := q.QueryRowContext(t.Context(), `SELECT COUNT(*) FROM audit_events`).Scan(&n); err != nil {
		t.Fatalf("count audit events: %v", err)
	}
	return n
}

func migrationCount(t *testing.T, engine store.Engine) int {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("migrations", string(engine), "*.sql"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no migration files for %s (%v)", engine, err)
	}
	return len(files)
}

func TestMigrateIsIdempotent(t *testing.T) {
	sceautest.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		ctx := t.Context()
		want := migrationCount(t, db.Engine())
		for i := range 2 {
			if err := db.Migrate(ctx); err != nil {
				t.Fatalf("Migrate again (%d): %v", i+1, err)
			}
			got, err := db.Version(ctx)
			if err != nil {
				t.Fatalf("Version: %v", err)
			}
			if got != want {
				t.Errorf("Version = %d, want %d (the number of migration files)", got, want)
			}
		}
		var applied int
		if err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM schema_migrations`).Scan(&applied); err != nil {
			t.Fatal(err)
		}
		if applied != want {
			t.Errorf("schema_migrations has %d rows, want %d", applied, want)
		}
	})
}

func TestInTxCommitsOrRollsBack(t *testing.T) {
	sceautest.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		ctx := t.Context()
		createItems(t, db)

		if err := db.InTx(ctx, func(tx *store.Tx) error { return insertItem(ctx, tx, "kept", 1) }); err != nil {
			t.Fatalf("InTx: %v", err)
		}
		if n := countItems(t, db, "kept"); n != 1 {
			t.Errorf("after a committed transaction: %d rows, want 1", n)
		}

		boom := errors.New("boom")
		err := db.InTx(ctx, func(tx *store.Tx) error {
			if err := insertItem(ctx, tx, "lost", 2); err != nil {
				return err
			}
			if n := countItems(t, tx, "lost"); n != 1 {
				t.Errorf("inside the transaction: %d rows, want 1", n)
			}
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatalf("InTx = %v, want the error of fn", err)
		}
		if n := countItems(t, db, "lost"); n != 0 {
			t.Errorf("after a failed transaction: %d rows, want 0", n)
		}
	})
}

func TestDuplicateKeyIsConflict(t *testing.T) {
	sceautest.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		ctx := t.Context()
		createItems(t, db)
		if err := insertItem(ctx, db, "a", 1); err != nil {
			t.Fatal(err)
		}

		err := insertItem(ctx, db, "a", 2)
		if !errors.Is(err, sceau.ErrConflict) || sceau.KindOf(err) != sceau.Conflict {
			t.Errorf("duplicate key outside a transaction: %v (kind %v), want a conflict", err, sceau.KindOf(err))
		}

		err = db.InTx(ctx, func(tx *store.Tx) error { return insertItem(ctx, tx, "a", 3) })
		if !errors.Is(err, sceau.ErrConflict) {
			t.Errorf("duplicate key in a transaction: %v (kind %v), want a conflict", err, sceau.KindOf(err))
		}

		// A NOT NULL violation is a refused change, not a conflict.
		_, err = db.ExecContext(ctx, `INSERT INTO items (id, n, note, at) VALUES (?, ?, NULL, ?)`, "b", 1, "x")
		if err = store.Classify("test", err); sceau.KindOf(err) != sceau.Invalid {
			t.Errorf("NOT NULL violation: %v (kind %v), want invalid", err, sceau.KindOf(err))
		}

		err = store.Classify("test", db.QueryRowContext(ctx, `SELECT n FROM items WHERE id = ?`, "nobody").Scan(new(int)))
		if !errors.Is(err, sceau.ErrNotFound) {
			t.Errorf("missing row: %v (kind %v), want not found", err, sceau.KindOf(err))
		}
	})
}

func TestPlaceholdersRebind(t *testing.T) {
	sceautest.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		ctx := t.Context()
		createItems(t, db)
		err := db.InTx(ctx, func(tx *store.Tx) error {
			for i := range 10 {
				if err := insertItem(ctx, tx, fmt.Sprintf("i%02d", i), i); err != nil {
					return err
				}
			}
			// Five placeholders, and a '?' inside a string literal that must
			// stay as it is.
			_, err := tx.ExecContext(ctx, `INSERT INTO items (id, n, note, at) VALUES (?, ?, 'what?', ?)`,
				"q", 100, store.FormatTime(time.Unix(100, 0)))
			return err
		})
		if err != nil {
			t.Fatalf("insert: %v", err)
		}

		for _, q := range []store.Querier{db, txQuerier(t, db)} {
			rows, err := q.QueryContext(ctx, `SELECT id FROM items
				WHERE n >= ? AND n <= ? AND id <> ? AND note <> ? AND note <> '?' ORDER BY n`,
				2, 7, "i04", "note of i06")
			if err != nil {
				t.Fatalf("query: %v", err)
			}
			var got []string
			for rows.Next() {
				var id string
				if err := rows.Scan(&id); err != nil {
					t.Fatal(err)
				}
				got = append(got, id)
			}
			if err := rows.Err(); err != nil {
				t.Fatal(err)
			}
			rows.Close()
			if diff := cmp.Diff([]string{"i02", "i03", "i05", "i07"}, got); diff != "" {
				t.Errorf("rows (-want +got):\n%s", diff)
			}
		}

		var note string
		if err := db.QueryRowContext(ctx, `SELECT note FROM items WHERE id = ? AND n = ?`, "q", 100).Scan(&note); err != nil {
			t.Fatal(err)
		}
		if note != "what?" {
			t.Errorf("note = %q, want %q", note, "what?")
		}
	})
}

// txQuerier returns an open transaction's Tx as a Querier; the transaction is
// rolled back when the test ends.
func txQuerier(t *testing.T, db *store.DB) store.Querier {
	t.Helper()
	ready := make(chan *store.Tx)
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		_ = db.InTx(context.Background(), func(tx *store.Tx) error {
			ready <- tx
			<-done
			return errors.New("rolled back on purpose")
		})
	}()
	tx := <-ready
	t.Cleanup(func() { close(done); <-finished })
	return tx
}

func TestTimesRoundTripAndSortAsText(t *testing.T) {
	paris, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		paris = time.FixedZone("CET", 3600)
	}
	base := time.Date(2026, 3, 29, 0, 59, 59, 999_999_999, time.UTC)
	times := []time.Time{
		base,
		base.Add(time.Nanosecond),
		base.Add(-time.Nanosecond),
		base.In(paris).Add(time.Hour),
		time.Date(2000, 1, 1, 0, 0, 0, 0, time.FixedZone("UTC-11", -11*3600)),
		time.Date(1999, 12, 31, 23, 59, 59, 1, time.UTC),
		time.Date(2036, 12, 31, 23, 59, 59, 0, time.UTC),
		time.Date(2026, 11, 2, 9, 30, 0, 123_000, paris),
	}
	for _, tm := range times {
		s := store.FormatTime(tm)
		back, err := store.ParseTime(s)
		if err != nil {
			t.Fatalf("ParseTime(%q): %v", s, err)
		}
		if !back.Equal(tm) || back.Location() != time.UTC {
			t.Errorf("ParseTime(FormatTime(%v)) = %v, want the same instant in UTC", tm, back)
		}
		if len(s) != len(store.FormatTime(base)) {
			t.Errorf("FormatTime(%v) = %q is not fixed width", tm, s)
		}
	}
	if _, err := store.ParseTime("2026-01-02 03:04:05"); err == nil {
		t.Error("ParseTime accepted a time not written by FormatTime")
	}

	sceautest.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		ctx := t.Context()
		createItems(t, db)
		for i, tm := range times {
			if _, err := db.ExecContext(ctx, `INSERT INTO items (id, n, note, at) VALUES (?, ?, ?, ?)`,
				fmt.Sprint(i), i, "", store.FormatTime(tm)); err != nil {
				t.Fatal(err)
			}
		}
		want := slices.Clone(times)
		slices.SortFunc(want, func(a, b time.Time) int { return a.Compare(b) })

		rows, err := db.QueryContext(ctx, `SELECT at FROM items ORDER BY at`)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var got []time.Time
		for rows.Next() {
			var s string
			if err := rows.Scan(&s); err != nil {
				t.Fatal(err)
			}
			tm, err := store.ParseTime(s)
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, tm)
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(want, got, cmp.Comparer(time.Time.Equal)); diff != "" {
			t.Errorf("ORDER BY at (-want +got):\n%s", diff)
		}

		// Comparisons on the text agree with time order too.
		var before int
		if err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM items WHERE at < ?`, store.FormatTime(base)).Scan(&before); err != nil {
			t.Fatal(err)
		}
		wantBefore := 0
		for _, tm := range times {
			if tm.Before(base) {
				wantBefore++
			}
		}
		if before != wantBefore {
			t.Errorf("%d stored times sort before %v, want %d", before, base, wantBefore)
		}
	})
}

// AUD-2: the database itself refuses to change or remove a journal event.
func TestAUD2_JournalTableIsAppendOnly(t *testing.T) {
	sceautest.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		ctx := t.Context()
		j := audit.NewJournal(nil)
		err := db.InTx(ctx, func(tx *store.Tx) error {
			return j.Append(ctx, tx,
				audit.Event{Actor: testActor, Action: "test.first", Object: "test:1", Details: map[string]int{"n": 1}},
				audit.Event{Actor: testActor, Action: "test.second", Object: "test:2"})
		})
		if err != nil {
			t.Fatalf("Append: %v", err)
		}
		before, err := audit.Read(ctx, db, 0, 10)
		if err != nil {
			t.Fatal(err)
		}

		attempts := []struct {
			name string
			sql  string
		}{
			{"update details", `UPDATE audit_events SET details = '{"n":2}' WHERE seq = 1`},
			{"update every row", `UPDATE audit_events SET actor = 'mallory'`},
			{"delete one", `DELETE FROM audit_events WHERE seq = 2`},
			{"delete all", `DELETE FROM audit_events`},
		}
		if db.Engine() == store.Postgres {
			attempts = append(attempts, struct{ name, sql string }{"truncate", `TRUNCATE audit_events`})
		}
		for _, a := range attempts {
			t.Run(a.name, func(t *testing.T) {
				_, err := db.ExecContext(ctx, a.sql)
				if err == nil {
					t.Fatalf("%s: the database accepted it", a.sql)
				}
				if !strings.Contains(err.Error(), "append-only") {
					t.Errorf("%s: %v, want the trigger's refusal", a.sql, err)
				}
				// Inside a transaction too.
				err = db.InTx(ctx, func(tx *store.Tx) error {
					_, err := tx.ExecContext(ctx, a.sql)
					return err
				})
				if err == nil {
					t.Fatalf("%s in a transaction: the database accepted it", a.sql)
				}
				after, err := audit.Read(ctx, db, 0, 10)
				if err != nil {
					t.Fatal(err)
				}
				if diff := cmp.Diff(before, after); diff != "" {
					t.Errorf("journal changed (-before +after):\n%s", diff)
				}
			})
		}

		res, err := audit.Verify(ctx, db)
		if err != nil {
			t.Fatal(err)
		}
		if res.BrokenAt != 0 || res.Events != 2 {
			t.Errorf("Verify = %+v, want 2 events and no break", res)
		}
	})
}

// AUD-7: concurrent transactions append to one unbroken chain.
func TestAUD7_ConcurrentAppendsKeepOneChain(t *testing.T) {
	const (
		workers = 8
		txs     = 20 // per worker
	)
	sceautest.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		ctx := t.Context()
		j := audit.NewJournal(nil)
		var (
			wg   sync.WaitGroup
			mu   sync.Mutex
			errs []error
		)
		var total int64
		for w := range workers {
			for i := range txs {
				total += int64(1 + (w+i)%3)
			}
		}
		for w := range workers {
			wg.Go(func() {
				actor := sceau.Actor{ID: fmt.Sprintf("worker-%d", w), Role: "operator"}
				for i := range txs {
					n := 1 + (w+i)%3
					err := db.InTx(ctx, func(tx *store.Tx) error {
						evs := make([]audit.Event, n)
						for k := range evs {
							evs[k] = audit.Event{Actor: actor, Action: "test.appended",
								Object: fmt.Sprintf("test:%d-%d-%d", w, i, k), Details: map[string]int{"w": w, "i": i, "k": k}}
						}
						return j.Append(ctx, tx, evs...)
					})
					if err != nil {
						mu.Lock()
						errs = append(errs, fmt.Errorf("worker %d, transaction %d: %w", w, i, err))
						mu.Unlock()
					}
				}
			})
		}
		wg.Wait()
		for _, err := range errs {
			t.Error(err)
		}

		res, err := audit.Verify(ctx, db)
		if err != nil {
			t.Fatalf("Verify: %v", err)
		}
		if res.BrokenAt != 0 {
			t.Fatalf("chain broken at %d: %s", res.BrokenAt, res.Reason)
		}
		if res.Events != total || res.HeadSeq != total {
			t.Errorf("Verify = %d events, head %d; want %d", res.Events, res.HeadSeq, total)
		}
	})
}

// AUD-7: a state change whose audit event cannot be written does not happen.
func TestAUD7_StateChangeRollsBackWithFailedAuditEvent(t *testing.T) {
	tests := []struct {
		name    string
		event   audit.Event
		wantErr bool
	}{
		{"valid event commits both", audit.Event{Actor: testActor, Action: "ca.created", Object: "ca:x"}, false},
		{"event without action", audit.Event{Actor: testActor, Object: "ca:x"}, true},
		{"event without actor", audit.Event{Action: "ca.created", Object: "ca:x"}, true},
		{"details that cannot be encoded", audit.Event{Actor: testActor, Action: "ca.created", Object: "ca:x",
			Details: map[string]any{"f": func() {}}}, true},
	}
	sceautest.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		j := audit.NewJournal(nil)
		var wantEvents int64
		for i, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				ctx := t.Context()
				id := fmt.Sprintf("ca-%d", i)
				err := db.InTx(ctx, func(tx *store.Tx) error {
					if err := insertCA(ctx, tx, id); err != nil {
						return err
					}
					ok := audit.Event{Actor: testActor, Action: "test.before", Object: "ca:" + id}
					return j.Append(ctx, tx, ok, tc.event)
				})
				if tc.wantErr != (err != nil) {
					t.Fatalf("InTx = %v, want error %v", err, tc.wantErr)
				}
				wantCAs := 1
				if tc.wantErr {
					wantCAs = 0
				} else {
					wantEvents += 2
				}
				if n := countCAs(t, db, id); n != wantCAs {
					t.Errorf("cas rows for %s = %d, want %d", id, n, wantCAs)
				}
				if n := countEvents(t, db); n != wantEvents {
					t.Errorf("audit events = %d, want %d", n, wantEvents)
				}
				res, err := audit.Verify(ctx, db)
				if err != nil {
					t.Fatal(err)
				}
				if res.BrokenAt != 0 || res.Events != wantEvents {
					t.Errorf("Verify = %+v, want %d events and no break", res, wantEvents)
				}
			})
		}
	})
}

// AUD-7: a database that cannot be written refuses the operation and keeps
// nothing of it.
func TestAUD7_ReadOnlyDatabaseRefusesOperation(t *testing.T) {
	op := func(ctx context.Context, db *store.DB) error {
		return db.InTx(ctx, func(tx *store.Tx) error {
			if err := insertCA(ctx, tx, "ro"); err != nil {
				return err
			}
			return audit.NewJournal(nil).Append(ctx, tx,
				audit.Event{Actor: testActor, Action: "ca.created", Object: "ca:ro"})
		})
	}
	check := func(t *testing.T, err error, db *store.DB) {
		t.Helper()
		if err == nil {
			t.Fatal("the operation succeeded on a read-only database")
		}
		t.Logf("refused: %v", err)
		if k := sceau.KindOf(err); k != sceau.Unavailable {
			t.Errorf("error %v is of kind %v, want unavailable", err, k)
		}
		if n := countCAs(t, db, "ro"); n != 0 {
			t.Errorf("cas rows = %d, want 0", n)
		}
		if n := countEvents(t, db); n != 0 {
			t.Errorf("audit events = %d, want 0", n)
		}
	}

	t.Run("query_only", func(t *testing.T) {
		ctx := t.Context()
		db := sceautest.OpenSQLite(t)
		// One connection, so the pragma holds for every statement.
		db.SQL().SetMaxOpenConns(1)
		db.SQL().SetMaxIdleConns(1)
		if _, err := db.ExecContext(ctx, `PRAGMA query_only = 1`); err != nil {
			t.Fatal(err)
		}
		check(t, op(ctx, db), db)
	})

	t.Run("file permissions", func(t *testing.T) {
		if os.Geteuid() == 0 {
			t.Skip("root writes to read-only files; the query_only case covers it")
		}
		ctx := t.Context()
		dir := t.TempDir()
		path := filepath.Join(dir, "sceau.db")
		db, err := store.Open(ctx, store.SQLite, path)
		if err != nil {
			t.Fatal(err)
		}
		if err := db.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
		if err := db.Close(); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(path, 0o400); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(dir, 0o500); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { os.Chmod(dir, 0o700); os.Chmod(path, 0o600) })

		db, err = store.Open(ctx, store.SQLite, path)
		if err == nil {
			defer db.Close()
			err = op(ctx, db)
		}
		if err == nil {
			t.Fatal("the operation succeeded on a read-only database file")
		}
		t.Logf("refused: %v", err)
		if k := sceau.KindOf(err); k != sceau.Unavailable {
			t.Errorf("error %v is of kind %v, want unavailable", err, k)
		}

		// Nothing was written: reopen writable and look.
		os.Chmod(dir, 0o700)
		os.Chmod(path, 0o600)
		db, err = store.Open(ctx, store.SQLite, path)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		if n := countCAs(t, db, "ro"); n != 0 {
			t.Errorf("cas rows = %d, want 0", n)
		}
		if n := countEvents(t, db); n != 0 {
			t.Errorf("audit events = %d, want 0", n)
		}
	})
}
