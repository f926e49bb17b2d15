package quorum

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/sceau/sceau/internal/audit"
	"github.com/sceau/sceau/internal/sceau"
	"github.com/sceau/sceau/internal/store"
)

// MaxFailures is how many wrong PINs lock a share until a Security Officer
// resets it.
const MaxFailures = 5

// Holder is the registration of one holder's share (never the share).
type Holder struct {
	Holder  string
	X       int
	Carrier string // CarrierFile or CarrierCard
	// Failures counts wrong PINs since the last success or reset.
	Failures int
	Locked   bool
	Revoked  bool
}

// SplitInfo is the registration of an m-of-n split of a key's activation secret.
type SplitInfo struct {
	KeyID     string
	SetID     [16]byte
	Threshold int
	Total     int
	Holders   []Holder
}

// Registry records splits and holders, and counts wrong PINs.
type Registry struct {
	db      *store.DB
	journal audit.Appender
	clock   sceau.Clock
}

// NewRegistry returns the registry over db.
func NewRegistry(db *store.DB, journal audit.Appender, clock sceau.Clock) *Registry {
	return &Registry{db: db, journal: journal, clock: sceau.ClockOr(clock)}
}

// Register records a new split of keyID's secret and its holders, in order
// of their shares (holder i has share x = i+1), with its audit event. Every
// holder's share is on the same kind of carrier.
func (r *Registry) Register(ctx context.Context, actor sceau.Actor, keyID string, shares []Share, holders []string, carrier string) error {
	carriers := make([]string, len(holders))
	for i := range carriers {
		carriers[i] = carrier
	}
	return r.RegisterCarriers(ctx, actor, keyID, shares, holders, carriers)
}

// RegisterCarriers is Register with each holder's carrier kind (CarrierFile
// or CarrierCard): a share is presented only from the kind of carrier it
// was issued on (KEY-2).
func (r *Registry) RegisterCarriers(ctx context.Context, actor sceau.Actor, keyID string, shares []Share, holders, carriers []string) error {
	const op = "quorum: register split"
	if len(shares) == 0 || len(shares) != len(holders) || len(carriers) != len(holders) {
		return sceau.Errorf(sceau.Invalid, op, "%d shares and %d carriers for %d holders", len(shares), len(carriers), len(holders))
	}
	for _, c := range carriers {
		if c != CarrierFile && c != CarrierCard {
			return sceau.Errorf(sceau.Invalid, op, "unknown share carrier %q (file or card)", c)
		}
	}
	seen := map[string]bool{}
	for _, h := range holders {
		if h == "" || seen[h] {
			return sceau.Errorf(sceau.Invalid, op, "holders must be distinct and named (KEY-2)")
		}
		seen[h] = true
	}
	now := store.FormatTime(r.clock.Now())
	return r.db.InTx(ctx, func(tx *store.Tx) error {
		s := shares[0]
		if _, err := tx.ExecContext(ctx, qInsertSplit,
			keyID, s.SetID[:], s.Threshold, s.Total, now); err != nil {
			return store.Classify(op, err)
		}
		for i, h := range holders {
			if _, err := tx.ExecContext(ctx, qInsertShare,
				keyID, h, int(shares[i].X), carriers[i], now); err != nil {
				return store.Classify(op, err)
			}
		}
		return r.journal.Append(ctx, tx, audit.Event{Actor: actor, Action: "key.split_registered", Object: "key:" + keyID,
			Details: map[string]any{"threshold": s.Threshold, "total": s.Total, "holders": holders, "carriers": carriers}})
	})
}

// Lookup returns the registered split of keyID with its holders.
func (r *Registry) Lookup(ctx context.Context, keyID string) (*SplitInfo, error) {
	const op = "quorum: split"
	sp := &SplitInfo{KeyID: keyID}
	var set []byte
	err := r.db.QueryRowContext(ctx, qSplit, keyID).Scan(&set, &sp.Threshold, &sp.Total)
	if err == sql.ErrNoRows {
		return nil, sceau.Errorf(sceau.NotFound, op, "key %q has no registered split of its activation secret", keyID)
	}
	if err != nil {
		return nil, store.Classify(op, err)
	}
	copy(sp.SetID[:], set)
	rows, err := r.db.QueryContext(ctx, qShares, keyID)
	if err != nil {
		return nil, store.Classify(op, err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			h                 Holder
			locked, revokedAt sql.NullString
		)
		if err := rows.Scan(&h.Holder, &h.X, &h.Carrier, &h.Failures, &locked, &revokedAt); err != nil {
			return nil, store.Classify(op, err)
		}
		h.Locked, h.Revoked = locked.Valid, revokedAt.Valid
		sp.Holders = append(sp.Holders, h)
	}
	return sp, store.Classify(op, rows.Err())
}

