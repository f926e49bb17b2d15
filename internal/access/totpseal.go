package access

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"database/sql"
	"encoding/base64"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/sceau/sceau/internal/audit"
	"github.com/sceau/sceau/internal/safefile"
	"github.com/sceau/sceau/internal/sceau"
	"github.com/sceau/sceau/internal/store"
)

// TOTP secrets at rest (ROLE-4). A stolen database must not yield the
// second factors: each secret is sealed with AES-256-GCM under a key kept
// outside the database, in a file of the data directory readable only by
// the service (OpenTOTPKey), and bound to its account by the associated
// data, so a sealed value copied to another account does not open.
//
// Stored form: "v1:" + base64(nonce || ciphertext || tag).
const (
	sealPrefix = "v1:"
	sealAAD    = "sceau/totp-secret/v1\x00"
	// TOTPKeySize is the size of the sealing key: AES-256.
	TOTPKeySize = 32
)

type totpSealer struct{ aead cipher.AEAD }

func newTOTPSealer(key []byte) (*totpSealer, error) {
	if len(key) != TOTPKeySize {
		return nil, sceau.Errorf(sceau.Invalid, "access: totp key", "the TOTP sealing key must be %d bytes, not %d", TOTPKeySize, len(key))
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, sceau.E(sceau.Internal, "access: totp key", "", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, sceau.E(sceau.Internal, "access: totp key", "", err)
	}
	return &totpSealer{aead: aead}, nil
}

func (t *totpSealer) seal(account, secret string, rnd io.Reader) (string, error) {
	nonce := make([]byte, t.aead.NonceSize())
	if _, err := io.ReadFull(rnd, nonce); err != nil {
		return "", sceau.E(sceau.Internal, "access: totp", "no randomness", err)
	}
	out := t.aead.Seal(nonce, nonce, []byte(secret), []byte(sealAAD+account))
	return sealPrefix + base64.RawStdEncoding.EncodeToString(out), nil
}

// errSealed is the one answer for a sealed value that does not open; it
// never says more (no secret, no key material).
var errSealed = errors.New("the stored TOTP secret does not open for this account")

func (t *totpSealer) open(account, stored string) (string, error) {
	rest, ok := strings.CutPrefix(stored, sealPrefix)
	if !ok {
		return "", errSealed
	}
	b, err := base64.RawStdEncoding.DecodeString(rest)
	if err != nil || len(b) < t.aead.NonceSize()+t.aead.Overhead() {
		return "", errSealed
	}
	n := t.aead.NonceSize()
	plain, err := t.aead.Open(nil, b[:n], b[n:], []byte(sealAAD+account))
	if err != nil {
		return "", errSealed
	}
	return string(plain), nil
}

// OpenTOTPKey reads the TOTP sealing key from path: TOTPKeySize random
// bytes, base64, in a file of mode 0600 (ROLE-4). When the file is missing
// and db holds no sealed secret yet (a new installation, or one made before
// secrets were sealed), it creates it; when sealed secrets exist, a missing
// file is an error: a new key would not open them. A file readable by
// group or others is refused.
func OpenTOTPKey(ctx context.Context, db *store.DB, path string) ([]byte, error) {
	const op = "access: totp key"
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		var n int
		if err := db.QueryRowContext(ctx, qCountLegacyTOTP).Scan(&n); err != nil {
			return nil, store.Classify(op, err)
		}
		if n > 0 {
			return nil, sceau.Errorf(sceau.Unavailable, op,
				"%s is missing and %d TOTP secrets are sealed under it: restore the file from the installation's backup", path, n)
		}
		return createTOTPKey(path)
	}
	if err != nil {
		return nil, sceau.E(sceau.Unavailable, op, "cannot read "+path, err)
	}
	if fi, err := os.Stat(path); err == nil && fi.Mode().Perm()&0o077 != 0 {
		return nil, sceau.Errorf(sceau.Invalid, op, "%s is readable by others (mode %o): chmod 600 it", path, fi.Mode().Perm())
	}
	key, err := base64.RawStdEncoding.DecodeString(strings.TrimRight(strings.TrimSpace(string(b)), "="))
	clear(b)
	if err != nil || len(key) != TOTPKeySize {
		return nil, sceau.Errorf(sceau.Invalid, op, "%s does not hold a %d-byte base64 key", path, TOTPKeySize)
	}
	return key, nil
}

func createTOTPKey(path string) ([]byte, error) {
	const op = "access: totp key"
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, sceau.E(sceau.Unavailable, op, "cannot create "+filepath.Dir(path), err)
	}
	key := make([]byte, TOTPKeySize)
	if _, err := io.ReadFull(rand.Reader, key); err != nil {
		return nil, sceau.E(sceau.Internal, op, "no randomness", err)
	}
	enc := []byte(base64.RawStdEncoding.EncodeToString(key) + "\n")
	err := safefile.WriteNew(path, enc, 0o600)
	clear(enc)
	if err != nil {
		return nil, sceau.E(sceau.Unavailable, op, "cannot write "+path, err)
	}
	return key, nil
}

// SealTOTPSecrets seals every TOTP secret still stored in clear (written
// before secrets were sealed) and returns how many, with one audit event
// in the same transaction. It first checks that the key opens the secrets
// sealed already, so a wrong key file stops the service at start rather
// than failing every login.
func (s *Service) SealTOTPSecrets(ctx context.Context) (int, error) {
	const op = "access: seal totp secrets"
	n := 0
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		n = 0
		rows, err := tx.QueryContext(ctx, qTOTPSecrets)
		if err != nil {
			return store.Classify(op, err)
		}
		type row struct{ name, secret string }
		var clearRows []row
		checked := false
		for rows.Next() {
			var r row
			if err := rows.Scan(&r.name, &r.secret); err != nil {
				rows.Close()
				return store.Classify(op, err)
			}
			if strings.HasPrefix(r.secret, sealPrefix) {
				if !checked {
					if _, err := s.totp.open(r.name, r.secret); err != nil {
						rows.Close()
						return sceau.Errorf(sceau.Unavailable, op, "the TOTP key does not open the sealed secret of %s: is it the installation's key file?", r.name)
					}
					checked = true
				}
				continue
			}
			clearRows = append(clearRows, r)
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return store.Classify(op, err)
		}
		for _, r := range clearRows {
			sealed, err := s.totp.seal(r.name, r.secret, s.o.Rand)
			if err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, qSetTOTPSecret, sealed, r.name); err != nil {
				return store.Classify(op, err)
			}
			n++
		}
		if n == 0 {
			return nil
		}
		return s.journal.Append(ctx, tx, audit.Event{Actor: sceau.System("access"), Action: "access.totp_sealed", Object: "service:access",
			Details: map[string]any{"accounts": n, "cipher": "AES-256-GCM"}})
	})
	if err != nil {
		return 0, err
	}
	return n, nil
}

// accountStatus returns the status of account (ROLE-4).
func accountStatus(ctx context.Context, q store.Querier, account string) (string, error) {
	var st string
	err := q.QueryRowContext(ctx, qAccountStatus, account).Scan(&st)
	if err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return "", sceau.Errorf(sceau.NotFound, "access: account", "no account %q", clip(account))
		}
		return "", store.Classify("access: account", err)
	}
	return st, nil
}
