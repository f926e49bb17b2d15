//go:build cgo

package keys

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/asn1"
	"errors"
	"fmt"
	"math/big"
	"path/filepath"

	"github.com/miekg/pkcs11"

	"github.com/sceau/sceau/internal/sceau"
)

// Backup, restore and destruction of token keys (KEY-4, KEY-6). crypto11
// offers no wrapping, so these open sessions of their own on the token
// with miekg/pkcs11. PKCS#11 login state belongs to the application: the
// sessions are logged in because the store is, and s.mu is held for
// reading throughout so that Deactivate cannot log out underneath.
//
// The wrapping key enters the token as a session object (CKA_TOKEN false,
// sensitive, not extractable, wrap and unwrap only) that is destroyed
// before returning, and its bytes are wiped. The token wraps with
// CKM_AES_KEY_WRAP_PAD: the private key is never in clear outside it
// (KEY-3). A key is wrappable only if it was generated extractable, which
// PKCS11Config.AllowBackup decides; it stays sensitive either way.

// tokenSession is a session of the store's own on its token.
type tokenSession struct {
	p    *pkcs11.Ctx
	h    pkcs11.SessionHandle
	fini bool // this call initialised the module and must finalise it
}

// session opens a read-write session on the store's token. The caller
// holds s.mu with the store activated, and closes the session.
func (s *PKCS11Store) session(op string) (*tokenSession, error) {
	module, err := filepath.EvalSymlinks(s.cfg.Module)
	if err == nil {
		module, err = filepath.Abs(module)
	}
	if err != nil {
		return nil, sceau.E(sceau.Unavailable, op, "PKCS#11 module "+s.cfg.Module+" not found", err)
	}
	p := pkcs11.New(module)
	if p == nil {
		return nil, sceau.Errorf(sceau.Unavailable, op, "cannot load the PKCS#11 module %s", s.cfg.Module)
	}
	ts := &tokenSession{p: p}
	if err := p.Initialize(); err != nil {
		var pe pkcs11.Error
		if !errors.As(err, &pe) || pe != pkcs11.CKR_CRYPTOKI_ALREADY_INITIALIZED {
			p.Destroy()
			return nil, sceau.E(sceau.Unavailable, op, "cannot initialise the PKCS#11 module", err)
		}
	} else {
		ts.fini = true
	}
	slots, err := p.GetSlotList(true)
	if err != nil {
		ts.close()
		return nil, sceau.E(sceau.Unavailable, op, "cannot list the tokens", err)
	}
	for _, slot := range slots {
		info, err := p.GetTokenInfo(slot)
		if err != nil || info.Label != s.cfg.TokenLabel {
			continue
		}
		if ts.h, err = p.OpenSession(slot, pkcs11.CKF_SERIAL_SESSION|pkcs11.CKF_RW_SESSION); err != nil {
			ts.close()
			return nil, sceau.E(sceau.Unavailable, op, "cannot open a session on token "+s.cfg.TokenLabel, err)
		}
		return ts, nil
	}
	ts.close()
	return nil, sceau.Errorf(sceau.NotFound, op, "no token labelled %q", s.cfg.TokenLabel)
}

func (ts *tokenSession) close() {
	if ts.h != 0 {
		_ = ts.p.CloseSession(ts.h)
	}
	if ts.fini {
		_ = ts.p.Finalize()
	}
	ts.p.Destroy()
}

// find returns the objects of class with label (and id, when not nil).
func (ts *tokenSession) find(class uint, label string, id []byte) ([]pkcs11.ObjectHandle, error) {
	tmpl := []*pkcs11.Attribute{pkcs11.NewAttribute(pkcs11.CKA_CLASS, class), pkcs11.NewAttribute(pkcs11.CKA_LABEL, label)}
	if id != nil {
		tmpl = append(tmpl, pkcs11.NewAttribute(pkcs11.CKA_ID, id))
	}
	if err := ts.p.FindObjectsInit(ts.h, tmpl); err != nil {
		return nil, err
	}
	var out []pkcs11.ObjectHandle
	for {
		hs, _, err := ts.p.FindObjects(ts.h, 16)
		if err != nil {
			_ = ts.p.FindObjectsFinal(ts.h)
			return nil, err
		}
		if len(hs) == 0 {
			break
		}
		out = append(out, hs...)
	}
	return out, ts.p.FindObjectsFinal(ts.h)
}

