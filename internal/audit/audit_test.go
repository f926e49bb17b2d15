package audit_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/sceau/sceau/internal/audit"
	"github.com/sceau/sceau/internal/sceau"
	"github.com/sceau/sceau/internal/sceautest"
	"github.com/sceau/sceau/internal/store"
)

type fixedClock time.Time

func (c fixedClock) Now() time.Time { return time.Time(c) }

var (
	testTime  = time.Date(2026, 5, 4, 3, 2, 1, 123456789, time.FixedZone("CEST", 2*3600))
	testActor = sceau.Actor{ID: "alice", Role: "operator"}
)

// appendEvents appends n numbered events, batch per transaction.
func appendEvents(t *testing.T, db *store.DB, n, batch int) {
	t.Helper()
	ctx := t.Context()
	j := audit.NewJournal(fixedClock(testTime))
	for start := 0; start < n; start += batch {
		end := min(start+batch, n)
		evs := make([]audit.Event, 0, end-start)
		for i := start; i < end; i++ {
			evs = append(evs, audit.Event{Actor: testActor, Action: "test.appended",
				Object: fmt.Sprintf("test:%d", i+1), Details: map[string]int{"i": i + 1}})
		}
		if err := db.InTx(ctx, func(tx *store.Tx) error { return j.Append(ctx, tx, evs...) }); err != nil {
			t.Fatalf("Append: %v", err)
		}
	}
}

func verify(t *testing.T, q store.Querier) audit.VerifyResult {
	t.Helper()
	res, err := audit.Verify(t.Context(), q)
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	return res
}

// AUD-2: an untouched journal verifies whole.
func TestAUD2_VerifyAcceptsUntouchedJournal(t *testing.T) {
	const n = 1000
	sceautest.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		if res := verify(t, db); res.BrokenAt != 0 || res.Events != 0 || res.HeadSeq != 0 {
			t.Errorf("empty journal: Verify = %+v, want no events and no break", res)
		}
		appendEvents(t, db, n, 37)
		res := verify(t, db)
		if res.BrokenAt != 0 {
			t.Fatalf("chain broken at %d: %s", res.BrokenAt, res.Reason)
		}
		if res.Events != n || res.HeadSeq != n {
			t.Errorf("Verify = %d events, head %d; want %d", res.Events, res.HeadSeq, n)
		}
		recs, err := audit.Read(t.Context(), db, n-1, 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(recs) != 1 || !cmp.Equal(recs[0].Hash, res.HeadHash) {
			t.Errorf("HeadHash %x is not the last event's hash", res.HeadHash)
		}
	})
}

