package audit_test

import (
	"context"
	"crypto"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/sceau/sceau/internal/audit"
	"github.com/sceau/sceau/internal/sceau"
	"github.com/sceau/sceau/internal/sceautest"
	"github.com/sceau/sceau/internal/store"
)

// AUD-4: events stay live at least a month, then move to the archive
// under an archive checkpoint; the chain verifies across the move, on
// both engines, and tampering in the archive is found.
func TestAUD4_EventsMoveToTheArchiveAfterAMonthAndStillVerify(t *testing.T) {
	sceautest.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		ctx := t.Context()
		clock := sceautest.NewClock(time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC))
		j := audit.NewJournal(clock)
		signer := newSigner(t)
		cp := checkpointer(t, db, j, signer)
		// 60 days, 40 events a day.
		for day := range 60 {
			appendN(t, db, j, 40, sceau.Actor{ID: "alice", Role: "registration-officer"}, audit.ActionCertificateIssued, fmt.Sprintf("certificate:%d", day))
			if day%7 == 0 {
				if _, err := cp.Checkpoint(ctx, audit.KindPeriodic); err != nil {
					t.Fatal(err)
				}
			}
			clock.Advance(24 * time.Hour)
		}
		head, _, _ := audit.Head(ctx, db)
		mover, err := audit.NewMover(db, j, cp, audit.MinLiveRetention, clock)
		if err != nil {
			t.Fatal(err)
		}
		moved, err := mover.Move(ctx)
		if err != nil {
			t.Fatal(err)
		}
		// Days 0..28 are more than 31 days old (with the registration event).
		if want := int64(1 + 29*40); moved != want {
			t.Errorf("moved %d events, want %d", moved, want)
		}
		if again, err := mover.Move(ctx); err != nil || again != 0 {
			t.Errorf("a second move moved %d, %v; want nothing", again, err)
		}
		st, err := audit.ReadStatus(ctx, db, "", clock.Now())
		if err != nil {
			t.Fatal(err)
		}
		if st.ArchivedThrough != moved || st.ArchivedEvents != moved || st.LiveFrom != moved+1 || st.HeadSeq != head+1 {
			t.Errorf("status %+v after moving %d", st, moved)
		}
		// Nothing younger than a month left the live journal.
		var youngest string
		if err := db.QueryRowContext(ctx, `SELECT MAX(at) FROM audit_archive`).Scan(&youngest); err != nil {
			t.Fatal(err)
		}
		if at, _ := store.ParseTime(youngest); clock.Now().Sub(at) < audit.MinLiveRetention {
			t.Errorf("an event of %s is archived, less than %s before %s", youngest, audit.MinLiveRetention, clock.Now())
		}
		// The move is itself an event, under its checkpoint.
		recs, err := audit.Read(ctx, db, head, 1)
		if err != nil || len(recs) != 1 || recs[0].Action != audit.ActionArchived {
			t.Fatalf("the move was not recorded: %+v %v", recs, err)
		}
		res, err := audit.VerifyWith(ctx, db, audit.VerifyOptions{TrustedKeys: []crypto.PublicKey{signer.Public()}})
		if err != nil || !res.OK() || res.Events != head+1 {
			t.Fatalf("Verify after the move = %+v, %v", res, err)
		}
		if res.LastCheckpoint == nil || res.LastCheckpoint.Kind != audit.KindArchive || res.LastCheckpoint.ArchivedThrough != moved {
			t.Errorf("last checkpoint %+v, want the archive checkpoint through %d", res.LastCheckpoint, moved)
		}
		// Read spans the archive and the live journal.
		all, err := audit.Read(ctx, db, 0, int(head+10))
		if err != nil || int64(len(all)) != head+1 {
			t.Errorf("Read = %d events, %v; want %d", len(all), err, head+1)
		}
		// The archive is append-only too.
		if _, err := db.ExecContext(ctx, `DELETE FROM audit_archive WHERE seq = 5`); err == nil || !strings.Contains(err.Error(), "append-only") {
			t.Errorf("delete from the archive: %v", err)
		}
		if _, err := db.ExecContext(ctx, `UPDATE audit_archive SET details = '{}' WHERE seq = 5`); err == nil {
			t.Error("the archive accepted an update")
		}
	})
}

