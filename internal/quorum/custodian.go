package quorum

import (
	"context"
	"encoding/json"
	"slices"
	"time"

	"github.com/sceau/sceau/internal/sceau"
)

// Activator is a key store that a reconstructed secret opens (KEY-2) and
// that can be closed again (KEY-5).
type Activator interface {
	Activate(secret []byte) error
	Deactivate()
	Active() bool
}

// Custodian runs activations end to end: it opens the store of a key once
// m holders have presented their shares, and closes it on request.
type Custodian struct {
	sessions *Sessions
	stores   func(keyID string) (Activator, bool)
	windows  func(keyID string) time.Duration
	// HolderCheck, if set, refuses a holder who no longer holds the Key
	// Share Holder role (ROLE-4: removal takes effect at once).
	HolderCheck func(ctx context.Context, holder string) error
}

// NewCustodian returns a custodian; stores finds the store a key's secret
// opens, windows its activation window (nil: DefaultWindow).
func NewCustodian(sessions *Sessions, stores func(keyID string) (Activator, bool), windows func(keyID string) time.Duration) *Custodian {
	return &Custodian{sessions: sessions, stores: stores, windows: windows}
}

// Progress describes an activation in progress or finished.
type Progress struct {
	ID        string    `json:"id"`
	KeyID     string    `json:"key_id"`
	Threshold int       `json:"threshold"`
	Total     int       `json:"total"`
	Need      int       `json:"need"`
	Deadline  time.Time `json:"deadline"`
	Activated bool      `json:"activated"`
}

func (c *Custodian) store(keyID string) (Activator, error) {
	st, ok := c.stores(keyID)
	if !ok {
		return nil, sceau.Errorf(sceau.Invalid, "quorum: activation", "key %q has no m-of-n activation policy", keyID)
	}
	return st, nil
}

// Begin opens an activation of keyID.
func (c *Custodian) Begin(ctx context.Context, actor sceau.Actor, keyID string) (*Progress, error) {
	st, err := c.store(keyID)
	if err != nil {
		return nil, err
	}
	if st.Active() {
		return nil, sceau.Errorf(sceau.Conflict, "quorum: activation", "key %q is activated already", keyID)
	}
	var window time.Duration
	if c.windows != nil {
		window = c.windows(keyID)
	}
	id, a, err := c.sessions.Begin(ctx, actor, keyID, window)
	if err != nil {
		return nil, err
	}
	return &Progress{ID: id, KeyID: keyID, Threshold: a.split.Threshold, Total: a.split.Total, Need: a.Need(), Deadline: a.Deadline()}, nil
}

// Present adds holder's share (the JSON share file and the PIN they typed)
// to activation id; with the m-th share the key's store is opened. The
// caller wipes pin.
func (c *Custodian) Present(ctx context.Context, keyID, id, holder string, shareFile []byte, pin []byte) (*Progress, error) {
	return c.present(ctx, keyID, id, holder, func(a *Activation) error {
		var f ShareFile
		if err := json.Unmarshal(shareFile, &f); err != nil {
			return sceau.Errorf(sceau.Invalid, "quorum: present share", "the share file of %s is not a Sceau share file", holder)
		}
		return a.Present(ctx, holder, &f, pin)
	})
}

// PresentCard adds holder's share as read from their smart card on their
// terminal (the JSON of a CardShare, after the card accepted the PIN) to
// activation id; with the m-th share the key's store is opened. The caller
// wipes cardShare.
func (c *Custodian) PresentCard(ctx context.Context, keyID, id, holder string, cardShare []byte) (*Progress, error) {
	return c.present(ctx, keyID, id, holder, func(a *Activation) error {
		cs, err := ParseCardShare(cardShare)
		if err != nil {
			return sceau.Errorf(sceau.Invalid, "quorum: present share", "the card share of %s is not a Sceau card share", holder)
		}
		defer cs.Wipe()
		return a.PresentCard(ctx, holder, cs)
	})
}

// CardRefusals are the reasons a terminal may report for a card that did
// not give up its share; anything else is reported as "card error".
var CardRefusals = []string{"wrong PIN", "PIN locked", "no share on the card", "card unavailable"}

// CardRefused records, in activation id, that holder's card refused to give
// up their share, as their terminal reports; it returns the refusal as a
// Denied error for the terminal to show.
func (c *Custodian) CardRefused(ctx context.Context, keyID, id, holder, reason string) error {
	a, err := c.sessions.Get(keyID, id)
	if err != nil {
		return err
	}
	if !slices.Contains(CardRefusals, reason) {
		reason = "card error"
	}
	if err := a.CardRefused(ctx, holder, reason); err != nil {
		return err
	}
	return sceau.Errorf(sceau.Denied, "quorum: present share", "the card of %s refused: %s", holder, reason)
}

func (c *Custodian) present(ctx context.Context, keyID, id, holder string, add func(a *Activation) error) (*Progress, error) {
	st, err := c.store(keyID)
	if err != nil {
		return nil, err
	}
	a, err := c.sessions.Get(keyID, id)
	if err != nil {
		return nil, err
	}
	if c.HolderCheck != nil {
		if err := c.HolderCheck(ctx, holder); err != nil {
			_ = c.sessions.reg.record(ctx, sceau.Actor{ID: holder, Role: "key share holder"}, "key.share_refused", keyID,
				map[string]any{"holder": holder, "reason": "not a key share holder"})
			return nil, err
		}
	}
	if err := add(a); err != nil {
		return nil, err
	}
	p := &Progress{ID: id, KeyID: keyID, Threshold: a.split.Threshold, Total: a.split.Total, Need: a.Need(), Deadline: a.Deadline()}
	if p.Need > 0 {
		return p, nil
	}
	defer c.sessions.Finish(id)
	if err := a.Complete(ctx, st.Activate, st.Deactivate); err != nil {
		return nil, err
	}
	p.Activated = true
	return p, nil
}

// Deactivate closes the store of keyID at once (KEY-5), with its event.
func (c *Custodian) Deactivate(ctx context.Context, actor sceau.Actor, keyID string) error {
	st, err := c.store(keyID)
	if err != nil {
		return err
	}
	st.Deactivate()
	return c.sessions.reg.record(ctx, actor, "key.deactivated", keyID, nil)
}

// Active reports whether keyID has a policy and is activated.
func (c *Custodian) Active(keyID string) (policy, active bool) {
	st, ok := c.stores(keyID)
	if !ok {
		return false, false
	}
	return true, st.Active()
}
