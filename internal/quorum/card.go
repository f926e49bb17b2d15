//go:build cgo

package quorum

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/miekg/pkcs11"

	"github.com/sceau/sceau/internal/sceau"
)

// cardMu serialises card operations of the process: the PKCS#11 module is
// initialised for one operation and finalised after it, unless another part
// of the process (a CA token's store) had it initialised already.
var cardMu sync.Mutex

// cardSession is a logged-in session on a holder's card.
type cardSession struct {
	p    *pkcs11.Ctx
	sess pkcs11.SessionHandle
	card Card
	fin  bool // this operation initialised the module
}

// openCard loads the module, finds the card and logs in with the holder's
// PIN. The card checks the PIN and counts wrong ones: a wrong PIN is
// ErrCardWrongPIN, a locked one ErrCardLocked, both Denied; neither
// message holds the PIN (KEY-2).
func openCard(op string, c Card, pin []byte, rw bool) (*cardSession, error) {
	if err := c.check(op); err != nil {
		return nil, err
	}
	p := pkcs11.New(c.Module)
	if p == nil {
		return nil, sceau.Errorf(sceau.Unavailable, op, "cannot load the PKCS#11 module %s", c.Module)
	}
	s := &cardSession{p: p, card: c, fin: true}
	if err := p.Initialize(); err != nil {
		var pe pkcs11.Error
		if !errors.As(err, &pe) || pe != pkcs11.CKR_CRYPTOKI_ALREADY_INITIALIZED {
			p.Destroy()
			return nil, sceau.E(sceau.Unavailable, op, "cannot initialise the PKCS#11 module "+c.Module, err)
		}
		s.fin = false // another part of the process owns it: do not finalise
	}
	slot, err := s.find(op)
	if err != nil {
		s.close()
		return nil, err
	}
	flags := uint(pkcs11.CKF_SERIAL_SESSION)
	if rw {
		flags |= pkcs11.CKF_RW_SESSION
	}
	if s.sess, err = p.OpenSession(slot, flags); err != nil {
		s.close()
		return nil, cardError(op, c, err)
	}
	err = p.Login(s.sess, pkcs11.CKU_USER, string(pin))
	var pe pkcs11.Error
	if errors.As(err, &pe) && pe == pkcs11.CKR_USER_ALREADY_LOGGED_IN {
		// Login state belongs to the whole process: refuse to ride on
		// someone else's, whose PIN this holder did not type.
		err = sceau.Errorf(sceau.Conflict, op, "%s is logged in already by this process", c)
	}
	if err != nil {
		s.close()
		return nil, cardError(op, c, err)
	}
	return s, nil
}

// find returns the slot of the card, by label or serial number.
func (s *cardSession) find(op string) (uint, error) {
	slots, err := s.p.GetSlotList(true)
	if err != nil {
		return 0, sceau.E(sceau.Unavailable, op, "cannot list the cards of "+s.card.Module, err)
	}
	var found []uint
	for _, slot := range slots {
		info, err := s.p.GetTokenInfo(slot)
		if err != nil {
			continue
		}
		label, serial := strings.TrimRight(info.Label, " \x00"), strings.TrimRight(info.SerialNumber, " \x00")
		if (s.card.Token != "" && label == s.card.Token) || (s.card.Serial != "" && serial == s.card.Serial) {
			found = append(found, slot)
		}
	}
	switch len(found) {
	case 0:
		return 0, sceau.Errorf(sceau.NotFound, op, "no %s in PKCS#11 module %s (is it inserted?)", s.card, s.card.Module)
	case 1:
		return found[0], nil
	}
	return 0, sceau.Errorf(sceau.Conflict, op, "%d tokens answer to %s: name the card by its serial number", len(found), s.card)
}

func (s *cardSession) close() {
	if s.sess != 0 {
		_ = s.p.Logout(s.sess)
		_ = s.p.CloseSession(s.sess)
	}
	if s.fin {
		_ = s.p.Finalize()
	}
	s.p.Destroy()
}

