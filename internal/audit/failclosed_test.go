package audit_test

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"testing"

	"github.com/sceau/sceau/internal/audit"
	"github.com/sceau/sceau/internal/sceau"
	"github.com/sceau/sceau/internal/sceautest"
	"github.com/sceau/sceau/internal/store"
)

// fullDB returns a SQLite database whose file cannot grow: a full disk as
// SQLite sees it. One connection, so the limit holds for every statement.
func fullDB(t *testing.T) *store.DB {
	t.Helper()
	ctx := t.Context()
	db := sceautest.OpenSQLite(t)
	appendEvents(t, db, 50, 50)
	db.SQL().SetMaxOpenConns(1)
	db.SQL().SetMaxIdleConns(1)
	var pages int64
	if err := db.QueryRowContext(ctx, `PRAGMA page_count`).Scan(&pages); err != nil {
		t.Fatal(err)
	}
	if _, err := db.ExecContext(ctx, `PRAGMA max_page_count = `+strconv.FormatInt(pages, 10)); err != nil {
		t.Fatal(err)
	}
	return db
}

// AUD-7: when the journal cannot be written durably (the database file is
// full), the operation is refused, says why, and leaves nothing behind:
// not its state change, not a partial event.
func TestAUD7_FullDatabaseRefusesTheOperation(t *testing.T) {
	ctx := t.Context()
	db := fullDB(t)
	j := audit.NewJournal(nil)
	before, _, _ := audit.Head(ctx, db)
	big := strings.Repeat("x", 64<<10)
	err := db.InTx(ctx, func(tx *store.Tx) error {
		// The state change fits in place: only its event needs room.
		if _, err := tx.ExecContext(ctx, `UPDATE audit_cursors SET seq = seq`); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO audit_cursors (name, seq, updated_at) VALUES ('state', 1, 'x')`); err != nil {
			return err
		}
		return j.Append(ctx, tx, audit.Event{Actor: sceau.System("test"), Action: audit.ActionCertificateRevoked,
			Object: "certificate:1", Details: map[string]string{"note": big}})
	})
	if err == nil {
		t.Fatal("the operation succeeded on a full database")
	}
	if !errors.Is(err, sceau.ErrUnavailable) || !strings.Contains(err.Error(), "full") {
		t.Errorf("refusal %v: want unavailable, saying the database is full", err)
	}
	t.Logf("refused: %v", err)
	var n int
	db.QueryRowContext(ctx, `SELECT COUNT(*) FROM audit_cursors WHERE name = 'state'`).Scan(&n)
	if after, _, _ := audit.Head(ctx, db); after != before || n != 0 {
		t.Errorf("head %d → %d, state rows %d: something of the refused operation stayed", before, after, n)
	}
	// An operator's entry is refused the same way.
	_, err = audit.RecordManual(ctx, db, j, audit.FileAccess, sceau.Actor{ID: "sam"}, "maintenance",
		map[string]string{"who": "sam", "system": "hsm", "description": big})
	if !errors.Is(err, sceau.ErrUnavailable) {
		t.Errorf("RecordManual on a full database: %v, want unavailable", err)
	}
	if res, err := audit.Verify(ctx, db); err != nil || !res.OK() {
		t.Errorf("the journal after the refusals: %+v, %v", res, err)
	}
}

// AUD-7: the journal's workers do not start when the start of logging
// cannot be recorded, and say why.
func TestAUD7_LoggingDoesNotStartOnAReadOnlyDatabase(t *testing.T) {
	ctx := context.Background()
	db := sceautest.OpenSQLite(t)
	signer := newSigner(t)
	j := audit.NewJournal(nil)
	checkpointer(t, db, j, signer)
	db.SQL().SetMaxOpenConns(1)
	db.SQL().SetMaxIdleConns(1)
	if _, err := db.ExecContext(ctx, `PRAGMA query_only = 1`); err != nil {
		t.Fatal(err)
	}
	svc, err := audit.Start(ctx, audit.Options{DB: db, Journal: j, Signer: signer, KeyLabel: "audit-signing"})
	if err == nil {
		svc.Stop()
		t.Fatal("logging started on a read-only database")
	}
	if !errors.Is(err, sceau.ErrUnavailable) || !strings.Contains(err.Error(), "read-only") {
		t.Errorf("Start = %v, want unavailable: read-only", err)
	}
}
