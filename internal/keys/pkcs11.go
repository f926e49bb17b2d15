//go:build cgo

package keys

import (
	"bytes"
	"crypto"
	"crypto/elliptic"
	"crypto/rsa"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"runtime"
	"slices"
	"sync"
	"time"
	"unsafe"

	"github.com/ThalesGroup/crypto11"
	"github.com/miekg/pkcs11"

	"github.com/sceau/sceau/internal/sceau"
)

// PKCS11Config says which token of which PKCS#11 module holds the CA keys.
type PKCS11Config struct {
	// Module is the path of the vendor's PKCS#11 library (for SoftHSM2,
	// libsofthsm2.so).
	Module string
	// TokenLabel selects the token by its label.
	TokenLabel string
	// MaxSessions bounds the sessions opened on the token; one of them only
	// holds the login, the others sign in parallel. 0 means
	// 2×GOMAXPROCS + 1, at least 5; 1 is refused.
	MaxSessions int
	// PoolWaitTimeout bounds how long an operation waits for a free
	// session before failing as Unavailable. 0 means 30 seconds.
	PoolWaitTimeout time.Duration
	// AllowBackup generates (and restores) keys extractable, so that the
	// token can wrap them for a backup under dual control (KEY-4). They
	// stay sensitive: no one can read them in clear (KEY-3). Default
	// false: keys never leave the token, and cannot be backed up.
	AllowBackup bool
}

const defaultPoolWait = 30 * time.Second

// PKCS11Store keeps CA keys inside a cryptographic device reached through
// PKCS#11 (KEY-1): key pairs are generated in the token with the private
// half sensitive and not extractable, and every signature is computed by
// the token. The store never reads, wraps or exports a private key (KEY-3).
//
// Opening a store does not log in; Activate logs in with the user PIN and
// Deactivate closes every session, which logs the process out of the token
// and drops every key handle (KEY-5). Signers handed out earlier then answer
// ErrNotActivated; after a new activation they find their key again by its
// CKA_ID and label, and check that its public key has not changed.
//
// Security caveats: the PIN passes through the vendor library, which may
// keep copies Sceau cannot wipe. PKCS#11 login state belongs to the whole
// process, so a second store on the same token would share the first one's
// login without its PIN being checked: Activate refuses it (Conflict).
// The check that a label is free and the creation of the key are atomic
// only within one process.
type PKCS11Store struct {
	cfg PKCS11Config

	genMu sync.Mutex // serialises Generate, so a label is checked and created at once

	mu   sync.RWMutex
	ctx  *crypto11.Context // nil while not activated
	gen  uint64            // bumped on every activation and deactivation
	slot string            // key in activeTokens while activated
	// destroyed remembers the labels of the keys DestroyKey destroyed, so
	// that their signers say so rather than that the key is missing
	// (KEY-6). A set of its own: it is read under s.mu held for reading.
	destroyed sync.Map
}

// activeTokens maps module and token label to the store logged in to it, so
// that no other store of the process rides on that login.
var activeTokens = struct {
	sync.Mutex
	m map[string]*PKCS11Store
}{m: map[string]*PKCS11Store{}}

// OpenPKCS11 returns a store on the token cfg names, not activated. It does
// not load the module: a bad configuration shows at Activate.
func OpenPKCS11(cfg PKCS11Config) *PKCS11Store {
	return &PKCS11Store{cfg: cfg}
}