// recordFailure counts a wrong PIN for holder and locks the share at
// MaxFailures, with its audit event; it returns the new count.
func (r *Registry) recordFailure(ctx context.Context, keyID, holder string) (int, bool, error) {
	const op = "quorum: wrong PIN"
	var n int
	var locked bool
	err := r.db.InTx(ctx, func(tx *store.Tx) error {
		if _, err := tx.ExecContext(ctx, qShareFailed, keyID, holder); err != nil {
			return store.Classify(op, err)
		}
		if err := tx.QueryRowContext(ctx, qShareFailures, keyID, holder).Scan(&n); err != nil {
			return store.Classify(op, err)
		}
		action := "key.share_wrong_pin"
		if n >= MaxFailures {
			locked = true
			action = "key.share_locked"
			if _, err := tx.ExecContext(ctx, qLockShare,
				store.FormatTime(r.clock.Now()), keyID, holder); err != nil {
				return store.Classify(op, err)
			}
		}
		return r.journal.Append(ctx, tx, audit.Event{Actor: sceau.Actor{ID: holder, Role: "key share holder"}, Action: action,
			Object: "key:" + keyID, Details: map[string]any{"failures": n, "max": MaxFailures}})
	})
	return n, locked, err
}

func (r *Registry) resetFailures(ctx context.Context, tx *store.Tx, keyID, holder string) error {
	_, err := tx.ExecContext(ctx, qShareSucceeded, keyID, holder)
	return store.Classify("quorum: reset failures", err)
}

// Unlock clears the lock and failure count of a holder's share. Only a
// Security Officer may call it; the caller checks the role.
func (r *Registry) Unlock(ctx context.Context, actor sceau.Actor, keyID, holder string) error {
	const op = "quorum: unlock share"
	return r.db.InTx(ctx, func(tx *store.Tx) error {
		res, err := tx.ExecContext(ctx, qUnlockShare, keyID, holder)
		if err != nil {
			return store.Classify(op, err)
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return sceau.Errorf(sceau.NotFound, op, "%s holds no active share of key %q", holder, keyID)
		}
		return r.journal.Append(ctx, tx, audit.Event{Actor: actor, Action: "key.share_unlocked", Object: "key:" + keyID,
			Details: map[string]any{"holder": holder}})
	})
}

// Discard forgets the split of keyID, with its audit event, when the key
// it protects was never put to use: a ceremony or an init that stopped
// after the split was registered but before its CA was created leaves no
// half-registered split behind (KEY-2, KEY-8). The caller checks that no
// CA uses the key. The shares themselves are wiped from memory already;
// files and card objects left with the holders open nothing any more.
func (r *Registry) Discard(ctx context.Context, actor sceau.Actor, keyID, reason string) error {
	return r.db.InTx(ctx, func(tx *store.Tx) error { return r.discardIn(ctx, tx, actor, keyID, reason) })
}

// discardIn discards the split of keyID inside tx, as Discard does.
func (r *Registry) discardIn(ctx context.Context, tx *store.Tx, actor sceau.Actor, keyID, reason string) error {
	const op = "quorum: discard split"
	var holders []string
	rows, err := tx.QueryContext(ctx, qHolders, keyID)
	if err != nil {
		return store.Classify(op, err)
	}
	for rows.Next() {
		var h string
		if err := rows.Scan(&h); err != nil {
			rows.Close()
			return store.Classify(op, err)
		}
		holders = append(holders, h)
	}
	rows.Close()
	if _, err := tx.ExecContext(ctx, qDeleteShares, keyID); err != nil {
		return store.Classify(op, err)
	}
	res, err := tx.ExecContext(ctx, qDeleteSplit, keyID)
	if err != nil {
		return store.Classify(op, err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return sceau.Errorf(sceau.NotFound, op, "key %q has no registered split", keyID)
	}
	return r.journal.Append(ctx, tx, audit.Event{Actor: actor, Action: "key.split_discarded", Object: "key:" + keyID,
		Details: map[string]any{"holders": holders, "reason": reason}})
}

// RevokeAll revokes every share of keyID (key destruction, KEY-6).
func (r *Registry) RevokeAll(ctx context.Context, tx *store.Tx, actor sceau.Actor, keyID string) error {
	const op = "quorum: revoke shares"
	if _, err := tx.ExecContext(ctx, qRevokeShares,
		store.FormatTime(r.clock.Now()), keyID); err != nil {
		return store.Classify(op, err)
	}
	return r.journal.Append(ctx, tx, audit.Event{Actor: actor, Action: "key.shares_revoked", Object: "key:" + keyID})
}

func (h Holder) usable() error {
	switch {
	case h.Revoked:
		return fmt.Errorf("the share of %s was revoked", h.Holder)
	case h.Locked:
		return fmt.Errorf("the share of %s is locked after %d wrong PINs: a Security Officer must unlock it", h.Holder, MaxFailures)
	}
	return nil
}
