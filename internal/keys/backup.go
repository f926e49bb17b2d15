package keys

import (
	"bytes"
	"crypto"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/x509"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"os"
	"time"

	"github.com/sceau/sceau/internal/safefile"
	"github.com/sceau/sceau/internal/sceau"
)

// A backup copy of a CA key outside its device (KEY-4): the key wrapped
// under a 256-bit wrapping key that the caller splits m-of-n and never
// keeps whole. Two keys are derived from the wrapping key with HKDF-SHA256,
// one that wraps the private key (AES key wrap with padding inside a
// PKCS#11 token, AES-256-GCM in the software keystore), one that
// authenticates every field of the file with HMAC-SHA256, so that the CA,
// the label or the public key of a backup cannot be changed unnoticed.
// The private key is never written, returned or logged in clear (KEY-3).

// Wrapping mechanisms of a backup.
const (
	MechAESKeyWrapPad = "CKM_AES_KEY_WRAP_PAD" // PKCS#11 tokens (RFC 5649)
	MechAESGCM        = "AES-256-GCM"          // the software keystore: PKCS#8 sealed
)

// WrapKeySize is the size of a backup's wrapping key: AES-256, at least as
// strong as any CA key Sceau makes (KEY-4).
const WrapKeySize = 32

const backupFormat = "sceau-key-backup"

// Backup is the file of one backup copy of a CA key. It holds nothing
// secret in clear: Wrapped is the private key under the wrapping key.
type Backup struct {
	Format    string    `json:"format"`
	Version   int       `json:"version"`
	CA        string    `json:"ca"`
	Label     string    `json:"label"`
	KeyID     []byte    `json:"key_id,omitempty"` // the token's CKA_ID, when the key came from one
	Type      Type      `json:"type"`
	Public    []byte    `json:"public_spki"`
	Mechanism string    `json:"mechanism"`
	WrapKeyID string    `json:"wrap_key_id"` // names the split of the wrapping key
	CreatedAt time.Time `json:"created_at"`
	Nonce     []byte    `json:"nonce,omitempty"` // AES-256-GCM only
	Wrapped   []byte    `json:"wrapped"`
	MAC       []byte    `json:"mac"`
}

// BackupRef names what a new backup belongs to.
type BackupRef struct {
	CA        string
	WrapKeyID string
	CreatedAt time.Time
}

// Vault is a key store that can back up, restore and destroy its keys
// (KEY-4, KEY-6). Both SoftStore and PKCS11Store are vaults.
type Vault interface {
	// BackupKey wraps the key labelled label under wrapKey. The store
	// must be activated.
	BackupKey(label string, wrapKey []byte, ref BackupRef) (*Backup, error)
	// RestoreKey checks b against wrapKey and imports its key under its
	// label; it refuses a label the store holds already.
	RestoreKey(b *Backup, wrapKey []byte) error
	// DestroyKey destroys the key labelled label for good.
	DestroyKey(label string) error
}

var (
	_ Vault = (*SoftStore)(nil)
	_ Vault = (*PKCS11Store)(nil)
)

// ParseBackup reads a backup file. It checks the form only: Verify, with
// the wrapping key, checks that nothing was changed.
func ParseBackup(b []byte) (*Backup, error) {
	const op = "keys: backup file"
	var bk Backup
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&bk); err != nil {
		return nil, sceau.Errorf(sceau.Invalid, op, "not a Sceau key backup file")
	}
	switch {
	case bk.Format != backupFormat || bk.Version != 1:
		return nil, sceau.Errorf(sceau.Invalid, op, "not a Sceau key backup file of version 1")
	case bk.Mechanism != MechAESKeyWrapPad && bk.Mechanism != MechAESGCM:
		return nil, sceau.Errorf(sceau.Invalid, op, "unknown wrapping mechanism %q", bk.Mechanism)
	case !labelPattern.MatchString(bk.Label) || bk.CA == "" || bk.WrapKeyID == "":
		return nil, sceau.Errorf(sceau.Invalid, op, "the backup names no valid CA, label or wrapping key")
	case len(bk.Wrapped) == 0 || len(bk.MAC) != sha256.Size:
		return nil, sceau.Errorf(sceau.Invalid, op, "the backup is truncated")
	}
	if _, err := bk.PublicKey(); err != nil {
		return nil, err
	}
	return &bk, nil
}

// ReadBackupFile reads and parses a backup file.
func ReadBackupFile(path string) (*Backup, []byte, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, sceau.E(sceau.NotFound, "keys: backup file", "cannot read "+path, err)
	}
	bk, err := ParseBackup(raw)
	return bk, raw, err
}

// Marshal encodes the backup file.
func (b *Backup) Marshal() []byte {
	out, _ := json.MarshalIndent(b, "", "  ")
	return append(out, '\n')
}