// Activate loads the module and logs in to the token with the user PIN. The
// caller should wipe pin after the call. A wrong PIN is Denied, an unknown
// token NotFound, a module that cannot be loaded Unavailable.
func (s *PKCS11Store) Activate(pin []byte) error {
	const op = "keys: activate token"
	label := s.cfg.TokenLabel
	switch {
	case s.cfg.Module == "":
		return sceau.Errorf(sceau.Invalid, op, "no PKCS#11 module is configured")
	case label == "":
		return sceau.Errorf(sceau.Invalid, op, "no PKCS#11 token label is configured")
	case s.cfg.MaxSessions == 1 || s.cfg.MaxSessions < 0:
		return sceau.Errorf(sceau.Invalid, op, "max sessions must be 0 (default) or at least 2, not %d", s.cfg.MaxSessions)
	case s.cfg.PoolWaitTimeout < 0:
		return sceau.Errorf(sceau.Invalid, op, "the session wait timeout must not be negative")
	}
	// One path per module, so that the library is loaded and initialised
	// once whatever symlink names it.
	module, err := filepath.EvalSymlinks(s.cfg.Module)
	if err == nil {
		module, err = filepath.Abs(module)
	}
	if err != nil {
		return sceau.E(sceau.Unavailable, op, fmt.Sprintf("PKCS#11 module %s not found", s.cfg.Module), err)
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ctx != nil {
		return sceau.Errorf(sceau.Conflict, op, "token %q is activated already", label)
	}
	slot := module + "\x00" + label
	activeTokens.Lock()
	defer activeTokens.Unlock()
	if activeTokens.m[slot] != nil {
		return sceau.Errorf(sceau.Conflict, op, "token %q is activated already by another store of this process", label)
	}

	maxSessions := s.cfg.MaxSessions
	if maxSessions == 0 {
		maxSessions = max(2*runtime.GOMAXPROCS(0), 4) + 1
	}
	wait := s.cfg.PoolWaitTimeout
	if wait == 0 {
		wait = defaultPoolWait
	}
	// crypto11 wants the PIN as a string. Build it over a private copy so
	// the bytes can be wiped once the login is done; crypto11 keeps its
	// Config, so the field is cleared too.
	buf := bytes.Clone(pin)
	defer clear(buf)
	cfg := &crypto11.Config{Path: module, TokenLabel: label, MaxSessions: maxSessions, PoolWaitTimeout: wait}
	if len(buf) > 0 {
		cfg.Pin = unsafe.String(unsafe.SliceData(buf), len(buf))
	}
	ctx, err := crypto11.Configure(cfg)
	cfg.Pin = ""
	if err != nil {
		return activationError(op, s.cfg.Module, label, err)
	}
	s.ctx, s.slot = ctx, slot
	s.gen++
	activeTokens.m[slot] = s
	return nil
}

// errTokenNotFound is the text of crypto11's unexported error for a token
// label no slot carries.
const errTokenNotFound = "could not find PKCS#11 token"

func activationError(op, module, label string, err error) error {
	var rv pkcs11.Error
	if errors.As(err, &rv) {
		switch rv {
		case pkcs11.CKR_PIN_INCORRECT, pkcs11.CKR_PIN_INVALID, pkcs11.CKR_PIN_LEN_RANGE:
			return sceau.E(sceau.Denied, op, fmt.Sprintf("wrong PIN for token %q", label), err)
		case pkcs11.CKR_PIN_LOCKED:
			return sceau.E(sceau.Denied, op, fmt.Sprintf("the PIN of token %q is locked", label), err)
		case pkcs11.CKR_PIN_EXPIRED:
			return sceau.E(sceau.Denied, op, fmt.Sprintf("the PIN of token %q has expired", label), err)
		case pkcs11.CKR_USER_PIN_NOT_INITIALIZED, pkcs11.CKR_TOKEN_NOT_RECOGNIZED, pkcs11.CKR_TOKEN_NOT_PRESENT:
			return sceau.E(sceau.Unavailable, op, fmt.Sprintf("token %q is not ready", label), err)
		}
	}
	if err.Error() == errTokenNotFound {
		return sceau.E(sceau.NotFound, op, fmt.Sprintf("no token labelled %q in PKCS#11 module %s", label, module), err)
	}
	return sceau.E(sceau.Unavailable, op, fmt.Sprintf("cannot open token %q with PKCS#11 module %s", label, module), err)
}

// Deactivate closes every session on the token, which logs out and drops
// every key handle: signers handed out before now answer ErrNotActivated
// (KEY-5). It waits for signatures in progress.
func (s *PKCS11Store) Deactivate() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ctx == nil {
		return
	}
	_ = s.ctx.Close() // crypto11 reports no error from Close
	s.ctx = nil
	s.gen++
	activeTokens.Lock()
	delete(activeTokens.m, s.slot)
	activeTokens.Unlock()
	s.slot = ""
}