// objects returns the share objects of keyID and holder on the card
// (every Sceau share object when keyID is "").
func (s *cardSession) objects(op, keyID, holder string) ([]pkcs11.ObjectHandle, error) {
	tmpl := []*pkcs11.Attribute{
		pkcs11.NewAttribute(pkcs11.CKA_CLASS, pkcs11.CKO_DATA),
		pkcs11.NewAttribute(pkcs11.CKA_APPLICATION, cardApplication),
	}
	if keyID != "" {
		tmpl = append(tmpl, pkcs11.NewAttribute(pkcs11.CKA_LABEL, cardLabel(keyID, holder)))
	}
	if err := s.p.FindObjectsInit(s.sess, tmpl); err != nil {
		return nil, cardError(op, s.card, err)
	}
	objs, _, err := s.p.FindObjects(s.sess, 64)
	if ferr := s.p.FindObjectsFinal(s.sess); err == nil {
		err = ferr
	}
	if err != nil {
		return nil, cardError(op, s.card, err)
	}
	return objs, nil
}

// value reads an object's CKA_VALUE.
func (s *cardSession) value(op string, o pkcs11.ObjectHandle) ([]byte, error) {
	attrs, err := s.p.GetAttributeValue(s.sess, o, []*pkcs11.Attribute{pkcs11.NewAttribute(pkcs11.CKA_VALUE, nil)})
	if err != nil {
		return nil, cardError(op, s.card, err)
	}
	if len(attrs) != 1 {
		return nil, sceau.Errorf(sceau.Invalid, op, "the share object on %s has no value", s.card)
	}
	return attrs[0].Value, nil
}

// WriteCard stores holder's share of keyID on their card, logging in with
// the card's user PIN. The share is one token object, private (readable
// only after login), not modifiable, written in a single C_CreateObject:
// a card pulled out during the write holds either the whole share or
// nothing. The share is read back and compared; a card that holds a share
// of keyID for holder already is refused, never overwritten. The caller
// wipes pin.
func WriteCard(c Card, keyID, holder string, share Share, pin []byte) error {
	const op = "quorum: write share to card"
	if keyID == "" || holder == "" {
		return sceau.Errorf(sceau.Invalid, op, "key ID and holder are required")
	}
	cardMu.Lock()
	defer cardMu.Unlock()
	s, err := openCard(op, c, pin, true)
	if err != nil {
		return err
	}
	defer s.close()
	if objs, err := s.objects(op, keyID, holder); err != nil {
		return err
	} else if len(objs) > 0 {
		return sceau.Errorf(sceau.Conflict, op, "%s holds a share of key %q for %s already: a share is never overwritten", c, keyID, holder)
	}
	cs := NewCardShare(share, keyID, holder)
	defer cs.Wipe()
	value, err := cs.Marshal()
	if err != nil {
		return sceau.E(sceau.Internal, op, "", err)
	}
	defer wipe(value)
	o, err := s.p.CreateObject(s.sess, []*pkcs11.Attribute{
		pkcs11.NewAttribute(pkcs11.CKA_CLASS, pkcs11.CKO_DATA),
		pkcs11.NewAttribute(pkcs11.CKA_TOKEN, true),
		pkcs11.NewAttribute(pkcs11.CKA_PRIVATE, true),
		pkcs11.NewAttribute(pkcs11.CKA_MODIFIABLE, false),
		pkcs11.NewAttribute(pkcs11.CKA_LABEL, cardLabel(keyID, holder)),
		pkcs11.NewAttribute(pkcs11.CKA_APPLICATION, cardApplication),
		pkcs11.NewAttribute(pkcs11.CKA_VALUE, value),
	})
	if err != nil {
		return cardError(op, c, err)
	}
	back, err := s.value(op, o)
	defer wipe(back)
	if err == nil && !bytes.Equal(back, value) {
		err = sceau.Errorf(sceau.Unavailable, op, "%s did not store the share faithfully", c)
	}
	if err != nil {
		_ = s.p.DestroyObject(s.sess, o)
		return err
	}
	return nil
}

// ReadCard logs in to holder's card with pin and reads their share of
// keyID. The card checks the PIN and counts wrong ones. A card that holds
// no share of keyID for holder is ErrNoCardShare (NotFound), naming the
// shares it does hold. The caller wipes pin and the share.
func ReadCard(c Card, keyID, holder string, pin []byte) (*CardShare, error) {
	const op = "quorum: read share from card"
	cardMu.Lock()
	defer cardMu.Unlock()
	s, err := openCard(op, c, pin, false)
	if err != nil {
		return nil, err
	}
	defer s.close()
	objs, err := s.objects(op, keyID, holder)
	if err != nil {
		return nil, err
	}
	switch len(objs) {
	case 0:
		return nil, sceau.E(sceau.NotFound, op, fmt.Sprintf("%s holds no share of key %q for %s%s", c, keyID, holder, s.inventory(op)), ErrNoCardShare)
	case 1:
	default:
		return nil, sceau.Errorf(sceau.Conflict, op, "%s holds %d shares of key %q for %s", c, len(objs), keyID, holder)
	}
	value, err := s.value(op, objs[0])
	if err != nil {
		return nil, err
	}
	defer wipe(value)
	cs, err := ParseCardShare(value)
	if err != nil {
		return nil, sceau.E(sceau.Invalid, op, fmt.Sprintf("the share on %s is damaged", c), err)
	}
	if cs.KeyID != keyID || cs.Holder != holder {
		cs.Wipe()
		return nil, sceau.E(sceau.Invalid, op, fmt.Sprintf("the share object on %s is labelled for %s of key %q but holds another", c, holder, keyID), ErrDamagedCarrier)
	}
	return cs, nil
}

