package archive

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/sceau/sceau/internal/sceau"
	"github.com/sceau/sceau/internal/store"
)

// Replication (ARC-4): each item and head is queued for every target in
// the transaction that archives or signs it, and leaves the queue only
// once the target holds it. A target that is down or full keeps its rows
// pending, with the error, and catches up when it returns; nothing is
// dropped from the queue.
//
// A target holds, under these keys, objects written once:
//
//	objects/<sha256>             the stored bytes (sealed if confidential)
//	items/<leaf, 16 digits>.json the item's description (Item)
//	heads/<number, 16 digits>.json a signed head (Head)

// Target is a second location for the archive: a directory or a bucket.
type Target interface {
	Name() string
	// Put writes an object once. An object already there with the same
	// bytes is fine; with other bytes it is a Conflict (never overwritten).
	// retainUntil asks the store to keep it that long where it can
	// (object lock in compliance mode).
	Put(ctx context.Context, key string, body []byte, retainUntil time.Time) error
	// Get reads an object; a missing one is NotFound.
	Get(ctx context.Context, key string) ([]byte, error)
}

func objectKey(sum string) string { return "objects/" + sum }
func itemKey(leaf int64) string   { return fmt.Sprintf("items/%016d.json", leaf) }
func headKey(number int64) string { return fmt.Sprintf("heads/%016d.json", number) }

// replicaBatch bounds the rows one pass takes per target.
const replicaBatch = 500

// Replicate copies what is pending to every target, returning how many
// objects reached a target; the first error of each target is returned
// (joined), after the others were tried.
func (s *Service) Replicate(ctx context.Context) (int, error) {
	var (
		total int
		errs  []error
	)
	for _, t := range s.o.Targets {
		for {
			n, more, err := s.replicateTo(ctx, t)
			total += n
			if err != nil {
				errs = append(errs, err)
				break
			}
			if !more {
				break
			}
		}
	}
	if len(errs) > 0 {
		return total, joinErrors(errs)
	}
	return total, nil
}

type pendingRow struct {
	what string
	leaf int64
}

func (s *Service) replicateTo(ctx context.Context, t Target) (int, bool, error) {
	const op = "archive: replicate"
	rows, err := s.db.QueryContext(ctx, qPending, t.Name(), replicaBatch)
	if err != nil {
		return 0, false, store.Classify(op, err)
	}
	var pending []pendingRow
	for rows.Next() {
		var (
			p      pendingRow
			queued string
		)
		if err := rows.Scan(&p.what, &p.leaf, &queued); err != nil {
			rows.Close()
			return 0, false, store.Classify(op, err)
		}
		pending = append(pending, p)
	}
	rows.Close()
	done := 0
	for _, p := range pending {
		if err := s.copyTo(ctx, t, p); err != nil {
			msg := err.Error()
			if len(msg) > 500 {
				msg = msg[:500]
			}
			if _, uerr := s.db.ExecContext(ctx, qFailed, msg, t.Name(), p.what, p.leaf); uerr != nil {
				s.o.Log.Warn("archive: cannot record a replication failure", "target", t.Name(), "err", uerr)
			}
			return done, false, sceau.E(sceau.KindOf(err), op, "target "+t.Name(), err)
		}
		if _, err := s.db.ExecContext(ctx, qDone, store.FormatTime(s.o.Clock.Now()), t.Name(), p.what, p.leaf); err != nil {
			return done, false, store.Classify(op, err)
		}
		done++
	}
	return done, len(pending) == replicaBatch, nil
}

func (s *Service) copyTo(ctx context.Context, t Target, p pendingRow) error {
	if p.what == "head" {
		h, err := scanHead(s.db.QueryRowContext(ctx, qHead, p.leaf))
		if err != nil {
			return err
		}
		b, _ := json.Marshal(h)
		return t.Put(ctx, headKey(h.Number), b, h.At.Add(DefaultRetention))
	}
	it, err := readItem(ctx, s.db, p.leaf)
	if sceau.KindOf(err) == sceau.NotFound {
		return nil // purged after its date: nothing left to copy
	}
	if err != nil {
		return err
	}
	stored, err := object(ctx, s.db, it.Object)
	if err != nil {
		return err
	}
	if err := t.Put(ctx, objectKey(it.Object), stored, it.RetainUntil); err != nil {
		return err
	}
	b, _ := json.Marshal(it)
	return t.Put(ctx, itemKey(it.Leaf), b, it.RetainUntil)
}

// TargetStatus is a target's replication state (ARC-4).
type TargetStatus struct {
	Name      string        `json:"name"`
	Pending   int64         `json:"pending"`
	Lag       time.Duration `json:"lag"` // since the oldest pending row was queued; 0 when caught up
	LastError string        `json:"last_error,omitempty"`
}

// TargetStatuses reports every target's queue.
func (s *Service) TargetStatuses(ctx context.Context) ([]TargetStatus, error) {
	var out []TargetStatus
	now := s.o.Clock.Now()
	for _, t := range s.o.Targets {
		st := TargetStatus{Name: t.Name()}
		var oldest string
		if err := s.db.QueryRowContext(ctx, qLag, t.Name()).Scan(&st.Pending, &oldest); err != nil {
			return nil, store.Classify("archive: status", err)
		}
		if oldest != "" {
			if q, err := store.ParseTime(oldest); err == nil && now.After(q) {
				st.Lag = now.Sub(q)
			}
			_ = s.db.QueryRowContext(ctx, qLastError, t.Name()).Scan(&st.LastError)
		}
		out = append(out, st)
	}
	return out, nil
}

func joinErrors(errs []error) error {
	if len(errs) == 1 {
		return errs[0]
	}
	msg := ""
	for i, e := range errs {
		if i > 0 {
			msg += "; "
		}
		msg += e.Error()
	}
	return sceau.Errorf(sceau.KindOf(errs[0]), "archive: replicate", "%s", msg)
}