// Active reports whether the store is logged in to its token.
func (s *PKCS11Store) Active() bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.ctx != nil
}

// Generate makes a key pair of type t inside the token under label, with a
// random CKA_ID. The private key is a token object, private, sensitive, not
// extractable (unless AllowBackup: then only the token can wrap it, KEY-4),
// and may only sign. It refuses a label the token holds already.
func (s *PKCS11Store) Generate(label string, t Type) (crypto.Signer, error) {
	const op = "keys: generate"
	if !labelPattern.MatchString(label) {
		return nil, sceau.Errorf(sceau.Invalid, op, "bad key label %q", label)
	}
	if !slices.Contains(Types, t) {
		return nil, sceau.Errorf(sceau.Invalid, op, "cannot generate key type %q", t)
	}
	s.genMu.Lock()
	defer s.genMu.Unlock()
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.ctx == nil {
		return nil, NotActivated(op, fmt.Sprintf("token %q is not activated", s.cfg.TokenLabel))
	}
	existing, err := s.ctx.FindPrivateKeys(nil, []byte(label))
	if err != nil {
		return nil, sceau.E(sceau.Unavailable, op, fmt.Sprintf("cannot search token %q", s.cfg.TokenLabel), err)
	}
	if len(existing) > 0 {
		return nil, sceau.Errorf(sceau.Conflict, op, "key %q exists already in token %q", label, s.cfg.TokenLabel)
	}

	id := random(16)
	pub, err := crypto11.NewAttributeSetWithIDAndLabel(id, []byte(label))
	if err != nil {
		return nil, sceau.E(sceau.Internal, op, "", err)
	}
	priv := pub.Copy()
	set := func(a crypto11.AttributeSet, typ crypto11.AttributeType, v bool) {
		if err == nil {
			err = a.Set(typ, v)
		}
	}
	// KEY-1, KEY-3: the private key never leaves the token in clear.
	set(priv, crypto11.CkaToken, true)
	set(priv, crypto11.CkaPrivate, true)
	set(priv, crypto11.CkaSensitive, true)
	set(priv, crypto11.CkaExtractable, s.cfg.AllowBackup)
	set(priv, crypto11.CkaSign, true)
	set(pub, crypto11.CkaToken, true)
	set(pub, crypto11.CkaVerify, true)

	var key crypto11.Signer
	switch t {
	case ECDSAP256, ECDSAP384:
		set(priv, crypto11.CkaDerive, false)
		if err != nil {
			return nil, sceau.E(sceau.Internal, op, "", err)
		}
		curve := elliptic.P256()
		if t == ECDSAP384 {
			curve = elliptic.P384()
		}
		key, err = s.ctx.GenerateECDSAKeyPairWithAttributes(pub, priv, curve)
	default:
		// A CA key only signs: crypto11 would let RSA keys decrypt too.
		set(priv, crypto11.CkaDecrypt, false)
		set(priv, crypto11.CkaUnwrap, false)
		set(pub, crypto11.CkaEncrypt, false)
		set(pub, crypto11.CkaWrap, false)
		if err != nil {
			return nil, sceau.E(sceau.Internal, op, "", err)
		}
		key, err = s.ctx.GenerateRSAKeyPairWithAttributes(pub, priv, rsaBits(t))
	}
	if err != nil {
		return nil, sceau.E(sceau.Unavailable, op, fmt.Sprintf("token %q cannot generate a %s key", s.cfg.TokenLabel, t), err)
	}
	s.destroyed.Delete(label)
	got, err := TypeOf(key.Public())
	if err != nil || got != t {
		return nil, sceau.E(sceau.Internal, op, fmt.Sprintf("token %q generated a key of another type than %s", s.cfg.TokenLabel, t), err)
	}
	return s.newSigner(label, id, t, key), nil
}