// PublicKey is the public half of the backed up key.
func (b *Backup) PublicKey() (crypto.PublicKey, error) {
	pub, err := x509.ParsePKIXPublicKey(b.Public)
	if err != nil {
		return nil, sceau.Errorf(sceau.Invalid, "keys: backup file", "the public key of the backup is damaged")
	}
	t, err := TypeOf(pub)
	if err != nil || t != b.Type {
		return nil, sceau.Errorf(sceau.Invalid, "keys: backup file", "the public key of the backup is not of type %s", b.Type)
	}
	return pub, nil
}

// Verify checks the backup's MAC under wrapKey: a file edited in any field,
// or a wrong wrapping key, is refused (Invalid) before anything is unwrapped.
func (b *Backup) Verify(wrapKey []byte) error {
	_, macKey, err := backupKeys(wrapKey)
	if err != nil {
		return err
	}
	defer wipe(macKey)
	if !hmac.Equal(b.mac(macKey), b.MAC) {
		return sceau.Errorf(sceau.Invalid, "keys: backup file", "the backup of %q fails authentication (edited, damaged, or the wrong wrapping key)", b.Label)
	}
	return nil
}

// seal computes the MAC of a finished backup.
func (b *Backup) seal(macKey []byte) { b.MAC = b.mac(macKey) }

func (b *Backup) mac(macKey []byte) []byte {
	m := hmac.New(sha256.New, macKey)
	m.Write(b.header())
	writeField(m, b.Nonce)
	writeField(m, b.Wrapped)
	return m.Sum(nil)
}

// header encodes every field but the ciphertext and the MAC, each with its
// length, so that no two backups share an encoding; it is also the
// associated data of AES-256-GCM.
func (b *Backup) header() []byte {
	var buf bytes.Buffer
	buf.WriteString(backupFormat)
	for _, f := range [][]byte{{byte(b.Version)}, []byte(b.CA), []byte(b.Label), b.KeyID, []byte(b.Type), b.Public,
		[]byte(b.Mechanism), []byte(b.WrapKeyID), []byte(b.CreatedAt.UTC().Format(time.RFC3339Nano))} {
		writeField(&buf, f)
	}
	return buf.Bytes()
}

func writeField(w interface{ Write([]byte) (int, error) }, f []byte) {
	w.Write(binary.BigEndian.AppendUint32(nil, uint32(len(f))))
	w.Write(f)
}

// backupKeys derives the key that wraps and the key that authenticates
// from a backup's wrapping key. The caller wipes both.
func backupKeys(wrapKey []byte) (wrap, mac []byte, err error) {
	const op = "keys: backup"
	if len(wrapKey) != WrapKeySize {
		return nil, nil, sceau.Errorf(sceau.Invalid, op, "the wrapping key must be %d bytes", WrapKeySize)
	}
	wrap, err = hkdf.Key(sha256.New, wrapKey, nil, "sceau key backup v1: wrap", 32)
	if err == nil {
		mac, err = hkdf.Key(sha256.New, wrapKey, nil, "sceau key backup v1: mac", 32)
	}
	if err != nil {
		return nil, nil, sceau.E(sceau.Internal, op, "", err)
	}
	return wrap, mac, nil
}

// newBackup starts the backup of a key: every field but the wrapped key.
func newBackup(label string, id []byte, t Type, pub crypto.PublicKey, mech string, ref BackupRef) (*Backup, error) {
	spki, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return nil, sceau.E(sceau.Internal, "keys: backup", "", err)
	}
	if ref.CA == "" || ref.WrapKeyID == "" {
		return nil, sceau.Errorf(sceau.Invalid, "keys: backup", "a backup needs its CA and the ID of its wrapping key")
	}
	created := ref.CreatedAt
	if created.IsZero() {
		created = time.Now()
	}
	return &Backup{Format: backupFormat, Version: 1, CA: ref.CA, Label: label, KeyID: id, Type: t, Public: spki,
		Mechanism: mech, WrapKeyID: ref.WrapKeyID, CreatedAt: created.UTC().Truncate(time.Second)}, nil
}

// samePublic reports whether a and b are the same public key.
func samePublic(a, b crypto.PublicKey) bool {
	eq, ok := a.(interface{ Equal(crypto.PublicKey) bool })
	return ok && eq.Equal(b)
}

