package quorum

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/sceau/sceau/internal/audit"
	"github.com/sceau/sceau/internal/sceau"
	"github.com/sceau/sceau/internal/store"
)

// DefaultWindow is how long an activation waits for its m shares.
const DefaultWindow = 10 * time.Minute

// Activation gathers the shares of one key's activation secret, one holder
// after another, within a window (KEY-2). It is safe for concurrent use:
// holders may present from different terminals.
type Activation struct {
	reg      *Registry
	keyID    string
	split    *SplitInfo
	actor    sceau.Actor
	deadline time.Time

	mu      sync.Mutex
	shares  []Share
	holders []string
	done    bool
}

// Begin opens an activation of keyID that stays open for window (0: the
// default). It is refused when fewer than m holders could still present.
func (r *Registry) Begin(ctx context.Context, actor sceau.Actor, keyID string, window time.Duration) (*Activation, error) {
	const op = "quorum: begin activation"
	if window <= 0 {
		window = DefaultWindow
	}
	sp, err := r.Lookup(ctx, keyID)
	if err != nil {
		return nil, err
	}
	usable := 0
	for _, h := range sp.Holders {
		if h.usable() == nil {
			usable++
		}
	}
	if usable < sp.Threshold {
		return nil, sceau.Errorf(sceau.Unavailable, op, "key %q needs %d of %d holders but only %d shares are usable (locked or revoked)",
			keyID, sp.Threshold, sp.Total, usable)
	}
	a := &Activation{reg: r, keyID: keyID, split: sp, actor: actor, deadline: r.clock.Now().Add(window)}
	err = r.record(ctx, actor, "key.activation_started", keyID, map[string]any{"threshold": sp.Threshold, "total": sp.Total,
		"deadline": a.deadline})
	return a, err
}

// Need returns how many shares are still missing.
func (a *Activation) Need() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return max(0, a.split.Threshold-len(a.shares))
}

// Deadline is when the window closes.
func (a *Activation) Deadline() time.Time { return a.deadline }

// Present opens holder's share file with the PIN they typed and adds the
// share. The caller wipes pin afterwards. Refused, each with an audit
// event naming the holder: an expired window, a holder presenting twice,
// an unknown, locked or revoked holder, a holder whose share is on a card,
// a wrong PIN (counted; the fifth locks the share), a share of another key
// or of an older split.
func (a *Activation) Present(ctx context.Context, holder string, f *ShareFile, pin []byte) error {
	return a.present(ctx, holder, CarrierFile, func(refuse refuser) (Share, error) {
		const op = "quorum: present share"
		share, err := f.Open(a.keyID, holder, pin)
		switch {
		case errors.Is(err, ErrWrongPIN):
			n, locked, rerr := a.reg.recordFailure(ctx, a.keyID, holder)
			if rerr != nil {
				return Share{}, rerr
			}
			if locked {
				return Share{}, sceau.Errorf(sceau.Denied, op, "wrong PIN for %s's share: the share is now locked, a Security Officer must unlock it", holder)
			}
			return Share{}, sceau.Errorf(sceau.Denied, op, "wrong PIN for %s's share (%d of %d attempts)", holder, n, MaxFailures)
		case errors.Is(err, ErrWrongKey):
			return Share{}, refuse(sceau.Denied, fmt.Sprintf("%s presented a share of another key (%q)", holder, f.KeyID))
		case errors.Is(err, ErrWrongHolder):
			return Share{}, refuse(sceau.Denied, fmt.Sprintf("%s presented the share of %s", holder, f.Holder))
		case err != nil:
			return Share{}, refuse(sceau.Invalid, fmt.Sprintf("the share file of %s is damaged", holder))
		}
		return share, nil
	})
}

// PresentCard adds the share holder read from their smart card. The card
// checked the PIN and counts wrong ones itself, so nothing is counted
// here; the share is still checked against the key, the holder, the split
// and the holder's share number, and refused with an audit event like a
// share file. A holder whose share was issued in a file cannot present a
// card share, nor the reverse. The caller wipes cs.
func (a *Activation) PresentCard(ctx context.Context, holder string, cs *CardShare) error {
	return a.present(ctx, holder, CarrierCard, func(refuse refuser) (Share, error) {
		share, err := cs.Open(a.keyID, holder)
		switch {
		case errors.Is(err, ErrWrongKey):
			return Share{}, refuse(sceau.Denied, fmt.Sprintf("%s presented a card share of another key (%q)", holder, cs.KeyID))
		case errors.Is(err, ErrWrongHolder):
			return Share{}, refuse(sceau.Denied, fmt.Sprintf("%s presented the card share of %s", holder, cs.Holder))
		case err != nil:
			return Share{}, refuse(sceau.Invalid, fmt.Sprintf("the card share of %s is damaged", holder))
		}
		return share, nil
	})
}

// CardRefused records that holder's card refused to give up their share
// (a wrong or locked card PIN, a card without the share), as reported by
// the terminal that read it: the card counts its wrong PINs, the journal
// keeps a trace (KEY-2, AUD-1).
func (a *Activation) CardRefused(ctx context.Context, holder, reason string) error {
	return a.reg.record(ctx, sceau.Actor{ID: holder, Role: "key share holder"}, "key.share_refused", a.keyID,
		map[string]any{"holder": holder, "carrier": CarrierCard, "reason": reason, "reported_by": "the holder's terminal"})
}