// Signer returns the signer of the key pair labelled label. It works while
// the store is activated; afterwards its Sign answers ErrNotActivated.
func (s *PKCS11Store) Signer(label string) (crypto.Signer, error) {
	const op = "keys: load"
	if !labelPattern.MatchString(label) {
		return nil, sceau.Errorf(sceau.Invalid, op, "bad key label %q", label)
	}
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
		return nil, sceau.E(sceau.Invalid, op, fmt.Sprintf("key %q in token %q", label, s.cfg.TokenLabel), err)
	}
	idAttr, err := s.ctx.GetAttribute(key, crypto11.CkaId)
	if err != nil || idAttr == nil || len(idAttr.Value) == 0 {
		return nil, sceau.E(sceau.Invalid, op, fmt.Sprintf("key %q in token %q has no CKA_ID", label, s.cfg.TokenLabel), err)
	}
	return s.newSigner(label, bytes.Clone(idAttr.Value), t, key), nil
}

// find looks the key pair up by label (and id, when not nil). The caller
// holds s.mu and has checked that the store is activated.
func (s *PKCS11Store) find(op, label string, id []byte) (crypto11.Signer, error) {
	pairs, err := s.ctx.FindKeyPairs(id, []byte(label))
	if err != nil {
		return nil, sceau.E(sceau.Unavailable, op, fmt.Sprintf("cannot search token %q", s.cfg.TokenLabel), err)
	}
	switch len(pairs) {
	case 0:
		if _, gone := s.destroyed.Load(label); gone {
			return nil, sceau.Errorf(sceau.NotFound, op, "key %q of token %q was destroyed (KEY-6)", label, s.cfg.TokenLabel)
		}
		return nil, sceau.Errorf(sceau.NotFound, op, "no key %q in token %q", label, s.cfg.TokenLabel)
	case 1:
		return pairs[0], nil
	}
	return nil, sceau.Errorf(sceau.Conflict, op, "%d key pairs are labelled %q in token %q", len(pairs), label, s.cfg.TokenLabel)
}

// newSigner wraps key; the caller holds s.mu.
func (s *PKCS11Store) newSigner(label string, id []byte, t Type, key crypto11.Signer) *pkcs11Signer {
	return &pkcs11Signer{store: s, label: label, id: id, typ: t, pub: key.Public(), key: key, gen: s.gen}
}

func rsaBits(t Type) int {
	switch t {
	case RSA3072:
		return 3072
	case RSA4096:
		return 4096
	}
	return 2048
}

// pkcs11Signer signs with a key of the token while the store is activated.
// It holds the crypto11 handle of the activation it was found in, and finds
// the key again after a new one: a handle never outlives its session.
type pkcs11Signer struct {
	store *PKCS11Store
	label string
	id    []byte
	typ   Type
	pub   crypto.PublicKey

	mu  sync.Mutex
	gen uint64          // the store generation key belongs to
	key crypto11.Signer // valid only while gen == store.gen
}

func (k *pkcs11Signer) Public() crypto.PublicKey { return k.pub }

