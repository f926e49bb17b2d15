package store_test

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/sceau/sceau/internal/audit"
	"github.com/sceau/sceau/internal/sceau"
	"github.com/sceau/sceau/internal/sceautest"
	"github.com/sceau/sceau/internal/store"
)

// Many concurrent operations share transactions; each keeps its own
// outcome, and each event commits with its own state change (AUD-7).
func TestAUD7_GroupCommitKeepsEachOperationsOutcomeAndEvent(t *testing.T) {
	sceautest.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		j := audit.NewJournal(nil)
		g := store.NewGroupCommitter(db, 32, 0)
		defer g.Close()
		appendAll := func(ctx context.Context, tx *store.Tx, evs []audit.Event) error { return j.Append(ctx, tx, evs...) }
		const n = 200
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := 0; i < n; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				id := fmt.Sprintf("ca-%03d", i)
				if i%50 == 7 {
					id = "ca-dup" // every such operation after the first conflicts
				}
				errs[i] = store.DoThen(g, ctx, "test", func(ctx context.Context, tx *store.Tx) (audit.Event, error) {
					_, err := tx.ExecContext(ctx, `INSERT INTO cas (id, subject, key_ref, cert_der, not_before, not_after, created_at)
						VALUES (?, 'CN=x', 'k', ?, 'a', 'b', 'c')`, id, []byte{1})
					return audit.Event{Actor: sceau.System("test"), Action: "ca.created", Object: "ca:" + id}, store.Classify("insert", err)
				}, appendAll)
			}()
		}
		wg.Wait()
		failed := 0
		for _, err := range errs {
			if err != nil {
				if sceau.KindOf(err) != sceau.Conflict {
					t.Fatalf("unexpected error: %v", err)
				}
				failed++
			}
		}
		if failed != 3 {
			t.Fatalf("%d operations failed, want the 3 duplicates", failed)
		}
		var rows, events int
		db.QueryRowContext(ctx, `SELECT COUNT(*) FROM cas`).Scan(&rows)
		db.QueryRowContext(ctx, `SELECT COUNT(*) FROM audit_events WHERE action = 'ca.created'`).Scan(&events)
		if rows != n-3 || events != rows {
			t.Fatalf("%d rows and %d events, want %d of each", rows, events, n-3)
		}
		if res, err := audit.Verify(ctx, db); err != nil || res.BrokenAt != 0 {
			t.Fatalf("chain: %+v %v", res, err)
		}
	})
}