type refuser func(kind sceau.Kind, why string) error

// present runs the checks common to every carrier, opens the share with
// open, and adds it.
func (a *Activation) present(ctx context.Context, holder, carrier string, open func(refuse refuser) (Share, error)) error {
	const op = "quorum: present share"
	a.mu.Lock()
	defer a.mu.Unlock()
	refuse := func(kind sceau.Kind, why string) error {
		_ = a.reg.record(ctx, sceau.Actor{ID: holder, Role: "key share holder"}, "key.share_refused", a.keyID,
			map[string]any{"holder": holder, "carrier": carrier, "reason": why})
		return sceau.Errorf(kind, op, "%s", why)
	}
	if a.done {
		return sceau.Errorf(sceau.Conflict, op, "this activation of %q is finished", a.keyID)
	}
	if a.reg.clock.Now().After(a.deadline) {
		return refuse(sceau.Denied, fmt.Sprintf("the activation window of %q closed at %s", a.keyID, a.deadline.Format(time.RFC3339)))
	}
	if slices.Contains(a.holders, holder) {
		return refuse(sceau.Conflict, fmt.Sprintf("%s has presented a share already", holder))
	}
	i := slices.IndexFunc(a.split.Holders, func(h Holder) bool { return h.Holder == holder })
	if i < 0 {
		return refuse(sceau.Denied, fmt.Sprintf("%s holds no share of key %q", holder, a.keyID))
	}
	// Read the current lock state: another terminal may have locked it.
	sp, err := a.reg.Lookup(ctx, a.keyID)
	if err != nil {
		return err
	}
	j := slices.IndexFunc(sp.Holders, func(h Holder) bool { return h.Holder == holder })
	if j < 0 {
		return refuse(sceau.Denied, fmt.Sprintf("%s holds no share of key %q", holder, a.keyID))
	}
	reg := sp.Holders[j]
	if err := reg.usable(); err != nil {
		return refuse(sceau.Denied, err.Error())
	}
	if reg.Carrier != carrier {
		return refuse(sceau.Denied, fmt.Sprintf("the share of %s was issued on a %s carrier, not a %s: present it from there", holder, reg.Carrier, carrier))
	}
	share, err := open(refuse)
	if err != nil {
		return err
	}
	if share.SetID != a.split.SetID || int(share.X) != reg.X {
		wipe(share.Y)
		return refuse(sceau.Denied, fmt.Sprintf("%s presented a share of an older split of %q", holder, a.keyID))
	}
	a.shares = append(a.shares, share)
	a.holders = append(a.holders, holder)
	return a.reg.db.InTx(ctx, func(tx *store.Tx) error {
		if err := a.reg.resetFailures(ctx, tx, a.keyID, holder); err != nil {
			return err
		}
		return a.reg.journal.Append(ctx, tx, audit.Event{Actor: sceau.Actor{ID: holder, Role: "key share holder"},
			Action: "key.share_presented", Object: "key:" + a.keyID,
			Details: map[string]any{"holder": holder, "carrier": carrier, "have": len(a.shares), "need": a.split.Threshold}})
	})
}

// Complete reconstructs the secret from the shares presented, passes it to
// open (which activates the key), and wipes it and the shares whatever
// happens. With fewer than m shares it refuses and names who presented.
// If the success cannot be journaled, close is called to deactivate the
// key again (AUD-7).
func (a *Activation) Complete(ctx context.Context, open func(secret []byte) error, close func()) error {
	const op = "quorum: complete activation"
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.done {
		return sceau.Errorf(sceau.Conflict, op, "this activation of %q is finished", a.keyID)
	}
	a.done = true
	defer func() {
		for i := range a.shares {
			wipe(a.shares[i].Y)
		}
		a.shares = nil
	}()
	holders := slices.Clone(a.holders)
	if len(a.shares) < a.split.Threshold {
		_ = a.reg.record(ctx, a.actor, "key.activation_refused", a.keyID, map[string]any{"holders": holders,
			"have": len(a.shares), "need": a.split.Threshold})
		return sceau.Errorf(sceau.Denied, op, "key %q needs %d of %d holders; only %d presented (%v)",
			a.keyID, a.split.Threshold, a.split.Total, len(a.shares), holders)
	}
	secret, err := Combine(a.shares)
	if err != nil {
		return sceau.E(sceau.Invalid, op, "the shares do not combine", err)
	}
	err = open(secret)
	wipe(secret)
	if err != nil {
		_ = a.reg.record(ctx, a.actor, "key.activation_failed", a.keyID, map[string]any{"holders": holders})
		return err
	}
	if err := a.reg.record(ctx, a.actor, "key.activated", a.keyID, map[string]any{"holders": holders}); err != nil {
		close()
		return err
	}
	return nil
}

func (r *Registry) record(ctx context.Context, actor sceau.Actor, action, keyID string, details map[string]any) error {
	return r.db.InTx(ctx, func(tx *store.Tx) error {
		return r.journal.Append(ctx, tx, audit.Event{Actor: actor, Action: action, Object: "key:" + keyID, Details: details})
	})
}
