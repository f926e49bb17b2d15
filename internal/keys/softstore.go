package keys

import (
	"crypto"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/subtle"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"sync"

	"golang.org/x/crypto/argon2"

	"github.com/sceau/sceau/internal/safefile"
	"github.com/sceau/sceau/internal/sceau"
)

// ErrNotActivated is returned by a signer whose key is not activated: the
// store was never opened with its activation secret, or was deactivated, or
// the process restarted (KEY-5).
var ErrNotActivated = errors.New("keys: key is not activated")

// NotActivated is the one refusal of work that needs a key which is not
// activated, wherever it is met (issuance, CRL and OCSP signing, backups,
// key generation, destruction). Its kind is Unavailable (503), not Denied
// (403): the request is well formed and its author has the right to make
// it; what is missing is a state of the service that m of n share holders
// restore (KEY-2), so the same request succeeds later unchanged, and a load
// balancer or client reads 503 as "retry or go elsewhere" where 403 would
// say "your rights are wrong". An activation attempt with too few shares is
// a different refusal: that attempt is Denied.
func NotActivated(op, msg string) error {
	if msg == "" {
		msg = "the key is not activated"
	}
	return sceau.E(sceau.Unavailable, op, msg, ErrNotActivated)
}

// Argon2id parameters for deriving the store key from the activation secret.
// They are written into the store's header so they can be raised later.
const (
	argonTime    = 3
	argonMemory  = 64 * 1024 // KiB
	argonThreads = 2
)

type storeHeader struct {
	Version int    `json:"version"`
	KDF     string `json:"kdf"`
	Time    uint32 `json:"time"`
	Memory  uint32 `json:"memory_kib"`
	Threads uint8  `json:"threads"`
	Salt    []byte `json:"salt"`
	// Check is a GCM seal of a fixed text, so a wrong secret is told apart
	// from a damaged key file.
	CheckNonce []byte `json:"check_nonce"`
	Check      []byte `json:"check"`
}

type keyFile struct {
	Version    int    `json:"version"`
	Label      string `json:"label"`
	Type       Type   `json:"type"`
	Public     []byte `json:"public_spki"`
	Nonce      []byte `json:"nonce"`
	Ciphertext []byte `json:"ciphertext"`
}

const headerName = "keystore.json"

var labelPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,63}$`)

// SoftStore is the encrypted software keystore: a directory of key files
// sealed with AES-256-GCM under a key derived with Argon2id from the
// activation secret. While activated, it holds the derived key in memory;
// Deactivate drops it and every loaded key.
//
// Security: keys are decrypted into process memory while activated; Go does
// not guarantee that freed memory is cleared. Use a PKCS#11 device where the
// policy requires the key never to be in host memory.
type SoftStore struct {
	dir string

	mu     sync.RWMutex
	aead   cipher.AEAD // nil while not activated
	loaded map[string]crypto.Signer
	// destroyed remembers the keys DestroyKey removed, so that their
	// signers say so rather than that the key is missing (KEY-6).
	destroyed map[string]bool
}

// OpenSoftStore opens the keystore in dir, not activated.
func OpenSoftStore(dir string) *SoftStore {
	return &SoftStore{dir: dir, loaded: map[string]crypto.Signer{}, destroyed: map[string]bool{}}
}

// Exists reports whether dir holds an initialised keystore.
func (s *SoftStore) Exists() bool {
	_, err := os.Stat(filepath.Join(s.dir, headerName))
	return err == nil
}

// Init creates a new keystore protected by secret and leaves it activated.
// It refuses to overwrite an existing store.
func (s *SoftStore) Init(secret []byte) error {
	const op = "keys: init keystore"
	if len(secret) < 16 {
		return sceau.Errorf(sceau.Invalid, op, "the activation secret must be at least 16 bytes")
	}
	if err := os.MkdirAll(s.dir, 0o700); err != nil {
		return sceau.E(sceau.Unavailable, op, "cannot create the keystore directory", err)
	}
	h := storeHeader{Version: 1, KDF: "argon2id", Time: argonTime, Memory: argonMemory, Threads: argonThreads,
		Salt: random(16), CheckNonce: random(12)}
	aead := deriveAEAD(secret, &h)
	h.Check = aead.Seal(nil, h.CheckNonce, []byte("sceau keystore check"), nil)
	b, _ := json.MarshalIndent(h, "", "  ")
	if err := safefile.WriteNew(filepath.Join(s.dir, headerName), b, 0o600); err != nil {
		return sceau.E(sceau.Conflict, op, "a keystore exists already in "+s.dir, err)
	}
	s.mu.Lock()
	s.aead = aead
	s.mu.Unlock()
	return nil
}

// Activate opens the store with its activation secret. The caller should
// wipe secret after the call.
func (s *SoftStore) Activate(secret []byte) error {
	const op = "keys: activate keystore"
	b, err := os.ReadFile(filepath.Join(s.dir, headerName))
	if err != nil {
		return sceau.E(sceau.NotFound, op, "no keystore in "+s.dir, err)
	}
	var h storeHeader
	if err := json.Unmarshal(b, &h); err != nil || h.Version != 1 || h.KDF != "argon2id" {
		return sceau.Errorf(sceau.Invalid, op, "the keystore header in %s is damaged or of an unknown version", s.dir)
	}
	aead := deriveAEAD(secret, &h)
	if _, err := aead.Open(nil, h.CheckNonce, h.Check, nil); err != nil {
		return sceau.Errorf(sceau.Denied, op, "wrong activation secret")
	}
	s.mu.Lock()
	s.aead = aead
	s.mu.Unlock()
	return nil
}

// Deactivate drops the derived key and every loaded key: signers handed out
// before now answer ErrNotActivated (KEY-5).
func (s *SoftStore) Deactivate() {
	s.mu.Lock()
	s.aead = nil
	clear(s.loaded)
	s.mu.Unlock()
}

// Active reports whether the store is activated.
func (s *SoftStore) Active() bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.aead != nil
}

// Generate makes a key of type t under label and seals it into the store. It
// refuses to overwrite a key with the same label.
func (s *SoftStore) Generate(label string, t Type) (crypto.Signer, error) {
	const op = "keys: generate"
	if !labelPattern.MatchString(label) {
		return nil, sceau.Errorf(sceau.Invalid, op, "bad key label %q", label)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.aead == nil {
		return nil, NotActivated(op, "the keystore is not activated")
	}
	key, err := t.Generate(nil)
	if err != nil {
		return nil, sceau.E(sceau.Invalid, op, "", err)
	}
	pkcs8, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, sceau.E(sceau.Internal, op, "", err)
	}
	defer wipe(pkcs8)
	spki, err := x509.MarshalPKIXPublicKey(key.Public())
	if err != nil {
		return nil, sceau.E(sceau.Internal, op, "", err)
	}
	kf := keyFile{Version: 1, Label: label, Type: t, Public: spki, Nonce: random(12)}
	kf.Ciphertext = s.aead.Seal(nil, kf.Nonce, pkcs8, additionalData(label, t))
	b, _ := json.MarshalIndent(kf, "", "  ")
	if err := safefile.WriteNew(s.path(label), b, 0o600); err != nil {
		return nil, sceau.E(sceau.Conflict, op, fmt.Sprintf("key %q exists already", label), err)
	}
	s.loaded[label] = key
	delete(s.destroyed, label)
	return &softSigner{store: s, label: label, pub: key.Public()}, nil
}

// Signer returns the signer for label. It works while the store is
// activated; afterwards its Sign answers ErrNotActivated.
func (s *SoftStore) Signer(label string) (crypto.Signer, error) {
	const op = "keys: load"
	s.mu.Lock()
	defer s.mu.Unlock()
	if k, ok := s.loaded[label]; ok {
		return &softSigner{store: s, label: label, pub: k.Public()}, nil
	}
	if s.aead == nil {
		// Not activated: the public half is enough to describe the key;
		// signing waits for activation (KEY-5).
		pub, err := s.publicKey(label)
		if err != nil {
			return nil, err
		}
		return &softSigner{store: s, label: label, pub: pub}, nil
	}
	key, err := s.open(label)
	if err != nil {
		return nil, err
	}
	s.loaded[label] = key
	return &softSigner{store: s, label: label, pub: key.Public()}, nil
}

// publicKey reads the public half of a key file without decrypting it.
func (s *SoftStore) publicKey(label string) (crypto.PublicKey, error) {
	const op = "keys: load"
	if !labelPattern.MatchString(label) {
		return nil, sceau.Errorf(sceau.Invalid, op, "bad key label %q", label)
	}
	b, err := os.ReadFile(s.path(label))
	if err != nil {
		return nil, sceau.E(sceau.NotFound, op, fmt.Sprintf("no key %q in the keystore", label), err)
	}
	var kf keyFile
	if err := json.Unmarshal(b, &kf); err != nil || kf.Label != label {
		return nil, sceau.Errorf(sceau.Invalid, op, "the file of key %q is damaged", label)
	}
	pub, err := x509.ParsePKIXPublicKey(kf.Public)
	if err != nil {
		return nil, sceau.Errorf(sceau.Invalid, op, "the public key of %q is damaged", label)
	}
	return pub, nil
}

func (s *SoftStore) open(label string) (crypto.Signer, error) {
	const op = "keys: load"
	_, pkcs8, err := s.openPKCS8(label)
	if err != nil {
		return nil, err
	}
	defer wipe(pkcs8)
	k, err := x509.ParsePKCS8PrivateKey(pkcs8)
	if err != nil {
		return nil, sceau.E(sceau.Invalid, op, fmt.Sprintf("key %q cannot be parsed", label), err)
	}
	signer, ok := k.(crypto.Signer)
	if !ok {
		return nil, sceau.Errorf(sceau.Invalid, op, "key %q cannot sign", label)
	}
	return signer, nil
}

// openPKCS8 decrypts the key file of label; the caller holds s.mu with the
// store activated, and wipes the PKCS#8 bytes.
func (s *SoftStore) openPKCS8(label string) (*keyFile, []byte, error) {
	const op = "keys: load"
	if !labelPattern.MatchString(label) {
		return nil, nil, sceau.Errorf(sceau.Invalid, op, "bad key label %q", label)
	}
	if s.destroyed[label] {
		return nil, nil, sceau.Errorf(sceau.NotFound, op, "key %q was destroyed (KEY-6)", label)
	}
	b, err := os.ReadFile(s.path(label))
	if err != nil {
		return nil, nil, sceau.E(sceau.NotFound, op, fmt.Sprintf("no key %q in the keystore", label), err)
	}
	var kf keyFile
	if err := json.Unmarshal(b, &kf); err != nil || kf.Label != label {
		return nil, nil, sceau.Errorf(sceau.Invalid, op, "the file of key %q is damaged", label)
	}
	pkcs8, err := s.aead.Open(nil, kf.Nonce, kf.Ciphertext, additionalData(label, kf.Type))
	if err != nil {
		return nil, nil, sceau.Errorf(sceau.Invalid, op, "the file of key %q fails authentication (edited or damaged)", label)
	}
	return &kf, pkcs8, nil
}

func (s *SoftStore) path(label string) string { return filepath.Join(s.dir, label+".key") }

// softSigner signs with a key of the store while the store is activated.
type softSigner struct {
	store *SoftStore
	label string
	pub   crypto.PublicKey
}

func (k *softSigner) Public() crypto.PublicKey { return k.pub }

func (k *softSigner) Sign(r io.Reader, digest []byte, opts crypto.SignerOpts) ([]byte, error) {
	k.store.mu.RLock()
	key, ok := k.store.loaded[k.label]
	k.store.mu.RUnlock()
	if !ok {
		var err error
		if key, err = k.load(); err != nil {
			return nil, err
		}
	}
	return key.Sign(r, digest, opts)
}

// load opens the key after an activation that happened since the signer
// was handed out; the key must be the one the signer was made for.
func (k *softSigner) load() (crypto.Signer, error) {
	k.store.mu.Lock()
	defer k.store.mu.Unlock()
	if key, ok := k.store.loaded[k.label]; ok {
		return key, nil
	}
	if k.store.aead == nil {
		return nil, fmt.Errorf("keys: key %q: %w", k.label, ErrNotActivated)
	}
	key, err := k.store.open(k.label)
	if err != nil {
		return nil, err
	}
	if eq, ok := key.Public().(interface{ Equal(crypto.PublicKey) bool }); !ok || !eq.Equal(k.pub) {
		return nil, sceau.Errorf(sceau.Internal, "keys: load", "key %q changed since it was loaded", k.label)
	}
	k.store.loaded[k.label] = key
	return key, nil
}

// Active reports whether the signer can sign now.
func (k *softSigner) Active() bool { return k.store.Active() }

func deriveAEAD(secret []byte, h *storeHeader) cipher.AEAD {
	k := argon2.IDKey(secret, h.Salt, h.Time, h.Memory, h.Threads, 32)
	defer wipe(k)
	block, _ := aes.NewCipher(k)
	aead, _ := cipher.NewGCM(block)
	return aead
}

func additionalData(label string, t Type) []byte {
	return []byte("sceau-key-v1\x00" + label + "\x00" + string(t))
}

func random(n int) []byte {
	b := make([]byte, n)
	if _, err := io.ReadFull(rand.Reader, b); err != nil {
		panic("keys: crypto/rand failed: " + err.Error())
	}
	return b
}

// wipe overwrites b; used on decrypted key bytes and derived keys.
func wipe(b []byte) {
	subtle.XORBytes(b, b, b)
}