// AUD-2: what is appended reads back as it was written, on both engines.
func TestAUD2_AppendReadVerifyRoundTrip(t *testing.T) {
	type details struct {
		Serial string   `json:"serial"`
		Names  []string `json:"names"`
	}
	events := []audit.Event{
		{Actor: testActor, Action: "certificate.issued", Object: "certificate:5f2a",
			Details: details{Serial: "5f2a", Names: []string{"é.example", "b.example"}}},
		{Actor: sceau.System("scheduler"), Action: "crl.published", Object: "ca:issuing"},
		{Actor: testActor, Action: "note.added", Object: "note:1", Details: "quote \" and newline \n"},
	}
	want := []audit.Record{
		{Seq: 1, Actor: "alice", Role: "operator", Action: "certificate.issued", Object: "certificate:5f2a",
			Details: `{"serial":"5f2a","names":["é.example","b.example"]}`},
		{Seq: 2, Actor: "system:scheduler", Role: "", Action: "crl.published", Object: "ca:issuing", Details: `{}`},
		{Seq: 3, Actor: "alice", Role: "operator", Action: "note.added", Object: "note:1",
			Details: `"quote \" and newline \n"`},
	}
	sceautest.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		ctx := t.Context()
		j := audit.NewJournal(fixedClock(testTime))
		if err := db.InTx(ctx, func(tx *store.Tx) error { return j.Append(ctx, tx, events[:2]...) }); err != nil {
			t.Fatal(err)
		}
		if err := db.InTx(ctx, func(tx *store.Tx) error { return j.Append(ctx, tx, events[2:]...) }); err != nil {
			t.Fatal(err)
		}
		// Appending nothing changes nothing.
		if err := db.InTx(ctx, func(tx *store.Tx) error { return j.Append(ctx, tx) }); err != nil {
			t.Fatal(err)
		}

		got, err := audit.Read(ctx, db, 0, 100)
		if err != nil {
			t.Fatal(err)
		}
		prev := make([]byte, 32)
		for i := range got {
			r := &got[i]
			if r.At != store.FormatTime(testTime) {
				t.Errorf("event %d: At = %q, want %q", r.Seq, r.At, store.FormatTime(testTime))
			}
			if !cmp.Equal(r.PrevHash, prev) || !cmp.Equal(r.Hash, r.ComputeHash()) {
				t.Errorf("event %d does not chain", r.Seq)
			}
			prev = r.Hash
		}
		ignore := cmp.FilterPath(func(p cmp.Path) bool {
			switch p.Last().String() {
			case ".At", ".PrevHash", ".Hash":
				return true
			}
			return false
		}, cmp.Ignore())
		if diff := cmp.Diff(want, got, ignore); diff != "" {
			t.Errorf("Read (-want +got):\n%s", diff)
		}

		got, err = audit.Read(ctx, db, 1, 1)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 1 || got[0].Seq != 2 {
			t.Errorf("Read(after 1, limit 1) = %+v, want event 2", got)
		}

		if res := verify(t, db); res.BrokenAt != 0 || res.Events != 3 || res.HeadSeq != 3 {
			t.Errorf("Verify = %+v, want 3 events and no break", res)
		}
	})
}

// TestAUD2_ComputeHashCoversEveryField changes each field in turn: every
// change must change the hash, and so must moving bytes between fields.
func TestAUD2_ComputeHashCoversEveryField(t *testing.T) {
	base := audit.Record{Seq: 7, At: "2026-01-01T00:00:00.000000000Z", Actor: "alice", Role: "operator",
		Action: "a.b", Object: "o:1", Details: "{}", PrevHash: make([]byte, 32)}
	h := base.ComputeHash()
	edits := map[string]func(r *audit.Record){
		"seq":        func(r *audit.Record) { r.Seq = 8 },
		"at":         func(r *audit.Record) { r.At = "2026-01-01T00:00:00.000000001Z" },
		"actor":      func(r *audit.Record) { r.Actor = "mallory" },
		"role":       func(r *audit.Record) { r.Role = "auditor" },
		"action":     func(r *audit.Record) { r.Action = "a.c" },
		"object":     func(r *audit.Record) { r.Object = "o:2" },
		"details":    func(r *audit.Record) { r.Details = `{"x":1}` },
		"prev hash":  func(r *audit.Record) { r.PrevHash = append(make([]byte, 31), 1) },
		"boundaries": func(r *audit.Record) { r.Actor, r.Role = "aliceo", "perator" },
	}
	for name, edit := range edits {
		r := base
		r.PrevHash = append([]byte(nil), base.PrevHash...)
		edit(&r)
		if cmp.Equal(r.ComputeHash(), h) {
			t.Errorf("changing %s leaves the hash unchanged", name)
		}
	}
}

// tamperedDB returns a SQLite journal of n events with the append-only
// triggers dropped, as an attacker with write access to the file could.
// The triggers differ on PostgreSQL, so tampering is tested on SQLite.
func tamperedDB(t *testing.T, n int) *store.DB {
	t.Helper()
	db := sceautest.OpenSQLite(t)
	appendEvents(t, db, n, 50)
	for _, trg := range []string{"audit_events_no_update", "audit_events_no_delete"} {
		if _, err := db.ExecContext(t.Context(), `DROP TRIGGER `+trg); err != nil {
			t.Fatalf("drop %s: %v", trg, err)
		}
	}
	return db
}

