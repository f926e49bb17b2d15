//go:build cgo

package keys

import (
	"errors"

	"github.com/miekg/pkcs11"

	"github.com/sceau/sceau/internal/sceau"
)

// SetTokenPIN replaces the user PIN of the token labelled tokenLabel: the
// key ceremony sets it to the activation secret it splits among the key
// share holders (KEY-2), so that no one person knows it. The caller wipes
// both PINs. It must run before any PKCS11Store of the process logs in to
// that token.
func SetTokenPIN(module, tokenLabel string, oldPIN, newPIN []byte) error {
	const op = "keys: set token PIN"
	p := pkcs11.New(module)
	if p == nil {
		return sceau.Errorf(sceau.Unavailable, op, "cannot load the PKCS#11 module %s", module)
	}
	initialized := true
	if err := p.Initialize(); err != nil {
		var pe pkcs11.Error
		if !errors.As(err, &pe) || pe != pkcs11.CKR_CRYPTOKI_ALREADY_INITIALIZED {
			return sceau.E(sceau.Unavailable, op, "cannot initialise the PKCS#11 module", err)
		}
		initialized = false // another part of the process owns it: do not finalise
	}
	defer func() {
		if initialized {
			p.Finalize()
		}
	}()
	slots, err := p.GetSlotList(true)
	if err != nil {
		return sceau.E(sceau.Unavailable, op, "cannot list the tokens", err)
	}
	for _, slot := range slots {
		info, err := p.GetTokenInfo(slot)
		if err != nil || info.Label != tokenLabel {
			continue
		}
		sess, err := p.OpenSession(slot, pkcs11.CKF_SERIAL_SESSION|pkcs11.CKF_RW_SESSION)
		if err != nil {
			return sceau.E(sceau.Unavailable, op, "cannot open a session on token "+tokenLabel, err)
		}
		defer p.CloseSession(sess)
		if err := p.Login(sess, pkcs11.CKU_USER, string(oldPIN)); err != nil {
			var pe pkcs11.Error
			if errors.As(err, &pe) && (pe == pkcs11.CKR_PIN_INCORRECT || pe == pkcs11.CKR_PIN_LOCKED) {
				return sceau.Errorf(sceau.Denied, op, "wrong current PIN for token %q", tokenLabel)
			}
			return sceau.E(sceau.Unavailable, op, "cannot log in to token "+tokenLabel, err)
		}
		defer p.Logout(sess)
		if err := p.SetPIN(sess, string(oldPIN), string(newPIN)); err != nil {
			return sceau.E(sceau.Unavailable, op, "the token refused the new PIN", err)
		}
		return nil
	}
	return sceau.Errorf(sceau.NotFound, op, "no token labelled %q in %s", tokenLabel, module)
}