// BackupKey seals the PKCS#8 encoding of the key labelled label with
// AES-256-GCM under a key derived from wrapKey (KEY-4). The PKCS#8 bytes
// live only in memory and are wiped; the caller wipes wrapKey.
func (s *SoftStore) BackupKey(label string, wrapKey []byte, ref BackupRef) (*Backup, error) {
	const op = "keys: backup"
	wk, mk, err := backupKeys(wrapKey)
	if err != nil {
		return nil, err
	}
	defer wipe(wk)
	defer wipe(mk)
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.aead == nil {
		return nil, NotActivated(op, fmt.Sprintf("key %q is not activated: activate it before a backup", label))
	}
	kf, pkcs8, err := s.openPKCS8(label)
	if err != nil {
		return nil, err
	}
	defer wipe(pkcs8)
	pub, err := x509.ParsePKIXPublicKey(kf.Public)
	if err != nil {
		return nil, sceau.Errorf(sceau.Invalid, op, "the public key of %q is damaged", label)
	}
	b, err := newBackup(label, nil, kf.Type, pub, MechAESGCM, ref)
	if err != nil {
		return nil, err
	}
	aead, err := gcm(wk)
	if err != nil {
		return nil, err
	}
	b.Nonce = random(12)
	b.Wrapped = aead.Seal(nil, b.Nonce, pkcs8, b.header())
	b.seal(mk)
	return b, nil
}

// checkRestore refuses a backup made with another mechanism than the
// store's (want), or that does not verify under wrapKey, and returns the
// public key it names.
func (b *Backup) checkRestore(op, want string, wrapKey []byte) (crypto.PublicKey, error) {
	if b.Mechanism != want {
		where := map[string]string{MechAESGCM: "the software keystore", MechAESKeyWrapPad: "a PKCS#11 token"}
		return nil, sceau.Errorf(sceau.Invalid, op, "a backup made with %s restores into %s, not %s", b.Mechanism, where[b.Mechanism], where[want])
	}
	if err := b.Verify(wrapKey); err != nil {
		return nil, err
	}
	return b.PublicKey()
}

// RestoreKey checks the backup under wrapKey, opens it and seals the key
// into this store under its label, as Generate would have. It refuses a
// label the store holds already, and a key whose public half is not the
// one the backup names.
func (s *SoftStore) RestoreKey(b *Backup, wrapKey []byte) error {
	const op = "keys: restore"
	pub, err := b.checkRestore(op, MechAESGCM, wrapKey)
	if err != nil {
		return err
	}
	wk, mk, err := backupKeys(wrapKey)
	if err != nil {
		return err
	}
	defer wipe(wk)
	defer wipe(mk)
	aead, err := gcm(wk)
	if err != nil {
		return err
	}
	pkcs8, err := aead.Open(nil, b.Nonce, b.Wrapped, b.header())
	if err != nil {
		return sceau.Errorf(sceau.Invalid, op, "the backup of %q fails authentication", b.Label)
	}
	defer wipe(pkcs8)
	k, err := x509.ParsePKCS8PrivateKey(pkcs8)
	if err != nil {
		return sceau.E(sceau.Invalid, op, "the key in the backup cannot be parsed", err)
	}
	key, ok := k.(crypto.Signer)
	if !ok || !samePublic(key.Public(), pub) {
		return sceau.Errorf(sceau.Invalid, op, "the key in the backup of %q is not the key of its public half", b.Label)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.aead == nil {
		return NotActivated(op, "the keystore is not activated")
	}
	kf := keyFile{Version: 1, Label: b.Label, Type: b.Type, Public: b.Public, Nonce: random(12)}
	kf.Ciphertext = s.aead.Seal(nil, kf.Nonce, pkcs8, additionalData(b.Label, b.Type))
	out, _ := json.MarshalIndent(kf, "", "  ")
	if err := safefile.WriteNew(s.path(b.Label), out, 0o600); err != nil {
		return sceau.E(sceau.Conflict, op, fmt.Sprintf("key %q exists already in the keystore", b.Label), err)
	}
	delete(s.destroyed, b.Label)
	s.loaded[b.Label] = key
	return nil
}

// DestroyKey removes the sealed key file of label and forgets the loaded
// key (KEY-6): signers of it answer that the key was destroyed. Copies of
// the file made outside Sceau are not reachable from here; they are sealed
// under the store's activation secret, whose shares destruction revokes.
func (s *SoftStore) DestroyKey(label string) error {
	const op = "keys: destroy"
	if !labelPattern.MatchString(label) {
		return sceau.Errorf(sceau.Invalid, op, "bad key label %q", label)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := os.Remove(s.path(label)); err != nil {
		if os.IsNotExist(err) {
			return sceau.Errorf(sceau.NotFound, op, "no key %q in the keystore", label)
		}
		return sceau.E(sceau.Unavailable, op, fmt.Sprintf("cannot remove the file of key %q", label), err)
	}
	delete(s.loaded, label)
	s.destroyed[label] = true
	return nil
}

func gcm(key []byte) (cipher.AEAD, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, sceau.E(sceau.Internal, "keys: backup", "", err)
	}
	return cipher.NewGCM(block)
}