// rehash recomputes the stored hash of event seq from its stored fields, as
// an attacker who knows the scheme would after editing it.
func rehash(ctx context.Context, db *store.DB, seq int64) error {
	recs, err := audit.Read(ctx, db, seq-1, 1)
	if err != nil {
		return err
	}
	if len(recs) != 1 || recs[0].Seq != seq {
		return fmt.Errorf("event %d not found", seq)
	}
	_, err = db.ExecContext(ctx, `UPDATE audit_events SET hash = ? WHERE seq = ?`, recs[0].ComputeHash(), seq)
	return err
}

// AUD-2: editing an event is found at that event, or, when its hash was
// recomputed, at the next one.
func TestAUD2_VerifyFindsEditedEvent(t *testing.T) {
	const n = 1000
	tests := []struct {
		name   string
		tamper []string // SQL statements
		rehash int64    // then recompute this event's hash, if not 0
		want   int64
		reason string
	}{
		{"details", []string{`UPDATE audit_events SET details = '{"i":999999}' WHERE seq = 417`}, 0, 417, "hash"},
		{"actor", []string{`UPDATE audit_events SET actor = 'mallory' WHERE seq = 1`}, 0, 1, "hash"},
		{"time", []string{`UPDATE audit_events SET at = '2020-01-01T00:00:00.000000000Z' WHERE seq = 999`}, 0, 999, "hash"},
		{"prev hash", []string{`UPDATE audit_events SET prev_hash = X'00' WHERE seq = 2`}, 0, 2, "chain"},
		{"details with its hash recomputed",
			[]string{`UPDATE audit_events SET details = '{"i":999999}' WHERE seq = 417`}, 417, 418, "chain"},
		{"last event with its hash recomputed",
			[]string{`UPDATE audit_events SET details = '{}' WHERE seq = 1000`}, 1000, 1001, "head"},
		{"two events swapped", []string{
			`UPDATE audit_events SET seq = -1 WHERE seq = 10`,
			`UPDATE audit_events SET seq = 10 WHERE seq = 11`,
			`UPDATE audit_events SET seq = 11 WHERE seq = -1`}, 0, 10, "chain"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx := t.Context()
			db := tamperedDB(t, n)
			for _, s := range tc.tamper {
				if _, err := db.ExecContext(ctx, s); err != nil {
					t.Fatalf("%s: %v", s, err)
				}
			}
			if tc.rehash != 0 {
				if err := rehash(ctx, db, tc.rehash); err != nil {
					t.Fatal(err)
				}
			}
			res := verify(t, db)
			if res.BrokenAt != tc.want {
				t.Errorf("Verify = %+v, want the break at %d", res, tc.want)
			}
			if !strings.Contains(res.Reason, tc.reason) {
				t.Errorf("reason %q does not mention %q", res.Reason, tc.reason)
			}
		})
	}
}

// AUD-2: removing an event is found where the gap is.
func TestAUD2_VerifyFindsDeletedEvent(t *testing.T) {
	const n = 1000
	tests := []struct {
		name   string
		delete string
		want   int64
		reason string
	}{
		{"first", `DELETE FROM audit_events WHERE seq = 1`, 1, "missing"},
		{"middle", `DELETE FROM audit_events WHERE seq = 500`, 500, "missing"},
		{"a range", `DELETE FROM audit_events WHERE seq BETWEEN 600 AND 650`, 600, "missing"},
		{"last", `DELETE FROM audit_events WHERE seq = 1000`, 1000, "head"},
		{"everything", `DELETE FROM audit_events`, 1, "head"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			db := tamperedDB(t, n)
			if _, err := db.ExecContext(t.Context(), tc.delete); err != nil {
				t.Fatal(err)
			}
			res := verify(t, db)
			if res.BrokenAt != tc.want {
				t.Errorf("Verify = %+v, want the break at %d", res, tc.want)
			}
			if !strings.Contains(res.Reason, tc.reason) {
				t.Errorf("reason %q does not mention %q", res.Reason, tc.reason)
			}
		})
	}
}
