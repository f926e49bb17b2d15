package quorum

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"

	"github.com/sceau/sceau/internal/safefile"
	"github.com/sceau/sceau/internal/sceau"
)

// A share file is a share sealed for one holder: AES-256-GCM under a key
// derived from the holder's PIN with Argon2id, with the CA key's ID and the
// holder's identity as associated data, so a share file cannot be passed off
// as another key's or another holder's (KEY-2).

// MinPINLength is the shortest PIN a holder may choose.
const MinPINLength = 8

// Argon2id cost for share files: deliberately slow, a PIN is weak.
const (
	shareArgonTime    = 3
	shareArgonMemory  = 64 * 1024
	shareArgonThreads = 2
)

// ShareFile is the on-disk form of a sealed share.
type ShareFile struct {
	Version    int    `json:"version"`
	KeyID      string `json:"key_id"` // the CA key the share activates
	Holder     string `json:"holder"` // the holder's account
	SetID      []byte `json:"set_id"` // public: identifies the split
	Threshold  int    `json:"threshold"`
	Total      int    `json:"total"`
	KDF        string `json:"kdf"`
	Time       uint32 `json:"time"`
	Memory     uint32 `json:"memory_kib"`
	Threads    uint8  `json:"threads"`
	Salt       []byte `json:"salt"`
	Nonce      []byte `json:"nonce"`
	Ciphertext []byte `json:"ciphertext"`
}

// Errors of Open.
var (
	ErrWrongPIN       = errors.New("quorum: wrong PIN, or the share file was edited")
	ErrWrongKey       = errors.New("quorum: the share belongs to another key")
	ErrWrongHolder    = errors.New("quorum: the share belongs to another holder")
	ErrDamagedCarrier = errors.New("quorum: the share file is damaged")
)

// Seal seals share for holder under pin, bound to keyID.
func Seal(share Share, keyID, holder string, pin []byte) (*ShareFile, error) {
	const op = "quorum: seal share"
	if utf8.RuneCount(pin) < MinPINLength {
		return nil, sceau.Errorf(sceau.Invalid, op, "a PIN needs at least %d characters", MinPINLength)
	}
	if keyID == "" || holder == "" {
		return nil, sceau.Errorf(sceau.Invalid, op, "key ID and holder are required")
	}
	f := &ShareFile{Version: 1, KeyID: keyID, Holder: holder, SetID: share.SetID[:], Threshold: share.Threshold, Total: share.Total,
		KDF: "argon2id", Time: shareArgonTime, Memory: shareArgonMemory, Threads: shareArgonThreads,
		Salt: make([]byte, 16), Nonce: make([]byte, 12)}
	if _, err := io.ReadFull(rand.Reader, f.Salt); err != nil {
		return nil, err
	}
	if _, err := io.ReadFull(rand.Reader, f.Nonce); err != nil {
		return nil, err
	}
	aead, err := f.aead(pin)
	if err != nil {
		return nil, err
	}
	plain := append([]byte{share.X}, share.Y...)
	defer wipe(plain)
	f.Ciphertext = aead.Seal(nil, f.Nonce, plain, f.additionalData())
	return f, nil
}

// Open checks that the file is for keyID and holder, then decrypts the
// share with pin. A wrong PIN and an edited file are told apart only by
// ErrWrongPIN: authenticated encryption cannot say which.
func (f *ShareFile) Open(keyID, holder string, pin []byte) (Share, error) {
	if f.Version != 1 || f.KDF != "argon2id" || len(f.SetID) != 16 || len(f.Nonce) != 12 || len(f.Salt) < 16 ||
		f.Time == 0 || f.Time > 16 || f.Memory < 8*1024 || f.Memory > 1024*1024 || f.Threads == 0 {
		return Share{}, ErrDamagedCarrier
	}
	if f.KeyID != keyID {
		return Share{}, ErrWrongKey
	}
	if f.Holder != holder {
		return Share{}, ErrWrongHolder
	}
	aead, err := f.aead(pin)
	if err != nil {
		return Share{}, err
	}
	plain, err := aead.Open(nil, f.Nonce, f.Ciphertext, f.additionalData())
	if err != nil {
		return Share{}, ErrWrongPIN
	}
	defer wipe(plain)
	if len(plain) < 2 {
		return Share{}, ErrDamagedCarrier
	}
	s := Share{Threshold: f.Threshold, Total: f.Total, X: plain[0], Y: append([]byte(nil), plain[1:]...)}
	copy(s.SetID[:], f.SetID)
	return s, nil
}

func (f *ShareFile) aead(pin []byte) (cipher.AEAD, error) {
	k := argon2.IDKey(pin, f.Salt, f.Time, f.Memory, f.Threads, 32)
	defer wipe(k)
	block, err := aes.NewCipher(k)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

// additionalData binds the ciphertext to every public field.
func (f *ShareFile) additionalData() []byte {
	var b []byte
	b = append(b, "sceau-share-v1"...)
	for _, s := range []string{f.KeyID, f.Holder, string(f.SetID)} {
		b = binary.BigEndian.AppendUint32(b, uint32(len(s)))
		b = append(b, s...)
	}
	b = binary.BigEndian.AppendUint32(b, uint32(f.Threshold))
	b = binary.BigEndian.AppendUint32(b, uint32(f.Total))
	return b
}

// WriteFile writes the share file, refusing to overwrite.
func (f *ShareFile) WriteFile(path string) error {
	b, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		return err
	}
	if err := safefile.WriteNew(path, append(b, '\n'), 0o600); err != nil {
		return fmt.Errorf("quorum: %w", err)
	}
	return nil
}

// ReadShareFile reads a share file; a file that is not one is ErrDamagedCarrier.
func ReadShareFile(path string) (*ShareFile, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("quorum: %w", err)
	}
	var f ShareFile
	if err := json.Unmarshal(b, &f); err != nil {
		return nil, ErrDamagedCarrier
	}
	return &f, nil
}
