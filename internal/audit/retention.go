package audit

import (
	"bytes"
	"context"
	"time"

	"github.com/sceau/sceau/internal/sceau"
	"github.com/sceau/sceau/internal/store"
)

// MinLiveRetention is the least time an event stays in the live journal
// (AUD-4: "at least one month on site"); no setting goes below it.
const MinLiveRetention = 31 * 24 * time.Hour

// moveBatch bounds the events one move takes, so its transaction stays short.
const moveBatch = 10_000

// Mover moves events older than the live retention from audit_events to
// audit_archive (AUD-4). The move is one transaction that
//
//  1. inserts an archive checkpoint, signed beforehand, which covers the
//     chain head and states the new boundary (ArchivedThrough);
//  2. copies the events up to the boundary, unchanged, into audit_archive;
//  3. deletes them from audit_events — which the database allows only for
//     an event whose identical copy is in audit_archive and that an archive
//     checkpoint covers (trigger audit_events_no_delete);
//  4. records an audit.archived event.
//
// The chain runs on from the archive into the live table, so Verify walks
// both as one; the archive is append-only like the journal.
type Mover struct {
	db        *store.DB
	journal   *Journal
	cp        *Checkpointer
	clock     sceau.Clock
	retention time.Duration

	// OnMoved, if set, takes each moved segment in the move's transaction
	// (the archive seals it as an item: AUD-4, ARC-1); an error rolls the
	// move back.
	OnMoved func(ctx context.Context, tx *store.Tx, seg Segment) error
}

// Segment is a run of events moved out of the live journal, as export
// lines (WriteExportPage): the events, the keys they register and the
// checkpoints that cover them, the archive checkpoint last. VerifyExport
// checks it on its own once the lines before it are known.
type Segment struct {
	From, Through int64 // the events' sequence numbers
	Checkpoint    int64 // the archive checkpoint that seals it
	At            string
	Lines         []byte
}

// NewMover returns a mover that keeps events live for retention, which
// must be at least MinLiveRetention.
func NewMover(db *store.DB, j *Journal, cp *Checkpointer, retention time.Duration, clock sceau.Clock) (*Mover, error) {
	if retention < MinLiveRetention {
		// AUD-4: events stay on site at least one month.
		return nil, sceau.Errorf(sceau.Invalid, "audit: retention", "live retention %s is below the minimum of %s (AUD-4)", retention, MinLiveRetention)
	}
	return &Mover{db: db, journal: j, cp: cp, clock: sceau.ClockOr(clock), retention: retention}, nil
}

// Move moves at most one batch of events older than the retention and
// returns how many it moved.
func (m *Mover) Move(ctx context.Context) (int64, error) {
	const op = "audit: archive"
	var archived int64
	if err := m.db.QueryRowContext(ctx, sqlArchivedThrough).Scan(&archived); err != nil {
		return 0, store.Classify(op, err)
	}
	cutoff := store.FormatTime(m.clock.Now().Add(-m.retention))
	through, err := m.boundary(ctx, archived, cutoff)
	if err != nil || through <= archived {
		return 0, err
	}
	cp, err := m.cp.prepare(ctx, KindArchive, through)
	if err != nil {
		return 0, err
	}
	if cp.Seq < through {
		return 0, sceau.Errorf(sceau.Internal, op, "the chain head %d is behind the archive boundary %d", cp.Seq, through)
	}
	var moved int64
	err = m.db.InTx(ctx, func(tx *store.Tx) error {
		if err := insertCheckpoint(ctx, tx, cp); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, sqlArchiveCopy, archived, through)
		if err != nil {
			return store.Classify(op, err)
		}
		copied, _ := res.RowsAffected()
		res, err = tx.ExecContext(ctx, sqlLiveDelete, archived, through)
		if err != nil {
			return store.Classify(op, err)
		}
		if deleted, _ := res.RowsAffected(); deleted != copied {
			return sceau.Errorf(sceau.Internal, op, "copied %d events to the archive but removed %d", copied, deleted)
		}
		moved = copied
		if m.OnMoved != nil {
			var prev int64
			if err := tx.QueryRowContext(ctx, sqlCheckpointBefore, archived).Scan(&prev); err != nil {
				return store.Classify(op, err)
			}
			var b bytes.Buffer
			pos, err := WriteExportPage(ctx, tx, &b, ExportPosition{Seq: archived, Checkpoint: prev}, int(through-archived))
			if err != nil {
				return err
			}
			if pos.Checkpoint < cp.ID { // it covers the head, past the segment: it seals it all the same
				writeCheckpointLine(&b, cp)
			}
			if err := m.OnMoved(ctx, tx, Segment{From: archived + 1, Through: through, Checkpoint: cp.ID, At: cp.At, Lines: b.Bytes()}); err != nil {
				return err
			}
		}
		return m.journal.Append(ctx, tx, Event{Actor: sceau.System("retention"), Action: ActionArchived, Object: object("checkpoint", cp.ID),
			Details: map[string]any{"from": archived + 1, "through": through, "events": copied, "checkpoint": cp.ID,
				"older_than": cutoff, "retention": m.retention.String()}})
	})
	if err != nil {
		return 0, err
	}
	return moved, nil
}

// boundary is the last event of the leading run of live events dated
// before cutoff, at most one batch after the current boundary.
func (m *Mover) boundary(ctx context.Context, archived int64, cutoff string) (int64, error) {
	const op = "audit: archive"
	rows, err := m.db.QueryContext(ctx, sqlLiveSeqAt, archived, moveBatch)
	if err != nil {
		return 0, store.Classify(op, err)
	}
	defer rows.Close()
	through := archived
	for rows.Next() {
		var (
			seq int64
			at  string
		)
		if err := rows.Scan(&seq, &at); err != nil {
			return 0, store.Classify(op, err)
		}
		if at >= cutoff || seq != through+1 {
			break
		}
		through = seq
	}
	return through, store.Classify(op, rows.Err())
}