// wrappingKey puts the key that wraps into the token as a session object;
// the caller destroys it. Sensitive and not extractable: even this session
// cannot read it back.
func (ts *tokenSession) wrappingKey(key []byte) (pkcs11.ObjectHandle, error) {
	value := pkcs11.NewAttribute(pkcs11.CKA_VALUE, key)
	defer wipe(value.Value)
	return ts.p.CreateObject(ts.h, []*pkcs11.Attribute{
		pkcs11.NewAttribute(pkcs11.CKA_CLASS, pkcs11.CKO_SECRET_KEY),
		pkcs11.NewAttribute(pkcs11.CKA_KEY_TYPE, pkcs11.CKK_AES),
		pkcs11.NewAttribute(pkcs11.CKA_TOKEN, false),
		pkcs11.NewAttribute(pkcs11.CKA_PRIVATE, true),
		pkcs11.NewAttribute(pkcs11.CKA_SENSITIVE, true),
		pkcs11.NewAttribute(pkcs11.CKA_EXTRACTABLE, false),
		pkcs11.NewAttribute(pkcs11.CKA_WRAP, true),
		pkcs11.NewAttribute(pkcs11.CKA_UNWRAP, true),
		pkcs11.NewAttribute(pkcs11.CKA_ENCRYPT, false),
		pkcs11.NewAttribute(pkcs11.CKA_DECRYPT, false),
		value,
	})
}

var wrapMechanism = []*pkcs11.Mechanism{pkcs11.NewMechanism(pkcs11.CKM_AES_KEY_WRAP_PAD, nil)}

// BackupKey has the token wrap the private key labelled label with
// CKM_AES_KEY_WRAP_PAD under a key derived from wrapKey (KEY-4). The token
// refuses a key generated without AllowBackup (not extractable). The
// caller wipes wrapKey.
func (s *PKCS11Store) BackupKey(label string, wrapKey []byte, ref BackupRef) (*Backup, error) {
	const op = "keys: backup"
	if !labelPattern.MatchString(label) {
		return nil, sceau.Errorf(sceau.Invalid, op, "bad key label %q", label)
	}
	wk, mk, err := backupKeys(wrapKey)
	if err != nil {
		return nil, err
	}
	defer wipe(wk)
	defer wipe(mk)
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.ctx == nil {
		return nil, NotActivated(op, fmt.Sprintf("key %q is not activated: activate token %q first", label, s.cfg.TokenLabel))
	}
	key, err := s.find(op, label, nil)
	if err != nil {
		return nil, err
	}
	t, err := TypeOf(key.Public())
	if err != nil {
		return nil, sceau.E(sceau.Invalid, op, "", err)
	}
	ts, err := s.session(op)
	if err != nil {
		return nil, err
	}
	defer ts.close()
	privs, err := ts.find(pkcs11.CKO_PRIVATE_KEY, label, nil)
	if err != nil || len(privs) != 1 {
		return nil, sceau.E(sceau.Conflict, op, fmt.Sprintf("token %q holds %d private keys labelled %q", s.cfg.TokenLabel, len(privs), label), err)
	}
	attrs, err := ts.p.GetAttributeValue(ts.h, privs[0], []*pkcs11.Attribute{
		pkcs11.NewAttribute(pkcs11.CKA_ID, nil), pkcs11.NewAttribute(pkcs11.CKA_EXTRACTABLE, nil)})
	if err != nil {
		return nil, sceau.E(sceau.Unavailable, op, "cannot read the attributes of key "+label, err)
	}
	if len(attrs[1].Value) == 0 || attrs[1].Value[0] == 0 {
		return nil, sceau.Errorf(sceau.Invalid, op, "key %q of token %q was generated not extractable: it cannot be backed up (keystore.pkcs11.allow_backup must be set before the key is generated)",
			label, s.cfg.TokenLabel)
	}
	b, err := newBackup(label, attrs[0].Value, t, key.Public(), MechAESKeyWrapPad, ref)
	if err != nil {
		return nil, err
	}
	wh, err := ts.wrappingKey(wk)
	if err != nil {
		return nil, sceau.E(sceau.Unavailable, op, fmt.Sprintf("token %q refused the wrapping key", s.cfg.TokenLabel), err)
	}
	defer ts.p.DestroyObject(ts.h, wh)
	if b.Wrapped, err = ts.p.WrapKey(ts.h, wrapMechanism, wh, privs[0]); err != nil {
		return nil, sceau.E(sceau.Unavailable, op, fmt.Sprintf("token %q did not wrap key %q", s.cfg.TokenLabel, label), err)
	}
	b.seal(mk)
	return b, nil
}

