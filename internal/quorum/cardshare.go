package quorum

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/sceau/sceau/internal/sceau"
)

// A share carrier is either a share file (carrier.go), sealed under the
// holder's PIN, or the holder's own smart card: a PKCS#11 token on which
// the share is a private data object that only the card's user PIN
// unlocks, with the card's own retry counter (KEY-2).

// Carrier kinds, as recorded per holder in the registry.
const (
	CarrierFile = "file"
	CarrierCard = "card"
)

// Card names a holder's smart card: the PKCS#11 module that drives its
// reader, and the token by label or by serial number.
type Card struct {
	Module string `json:"module" yaml:"module"`
	Token  string `json:"token,omitempty" yaml:"token,omitempty"`   // the token's label
	Serial string `json:"serial,omitempty" yaml:"serial,omitempty"` // or its serial number
}

func (c Card) String() string {
	if c.Serial != "" {
		return "card with serial " + c.Serial
	}
	return fmt.Sprintf("card %q", c.Token)
}

// ParseCard reads a card named on a command line: LABEL, or serial:NUMBER.
func ParseCard(module, spec string) (Card, error) {
	const op = "quorum: card"
	c := Card{Module: module}
	if s, ok := strings.CutPrefix(spec, "serial:"); ok {
		c.Serial = s
	} else {
		c.Token = spec
	}
	return c, c.check(op)
}

func (c Card) check(op string) error {
	switch {
	case c.Module == "":
		return sceau.Errorf(sceau.Invalid, op, "no PKCS#11 module is given for the card")
	case c.Token == "" && c.Serial == "":
		return sceau.Errorf(sceau.Invalid, op, "a card is named by its token label or its serial number")
	case c.Token != "" && c.Serial != "":
		return sceau.Errorf(sceau.Invalid, op, "name a card by its token label or its serial number, not both")
	}
	return nil
}

// Errors of the card carrier. The card, not Sceau, counts wrong PINs: a
// locked card is unlocked with the card's own tools and its SO PIN.
var (
	ErrCardWrongPIN = errors.New("quorum: the card refused the PIN")
	ErrCardLocked   = errors.New("quorum: the card's PIN is locked")
	ErrNoCardShare  = errors.New("quorum: the card holds no such share")
)

// cardApplication is the CKA_APPLICATION of every share object.
const cardApplication = "sceau key share"

// cardLabel is the CKA_LABEL of holder's share of keyID: a card may hold
// the shares of several keys.
func cardLabel(keyID, holder string) string { return "sceau share " + keyID + " " + holder }

// CardShare is a share as stored on a card, in clear inside a private
// object: the card's PIN protects it. It names the key and the holder, so
// that a share cannot be passed off as another key's or another holder's;
// the server checks them again, with the split's ID and the holder's
// share number, when it is presented (KEY-2).
//
// It is also what travels to the server when a holder presents a share
// from a card: read on the holder's terminal after the card accepted the
// PIN, sent over the admin listener's mutually authenticated TLS, as a
// share file and its PIN are. Call Wipe when done.
type CardShare struct {
	Version   int    `json:"version"`
	KeyID     string `json:"key_id"`
	Holder    string `json:"holder"`
	SetID     []byte `json:"set_id"`
	Threshold int    `json:"threshold"`
	Total     int    `json:"total"`
	X         byte   `json:"x"`
	Y         []byte `json:"y"`
}

// NewCardShare is share bound to keyID and holder.
func NewCardShare(share Share, keyID, holder string) *CardShare {
	return &CardShare{Version: 1, KeyID: keyID, Holder: holder, SetID: append([]byte(nil), share.SetID[:]...),
		Threshold: share.Threshold, Total: share.Total, X: share.X, Y: append([]byte(nil), share.Y...)}
}

// ParseCardShare decodes a card share; anything else is ErrDamagedCarrier.
func ParseCardShare(b []byte) (*CardShare, error) {
	var cs CardShare
	if err := json.Unmarshal(b, &cs); err != nil {
		return nil, ErrDamagedCarrier
	}
	if cs.Version != 1 || len(cs.SetID) != 16 || len(cs.Y) == 0 || cs.X == 0 || cs.KeyID == "" || cs.Holder == "" {
		cs.Wipe()
		return nil, ErrDamagedCarrier
	}
	return &cs, nil
}

// Marshal encodes the card share; the caller wipes the result.
func (cs *CardShare) Marshal() ([]byte, error) { return json.Marshal(cs) }

// Open checks that the share is keyID's and holder's and returns it.
func (cs *CardShare) Open(keyID, holder string) (Share, error) {
	switch {
	case cs.Version != 1 || len(cs.SetID) != 16 || len(cs.Y) == 0:
		return Share{}, ErrDamagedCarrier
	case cs.KeyID != keyID:
		return Share{}, ErrWrongKey
	case cs.Holder != holder:
		return Share{}, ErrWrongHolder
	}
	s := Share{Threshold: cs.Threshold, Total: cs.Total, X: cs.X, Y: append([]byte(nil), cs.Y...)}
	copy(s.SetID[:], cs.SetID)
	return s, nil
}

// Wipe clears the share's secret bytes.
func (cs *CardShare) Wipe() {
	if cs != nil {
		wipe(cs.Y)
	}
}
