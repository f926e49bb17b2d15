package archive

import (
	"context"
	"time"

	"github.com/sceau/sceau/internal/audit"
	"github.com/sceau/sceau/internal/sceau"
	"github.com/sceau/sceau/internal/store"
)

// Purge removes up to limit items whose retention date has passed, with
// their objects when no other item holds them (ARC-2). It is the only way
// an item leaves: each is first recorded in archive_purges, which the
// database's trigger requires, and the purge is journaled in the same
// transaction. The leaves stay in the tree, so heads and proofs still
// verify; the report counts the item as purged, not missing. dryRun lists
// without removing.
func (s *Service) Purge(ctx context.Context, actor sceau.Actor, limit int, dryRun bool) ([]int64, error) {
	const op = "archive: purge"
	if limit <= 0 || limit > 10_000 {
		limit = 10_000
	}
	var leaves []int64
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		// The service's clock picks the candidates; the database's own
		// clock has the last word in its trigger.
		now := store.FormatTime(s.o.Clock.Now())
		rows, err := tx.QueryContext(ctx, qExpired, now, limit)
		if err != nil {
			return store.Classify(op, err)
		}
		for rows.Next() {
			var l int64
			if err := rows.Scan(&l); err != nil {
				rows.Close()
				return store.Classify(op, err)
			}
			leaves = append(leaves, l)
		}
		rows.Close()
		if dryRun || len(leaves) == 0 {
			return nil
		}
		for _, l := range leaves {
			if _, err := tx.ExecContext(ctx, qInsertPurge, l, now, actor.String()); err != nil {
				return store.Classify(op, err)
			}
			if _, err := tx.ExecContext(ctx, qDeleteItem, l); err != nil {
				return store.Classify(op, err)
			}
			if _, err := tx.ExecContext(ctx, qDeleteQueue, l); err != nil {
				return store.Classify(op, err)
			}
		}
		rows, err = tx.QueryContext(ctx, qOrphans, now, limit)
		if err != nil {
			return store.Classify(op, err)
		}
		var orphans []string
		for rows.Next() {
			var o string
			if err := rows.Scan(&o); err != nil {
				rows.Close()
				return store.Classify(op, err)
			}
			orphans = append(orphans, o)
		}
		rows.Close()
		for _, o := range orphans {
			if _, err := tx.ExecContext(ctx, qDeleteObject, o); err != nil {
				return store.Classify(op, err)
			}
		}
		return s.journal.Append(ctx, tx, audit.Event{Actor: actor, Action: audit.ActionArchivePurged, Object: "archive:items",
			Details: map[string]any{"leaves": leaves, "objects": len(orphans)}})
	})
	if err != nil {
		return nil, err
	}
	return leaves, nil
}

// Status is the archive's state (ARC-4, ARC-5).
type Status struct {
	Size      int64            `json:"size"`
	Items     int64            `json:"items"`
	Bytes     int64            `json:"bytes"`
	ByKind    map[string]int64 `json:"by_kind"`
	Unstamped int64            `json:"unstamped"`
	// OldestUnstamped is when the oldest item without a token was added.
	OldestUnstamped *time.Time     `json:"oldest_unstamped,omitempty"`
	Head            *Head          `json:"head,omitempty"`
	Targets         []TargetStatus `json:"targets"`
}

// Status reports sizes, the latest head, the tokens owed and each target's
// replication lag.
func (s *Service) Status(ctx context.Context) (*Status, error) {
	const op = "archive: status"
	st := &Status{ByKind: map[string]int64{}}
	if err := s.db.QueryRowContext(ctx, qSize).Scan(&st.Size); err != nil {
		return nil, store.Classify(op, err)
	}
	if err := s.db.QueryRowContext(ctx, qCountItems).Scan(&st.Items, &st.Bytes); err != nil {
		return nil, store.Classify(op, err)
	}
	var oldest string
	if err := s.db.QueryRowContext(ctx, qCountUnstamped).Scan(&st.Unstamped, &oldest); err != nil {
		return nil, store.Classify(op, err)
	}
	if oldest != "" {
		t, err := store.ParseTime(oldest)
		if err != nil {
			return nil, sceau.E(sceau.Internal, op, "a stored time cannot be read", err)
		}
		st.OldestUnstamped = &t
	}
	rows, err := s.db.QueryContext(ctx, qCountByKind)
	if err != nil {
		return nil, store.Classify(op, err)
	}
	for rows.Next() {
		var (
			k string
			n int64
		)
		if err := rows.Scan(&k, &n); err != nil {
			rows.Close()
			return nil, store.Classify(op, err)
		}
		st.ByKind[k] = n
	}
	rows.Close()
	if st.Head, err = latestHead(ctx, s.db); err != nil {
		return nil, err
	}
	if st.Targets, err = s.TargetStatuses(ctx); err != nil {
		return nil, err
	}
	return st, nil
}