// RestoreKey checks the backup under wrapKey, then has the token unwrap
// the private key into a token object (private, sensitive, sign only,
// extractable only with AllowBackup) and creates its public key object
// from the backup's public key, both under the backup's label and CKA_ID.
// It signs once and verifies the signature with the backup's public key;
// on any failure the new objects are destroyed.
func (s *PKCS11Store) RestoreKey(b *Backup, wrapKey []byte) error {
	const op = "keys: restore"
	pub, err := b.checkRestore(op, MechAESKeyWrapPad, wrapKey)
	if err != nil {
		return err
	}
	pubAttrs, keyType, err := publicTemplate(pub)
	if err != nil {
		return err
	}
	id := b.KeyID
	if len(id) == 0 {
		id = random(16)
	}
	wk, mk, err := backupKeys(wrapKey)
	if err != nil {
		return err
	}
	defer wipe(wk)
	defer wipe(mk)
	s.genMu.Lock()
	defer s.genMu.Unlock()
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.ctx == nil {
		return NotActivated(op, fmt.Sprintf("token %q is not activated", s.cfg.TokenLabel))
	}
	ts, err := s.session(op)
	if err != nil {
		return err
	}
	defer ts.close()
	existing, err := ts.find(pkcs11.CKO_PRIVATE_KEY, b.Label, nil)
	if err != nil {
		return sceau.E(sceau.Unavailable, op, "cannot search token "+s.cfg.TokenLabel, err)
	}
	if len(existing) > 0 {
		return sceau.Errorf(sceau.Conflict, op, "key %q exists already in token %q", b.Label, s.cfg.TokenLabel)
	}
	wh, err := ts.wrappingKey(wk)
	if err != nil {
		return sceau.E(sceau.Unavailable, op, fmt.Sprintf("token %q refused the wrapping key", s.cfg.TokenLabel), err)
	}
	defer ts.p.DestroyObject(ts.h, wh)
	priv := []*pkcs11.Attribute{
		pkcs11.NewAttribute(pkcs11.CKA_CLASS, pkcs11.CKO_PRIVATE_KEY),
		pkcs11.NewAttribute(pkcs11.CKA_KEY_TYPE, keyType),
		pkcs11.NewAttribute(pkcs11.CKA_LABEL, b.Label),
		pkcs11.NewAttribute(pkcs11.CKA_ID, id),
		pkcs11.NewAttribute(pkcs11.CKA_TOKEN, true),
		pkcs11.NewAttribute(pkcs11.CKA_PRIVATE, true),
		// KEY-3: sensitive, so never readable in clear.
		pkcs11.NewAttribute(pkcs11.CKA_SENSITIVE, true),
		pkcs11.NewAttribute(pkcs11.CKA_EXTRACTABLE, s.cfg.AllowBackup),
		pkcs11.NewAttribute(pkcs11.CKA_SIGN, true),
		pkcs11.NewAttribute(pkcs11.CKA_DECRYPT, false),
		pkcs11.NewAttribute(pkcs11.CKA_UNWRAP, false),
		pkcs11.NewAttribute(pkcs11.CKA_DERIVE, false),
	}
	ph, err := ts.p.UnwrapKey(ts.h, wrapMechanism, wh, b.Wrapped, priv)
	if err != nil {
		return sceau.E(sceau.Unavailable, op, fmt.Sprintf("token %q did not unwrap the backup of %q", s.cfg.TokenLabel, b.Label), err)
	}
	made := []pkcs11.ObjectHandle{ph}
	undo := func() {
		for _, h := range made {
			_ = ts.p.DestroyObject(ts.h, h)
		}
	}
	pubAttrs = append(pubAttrs,
		pkcs11.NewAttribute(pkcs11.CKA_LABEL, b.Label),
		pkcs11.NewAttribute(pkcs11.CKA_ID, id),
		pkcs11.NewAttribute(pkcs11.CKA_TOKEN, true),
		pkcs11.NewAttribute(pkcs11.CKA_VERIFY, true),
		pkcs11.NewAttribute(pkcs11.CKA_ENCRYPT, false),
		pkcs11.NewAttribute(pkcs11.CKA_WRAP, false))
	pubH, err := ts.p.CreateObject(ts.h, pubAttrs)
	if err != nil {
		undo()
		return sceau.E(sceau.Unavailable, op, fmt.Sprintf("token %q refused the public key of %q", s.cfg.TokenLabel, b.Label), err)
	}
	made = append(made, pubH)
	// The unwrapped key must be the private half of the recorded public
	// key: a signature made by the token proves it.
	key, err := s.find(op, b.Label, id)
	if err == nil {
		err = checkPair(key, pub)
	}
	if err != nil {
		undo()
		return sceau.E(sceau.Invalid, op, fmt.Sprintf("the key restored from the backup of %q does not match its public key", b.Label), err)
	}
	s.destroyed.Delete(b.Label)
	return nil
}