// Sign asks the token to sign digest. rand is ignored: the token uses its
// own generator. RSA keys sign PKCS#1 v1.5, or PSS when opts is
// *rsa.PSSOptions.
func (k *pkcs11Signer) Sign(_ io.Reader, digest []byte, opts crypto.SignerOpts) ([]byte, error) {
	const op = "keys: sign"
	opts, err := k.checkOpts(digest, opts)
	if err != nil {
		return nil, err
	}
	s := k.store
	// The read lock keeps Deactivate from closing the sessions under a
	// signature in progress.
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.ctx == nil {
		return nil, fmt.Errorf("keys: key %q: %w", k.label, ErrNotActivated)
	}
	key, err := k.handle()
	if err != nil {
		return nil, err
	}
	sig, err := key.Sign(nil, digest, opts)
	if err != nil {
		return nil, sceau.E(sceau.Unavailable, op, fmt.Sprintf("token %q did not sign with key %q", s.cfg.TokenLabel, k.label), err)
	}
	return sig, nil
}

// handle returns the crypto11 key of the current activation, finding it
// again by CKA_ID and label if the store was reactivated. The caller holds
// k.store.mu with the store activated.
func (k *pkcs11Signer) handle() (crypto11.Signer, error) {
	const op = "keys: sign"
	k.mu.Lock()
	defer k.mu.Unlock()
	s := k.store
	if k.key != nil && k.gen == s.gen {
		return k.key, nil
	}
	k.key = nil
	key, err := s.find(op, k.label, k.id)
	if err != nil {
		return nil, err
	}
	if pub, ok := k.pub.(interface{ Equal(crypto.PublicKey) bool }); !ok || !pub.Equal(key.Public()) {
		return nil, sceau.Errorf(sceau.Conflict, op, "key %q in token %q is not the key this signer was made for", k.label, s.cfg.TokenLabel)
	}
	k.key, k.gen = key, s.gen
	return key, nil
}

// hashSizes lists the hashes the token is asked to sign digests of; crypto11
// would sign a digest of any other hash without its DigestInfo.
var hashSizes = map[crypto.Hash]int{
	crypto.SHA1:   20,
	crypto.SHA224: 28,
	crypto.SHA256: 32,
	crypto.SHA384: 48,
	crypto.SHA512: 64,
}

// checkOpts refuses what crypto11 would get wrong silently and fills in
// what it does not support: PSS with rsa.PSSSaltLengthAuto is sent with the
// largest salt, as crypto/rsa does.
func (k *pkcs11Signer) checkOpts(digest []byte, opts crypto.SignerOpts) (crypto.SignerOpts, error) {
	const op = "keys: sign"
	if opts == nil {
		return nil, sceau.Errorf(sceau.Invalid, op, "no signer options")
	}
	pss, isPSS := opts.(*rsa.PSSOptions)
	h := opts.HashFunc()
	size, known := hashSizes[h]
	switch {
	case h != 0 && !known:
		return nil, sceau.Errorf(sceau.Invalid, op, "hash %v is not supported", h)
	case h != 0 && len(digest) != size:
		return nil, sceau.Errorf(sceau.Invalid, op, "digest of %d bytes for %v", len(digest), h)
	case k.typ == ECDSAP256 || k.typ == ECDSAP384:
		if isPSS {
			return nil, sceau.Errorf(sceau.Invalid, op, "PSS options for ECDSA key %q", k.label)
		}
		return opts, nil
	case !isPSS:
		return opts, nil
	case h == 0:
		return nil, sceau.Errorf(sceau.Invalid, op, "PSS needs a hash")
	}
	emLen := (k.pub.(*rsa.PublicKey).N.BitLen() - 1 + 7) / 8
	maxSalt := emLen - size - 2
	salt := pss.SaltLength
	switch {
	case salt == rsa.PSSSaltLengthAuto:
		salt = maxSalt
	case salt == rsa.PSSSaltLengthEqualsHash:
		salt = size
	case salt < 0 || salt > maxSalt:
		return nil, sceau.Errorf(sceau.Invalid, op, "PSS salt length %d out of range for key %q", pss.SaltLength, k.label)
	}
	return &rsa.PSSOptions{SaltLength: salt, Hash: h}, nil
}