// AUD-4: no setting keeps events live less than a month.
func TestAUD4_LiveRetentionBelowAMonthIsRefused(t *testing.T) {
	db := sceautest.OpenSQLite(t)
	j := audit.NewJournal(nil)
	cp := checkpointer(t, db, j, newSigner(t))
	if _, err := audit.NewMover(db, j, cp, 30*24*time.Hour, nil); err == nil || !strings.Contains(err.Error(), "AUD-4") {
		t.Errorf("NewMover(30 days) = %v, want a refusal citing AUD-4", err)
	}
	_, err := audit.Start(t.Context(), audit.Options{DB: db, Journal: j, Signer: newSigner(t), KeyLabel: "audit-signing",
		LiveRetention: 7 * 24 * time.Hour})
	if err == nil || sceau.KindOf(err) != sceau.Invalid {
		t.Errorf("Start with 7 days of live retention = %v, want invalid", err)
	}
}

// AUD-4: tampering in the archive is found like tampering in the live
// journal.
func TestAUD4_TamperingInTheArchiveIsFound(t *testing.T) {
	f := sharedFixture(t)
	rng := newRand(t)
	seq := 2 + rng.Int64N(f.archived-1)
	db := f.trial(t, "")
	exec(t, db, `UPDATE audit_archive SET details = '{"n":-1}' WHERE seq = ?`, seq)
	if res := f.verifyAnchored(t, db); res.BrokenAt != seq {
		t.Errorf("Verify = broken at %d (%s), want %d", res.BrokenAt, res.Reason, seq)
	}
}

// AUD-4, ARC-1: each moved segment is handed over in the move's
// transaction as export lines: every moved event, then the archive
// checkpoint that seals it; when the hand-over fails, nothing moves.
func TestAUD4_MovedSegmentGoesToTheArchiveWithItsCheckpoint(t *testing.T) {
	db := sceautest.OpenSQLite(t)
	ctx := t.Context()
	clock := sceautest.NewClock(time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC))
	j := audit.NewJournal(clock)
	cp := checkpointer(t, db, j, newSigner(t))
	for day := range 40 {
		appendN(t, db, j, 10, sceau.Actor{ID: "alice", Role: "registration-officer"}, audit.ActionCertificateIssued, fmt.Sprintf("certificate:%d", day))
		clock.Advance(24 * time.Hour)
	}
	mover, err := audit.NewMover(db, j, cp, audit.MinLiveRetention, clock)
	if err != nil {
		t.Fatal(err)
	}
	mover.OnMoved = func(ctx context.Context, tx *store.Tx, seg audit.Segment) error {
		return sceau.Errorf(sceau.Unavailable, "test", "the archive is full")
	}
	if n, err := mover.Move(ctx); err == nil || n != 0 {
		t.Fatalf("a failed hand-over moved %d events (%v)", n, err)
	}
	if st, _ := audit.ReadStatus(ctx, db, "", clock.Now()); st.ArchivedEvents != 0 {
		t.Fatalf("a failed hand-over left %d events archived", st.ArchivedEvents)
	}
	var got []audit.Segment
	mover.OnMoved = func(ctx context.Context, tx *store.Tx, seg audit.Segment) error {
		got = append(got, seg)
		return nil
	}
	moved, err := mover.Move(ctx)
	if err != nil || moved == 0 || len(got) != 1 {
		t.Fatalf("moved %d, %v, segments %d", moved, err, len(got))
	}
	seg := got[0]
	if seg.From != 1 || seg.Through != moved {
		t.Errorf("segment %d..%d, moved %d", seg.From, seg.Through, moved)
	}
	lines := strings.Split(strings.TrimSpace(string(seg.Lines)), "\n")
	events := 0
	for _, l := range lines {
		if strings.HasPrefix(l, `{"type":"event"`) {
			events++
		}
	}
	if int64(events) != moved {
		t.Errorf("the segment holds %d events, %d moved", events, moved)
	}
	if last := lines[len(lines)-1]; !strings.HasPrefix(last, `{"type":"checkpoint"`) || !strings.Contains(last, fmt.Sprintf(`"id":%d`, seg.Checkpoint)) {
		t.Errorf("the segment does not end with its archive checkpoint %d: %s", seg.Checkpoint, last)
	}
}