// checkPair signs a random digest with key and verifies it with pub.
func checkPair(key crypto.Signer, pub crypto.PublicKey) error {
	digest := sha256.Sum256(random(32))
	sig, err := key.Sign(rand.Reader, digest[:], crypto.SHA256)
	if err != nil {
		return err
	}
	switch p := pub.(type) {
	case *ecdsa.PublicKey:
		if !ecdsa.VerifyASN1(p, digest[:], sig) {
			return errors.New("keys: ECDSA signature does not verify")
		}
	case *rsa.PublicKey:
		return rsa.VerifyPKCS1v15(p, crypto.SHA256, digest[:], sig)
	default:
		return fmt.Errorf("keys: public key type %T", pub)
	}
	return nil
}

var (
	oidP256 = asn1.ObjectIdentifier{1, 2, 840, 10045, 3, 1, 7}
	oidP384 = asn1.ObjectIdentifier{1, 3, 132, 0, 34}
)

// publicTemplate describes pub as a PKCS#11 public key object.
func publicTemplate(pub crypto.PublicKey) ([]*pkcs11.Attribute, uint, error) {
	const op = "keys: restore"
	switch k := pub.(type) {
	case *ecdsa.PublicKey:
		oid := oidP256
		if k.Curve == elliptic.P384() {
			oid = oidP384
		}
		params, err := asn1.Marshal(oid)
		if err != nil {
			return nil, 0, sceau.E(sceau.Internal, op, "", err)
		}
		ek, err := k.ECDH()
		if err != nil {
			return nil, 0, sceau.E(sceau.Invalid, op, "", err)
		}
		point, err := asn1.Marshal(ek.Bytes()) // CKA_EC_POINT is a DER OCTET STRING
		if err != nil {
			return nil, 0, sceau.E(sceau.Internal, op, "", err)
		}
		return []*pkcs11.Attribute{
			pkcs11.NewAttribute(pkcs11.CKA_CLASS, pkcs11.CKO_PUBLIC_KEY),
			pkcs11.NewAttribute(pkcs11.CKA_KEY_TYPE, pkcs11.CKK_EC),
			pkcs11.NewAttribute(pkcs11.CKA_EC_PARAMS, params),
			pkcs11.NewAttribute(pkcs11.CKA_EC_POINT, point),
		}, pkcs11.CKK_EC, nil
	case *rsa.PublicKey:
		return []*pkcs11.Attribute{
			pkcs11.NewAttribute(pkcs11.CKA_CLASS, pkcs11.CKO_PUBLIC_KEY),
			pkcs11.NewAttribute(pkcs11.CKA_KEY_TYPE, pkcs11.CKK_RSA),
			pkcs11.NewAttribute(pkcs11.CKA_MODULUS, k.N.Bytes()),
			pkcs11.NewAttribute(pkcs11.CKA_PUBLIC_EXPONENT, big.NewInt(int64(k.E)).Bytes()),
		}, pkcs11.CKK_RSA, nil
	}
	return nil, 0, sceau.Errorf(sceau.Invalid, op, "public key type %T is not supported", pub)
}

// DestroyKey destroys every object of the token labelled label, the
// private key and its public key (KEY-6). Signers handed out before find
// the key gone on their next signature.
func (s *PKCS11Store) DestroyKey(label string) error {
	const op = "keys: destroy"
	if !labelPattern.MatchString(label) {
		return sceau.Errorf(sceau.Invalid, op, "bad key label %q", label)
	}
	s.genMu.Lock()
	defer s.genMu.Unlock()
	// The write lock waits for signatures in progress and makes every
	// signer look its key up again (s.gen).
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ctx == nil {
		return NotActivated(op, fmt.Sprintf("token %q is not activated: its key can be destroyed only while logged in", s.cfg.TokenLabel))
	}
	ts, err := s.session(op)
	if err != nil {
		return err
	}
	defer ts.close()
	var all []pkcs11.ObjectHandle
	for _, class := range []uint{pkcs11.CKO_PRIVATE_KEY, pkcs11.CKO_PUBLIC_KEY} {
		hs, err := ts.find(class, label, nil)
		if err != nil {
			return sceau.E(sceau.Unavailable, op, "cannot search token "+s.cfg.TokenLabel, err)
		}
		all = append(all, hs...)
	}
	if len(all) == 0 {
		return sceau.Errorf(sceau.NotFound, op, "no key %q in token %q", label, s.cfg.TokenLabel)
	}
	for _, h := range all {
		if err := ts.p.DestroyObject(ts.h, h); err != nil {
			return sceau.E(sceau.Unavailable, op, fmt.Sprintf("token %q did not destroy key %q", s.cfg.TokenLabel, label), err)
		}
	}
	s.gen++
	s.destroyed.Store(label, true)
	return nil
}
