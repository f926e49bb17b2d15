package quorum

import (
	"context"
	"errors"

	"github.com/sceau/sceau/internal/sceau"
)

// Presenter takes the shares that holders present to one activation: the
// custodian in this process (a ceremony), or the server over the admin API
// ('sceau ca activate').
type Presenter interface {
	// PresentFile presents a share file with the PIN its holder typed.
	PresentFile(ctx context.Context, holder string, shareFile, pin []byte) (*Progress, error)
	// PresentCard presents the share a holder's card gave up.
	PresentCard(ctx context.Context, holder string, cardShare []byte) (*Progress, error)
	// CardRefused reports that a holder's card did not give up its share,
	// for the journal; it returns the refusal.
	CardRefused(ctx context.Context, holder, reason string) error
}

// HolderShare is what a holder brings to an activation: their share file,
// or their smart card.
type HolderShare struct {
	Holder string
	File   []byte // the share file's content, when the share is a file
	Card   *Card  // the holder's card, when the share is on a card
}

// PresentShare presents one holder's share of keyID through p, and wipes
// pin. A share file travels with its PIN; a card is read here, on the
// holder's terminal, and checks and counts the PIN itself: only the share
// it gives up travels (KEY-2). A card's refusal (wrong PIN, locked, no
// share, unavailable) is reported to p so that it is journaled, and
// returned.
func PresentShare(ctx context.Context, p Presenter, keyID string, s HolderShare, pin []byte) (*Progress, error) {
	defer clear(pin)
	if s.Card == nil {
		if s.File == nil {
			return nil, sceau.Errorf(sceau.Invalid, "quorum: present share", "%s brought neither a share file nor a card", s.Holder)
		}
		return p.PresentFile(ctx, s.Holder, s.File, pin)
	}
	cs, err := ReadCard(*s.Card, keyID, s.Holder, pin)
	if err != nil {
		if reason := CardRefusal(err); reason != "" {
			_ = p.CardRefused(ctx, s.Holder, reason)
		}
		return nil, err
	}
	b, err := cs.Marshal()
	cs.Wipe()
	if err != nil {
		return nil, err
	}
	defer clear(b)
	return p.PresentCard(ctx, s.Holder, b)
}

// CardRefusal says why a card did not give up its share, in the words of
// CardRefusals; "" for errors that are not the card's answer.
func CardRefusal(err error) string {
	switch {
	case errors.Is(err, ErrCardWrongPIN):
		return "wrong PIN"
	case errors.Is(err, ErrCardLocked):
		return "PIN locked"
	case errors.Is(err, ErrNoCardShare):
		return "no share on the card"
	case sceau.KindOf(err) == sceau.Unavailable:
		return "card unavailable"
	}
	return ""
}

// Session is the presenter of one activation in progress in this process.
func (c *Custodian) Session(keyID, id string) Presenter {
	return custodianSession{c: c, keyID: keyID, id: id}
}

type custodianSession struct {
	c         *Custodian
	keyID, id string
}

func (s custodianSession) PresentFile(ctx context.Context, holder string, shareFile, pin []byte) (*Progress, error) {
	return s.c.Present(ctx, s.keyID, s.id, holder, shareFile, pin)
}

func (s custodianSession) PresentCard(ctx context.Context, holder string, cardShare []byte) (*Progress, error) {
	return s.c.PresentCard(ctx, s.keyID, s.id, holder, cardShare)
}

func (s custodianSession) CardRefused(ctx context.Context, holder, reason string) error {
	return s.c.CardRefused(ctx, s.keyID, s.id, holder, reason)
}