// inventory names the Sceau shares a card holds, for messages: their
// labels name keys and holders, never secrets.
func (s *cardSession) inventory(op string) string {
	objs, err := s.objects(op, "", "")
	if err != nil || len(objs) == 0 {
		return " (it holds no Sceau share)"
	}
	var labels []string
	for _, o := range objs {
		attrs, err := s.p.GetAttributeValue(s.sess, o, []*pkcs11.Attribute{pkcs11.NewAttribute(pkcs11.CKA_LABEL, nil)})
		if err == nil && len(attrs) == 1 {
			labels = append(labels, strings.TrimPrefix(string(attrs[0].Value), "sceau share "))
		}
	}
	slices.Sort(labels)
	return " (it holds: " + strings.Join(labels, "; ") + ")"
}

// EraseCard destroys holder's share of keyID on their card: a split that
// was never completed, or a share that was revoked. Erasing a share that is
// not there is not an error.
func EraseCard(c Card, keyID, holder string, pin []byte) error {
	const op = "quorum: erase share from card"
	cardMu.Lock()
	defer cardMu.Unlock()
	s, err := openCard(op, c, pin, true)
	if err != nil {
		return err
	}
	defer s.close()
	objs, err := s.objects(op, keyID, holder)
	if err != nil {
		return err
	}
	for _, o := range objs {
		if err := s.p.DestroyObject(s.sess, o); err != nil {
			return cardError(op, c, err)
		}
	}
	return nil
}

// cardError maps what the card answered to Sceau's errors. It never
// mentions the PIN's value.
func cardError(op string, c Card, err error) error {
	var se *sceau.Error
	if errors.As(err, &se) {
		return err
	}
	var pe pkcs11.Error
	if errors.As(err, &pe) {
		switch pe {
		case pkcs11.CKR_PIN_INCORRECT, pkcs11.CKR_PIN_INVALID, pkcs11.CKR_PIN_LEN_RANGE:
			return sceau.E(sceau.Denied, op, fmt.Sprintf("%s refused the PIN (the card counts wrong PINs and locks itself)", c), ErrCardWrongPIN)
		case pkcs11.CKR_PIN_LOCKED:
			return sceau.E(sceau.Denied, op, fmt.Sprintf("the PIN of %s is locked: unlock it with the card's own tools and its SO PIN", c), ErrCardLocked)
		case pkcs11.CKR_PIN_EXPIRED:
			return sceau.E(sceau.Denied, op, fmt.Sprintf("the PIN of %s has expired: change it with the card's own tools", c), ErrCardLocked)
		case pkcs11.CKR_USER_PIN_NOT_INITIALIZED:
			return sceau.Errorf(sceau.Unavailable, op, "%s has no user PIN yet: initialise it first", c)
		case pkcs11.CKR_DEVICE_REMOVED, pkcs11.CKR_TOKEN_NOT_PRESENT, pkcs11.CKR_SESSION_HANDLE_INVALID,
			pkcs11.CKR_SESSION_CLOSED, pkcs11.CKR_DEVICE_ERROR, pkcs11.CKR_TOKEN_NOT_RECOGNIZED:
			return sceau.E(sceau.Unavailable, op, fmt.Sprintf("%s was removed or stopped answering: nothing was kept of the operation", c), err)
		case pkcs11.CKR_TOKEN_WRITE_PROTECTED, pkcs11.CKR_DEVICE_MEMORY:
			return sceau.E(sceau.Unavailable, op, fmt.Sprintf("%s cannot store the share (write-protected or full)", c), err)
		}
	}
	return sceau.E(sceau.Unavailable, op, fmt.Sprintf("%s did not answer as expected", c), err)
}
