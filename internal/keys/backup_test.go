package keys_test

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/json"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/sceau/sceau/internal/keys"
	"github.com/sceau/sceau/internal/sceau"
)

func wrapKey(t *testing.T) []byte {
	t.Helper()
	k := make([]byte, keys.WrapKeySize)
	if _, err := rand.Read(k); err != nil {
		t.Fatal(err)
	}
	return k
}

func activeSoftStore(t *testing.T) *keys.SoftStore {
	t.Helper()
	s := keys.OpenSoftStore(filepath.Join(t.TempDir(), "keys"))
	if err := s.Init([]byte("a test activation secret")); err != nil {
		t.Fatal(err)
	}
	return s
}

var ref = keys.BackupRef{CA: "issuing", WrapKeyID: "backup-issuing-1", CreatedAt: time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)}

func TestKEY4_SoftStoreBackupRestoresIntoAnotherKeystore(t *testing.T) {
	for _, kt := range []keys.Type{keys.ECDSAP256, keys.RSA2048} {
		t.Run(string(kt), func(t *testing.T) {
			src := activeSoftStore(t)
			orig, err := src.Generate("ca-issuing", kt)
			if err != nil {
				t.Fatal(err)
			}
			kek := wrapKey(t)
			b, err := src.BackupKey("ca-issuing", kek, ref)
			if err != nil {
				t.Fatalf("BackupKey: %v", err)
			}
			if b.Mechanism != keys.MechAESGCM {
				t.Errorf("mechanism %q, want %q", b.Mechanism, keys.MechAESGCM)
			}
			parsed, err := keys.ParseBackup(b.Marshal())
			if err != nil {
				t.Fatalf("ParseBackup: %v", err)
			}
			dst := activeSoftStore(t)
			if err := dst.RestoreKey(parsed, kek); err != nil {
				t.Fatalf("RestoreKey: %v", err)
			}
			k, err := dst.Signer("ca-issuing")
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(spki(t, k.Public()), spki(t, orig.Public())) {
				t.Fatal("the restored key is not the original")
			}
			if err := verifies(k); err != nil {
				t.Fatalf("the restored key does not sign: %v", err)
			}
			if err := dst.RestoreKey(parsed, kek); sceau.KindOf(err) != sceau.Conflict {
				t.Errorf("a second restore: %v, want Conflict", err)
			}
		})
	}
}

func spki(t *testing.T, pub any) []byte {
	t.Helper()
	b, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// KEY-3: the backup file holds the key only under the wrapping key.
func TestKEY3_BackupFileHoldsNoKeyInClear(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "keys")
	src := keys.OpenSoftStore(dir)
	if err := src.Init([]byte("a test activation secret")); err != nil {
		t.Fatal(err)
	}
	if _, err := src.Generate("ca-issuing", keys.ECDSAP256); err != nil {
		t.Fatal(err)
	}
	b, err := src.BackupKey("ca-issuing", wrapKey(t), ref)
	if err != nil {
		t.Fatal(err)
	}
	pkcs8 := keys.ExportForTest(t, src, "ca-issuing")
	file := b.Marshal()
	if bytes.Contains(file, pkcs8) || bytes.Contains(b.Wrapped, pkcs8) {
		t.Fatal("the backup file holds the PKCS#8 of the key in clear")
	}
	// Not even its private scalar, in any of the encodings JSON uses.
	scalar := keys.ScalarForTest(t, pkcs8)
	for _, enc := range [][]byte{scalar, []byte(jsonBytes(t, scalar))} {
		if bytes.Contains(file, enc) {
			t.Fatal("the backup file holds the private scalar in clear")
		}
	}
}

// verifies signs with k and checks the signature with its public key.
func verifies(k crypto.Signer) error {
	d := sha256.Sum256([]byte("sceau"))
	sig, err := k.Sign(rand.Reader, d[:], crypto.SHA256)
	if err != nil {
		return err
	}
	switch pub := k.Public().(type) {
	case *ecdsa.PublicKey:
		if !ecdsa.VerifyASN1(pub, d[:], sig) {
			return errors.New("the ECDSA signature does not verify")
		}
	case *rsa.PublicKey:
		return rsa.VerifyPKCS1v15(pub, crypto.SHA256, d[:], sig)
	}
	return nil
}

func jsonBytes(t *testing.T, b []byte) string {
	out, err := json.Marshal(b)
	if err != nil {
		t.Fatal(err)
	}
	return string(out[1 : len(out)-1])
}

func TestKEY4_TamperedBackupIsRefused(t *testing.T) {
	src := activeSoftStore(t)
	if _, err := src.Generate("ca-issuing", keys.ECDSAP256); err != nil {
		t.Fatal(err)
	}
	kek := wrapKey(t)
	b, err := src.BackupKey("ca-issuing", kek, ref)
	if err != nil {
		t.Fatal(err)
	}
	other, err := src.Generate("ca-other", keys.ECDSAP256)
	if err != nil {
		t.Fatal(err)
	}
	for name, edit := range map[string]func(b *keys.Backup){
		"ca":          func(b *keys.Backup) { b.CA = "root" },
		"label":       func(b *keys.Backup) { b.Label = "ca-root" },
		"wrap key id": func(b *keys.Backup) { b.WrapKeyID = "backup-issuing-2" },
		"public key":  func(b *keys.Backup) { b.Public = spki(t, other.Public()) },
		"created at":  func(b *keys.Backup) { b.CreatedAt = b.CreatedAt.Add(time.Second) },
		"wrapped":     func(b *keys.Backup) { b.Wrapped[3] ^= 1 },
		"nonce":       func(b *keys.Backup) { b.Nonce[0] ^= 1 },
	} {
		t.Run(name, func(t *testing.T) {
			c, err := keys.ParseBackup(b.Marshal())
			if err != nil {
				t.Fatal(err)
			}
			edit(c)
			dst := activeSoftStore(t)
			if err := dst.RestoreKey(c, kek); sceau.KindOf(err) != sceau.Invalid {
				t.Fatalf("RestoreKey of an edited backup: %v, want Invalid", err)
			}
			if _, err := dst.Signer("ca-issuing"); err == nil {
				t.Fatal("an edited backup left a key behind")
			}
		})
	}
	t.Run("wrong wrapping key", func(t *testing.T) {
		dst := activeSoftStore(t)
		if err := dst.RestoreKey(b, wrapKey(t)); sceau.KindOf(err) != sceau.Invalid {
			t.Fatalf("RestoreKey under another key: %v, want Invalid", err)
		}
	})
	t.Run("not a backup", func(t *testing.T) {
		if _, err := keys.ParseBackup([]byte(`{"format":"sceau-key-backup","version":1,"private_key":"x"}`)); sceau.KindOf(err) != sceau.Invalid {
			t.Fatalf("ParseBackup: %v, want Invalid", err)
		}
	})
}

func TestKEY6_SoftStoreDestroyedKeyCannotSign(t *testing.T) {
	s := activeSoftStore(t)
	k, err := s.Generate("ca-issuing", keys.ECDSAP256)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.DestroyKey("ca-issuing"); err != nil {
		t.Fatalf("DestroyKey: %v", err)
	}
	err = verifies(k)
	if sceau.KindOf(err) != sceau.NotFound || !bytes.Contains([]byte(err.Error()), []byte("destroyed")) {
		t.Fatalf("signing with a destroyed key: %v, want NotFound saying destroyed", err)
	}
	if _, err := s.Signer("ca-issuing"); err == nil {
		t.Fatal("Signer of a destroyed key succeeded")
	}
	if err := s.DestroyKey("ca-issuing"); sceau.KindOf(err) != sceau.NotFound {
		t.Fatalf("second DestroyKey: %v, want NotFound", err)
	}
	if _, err := s.BackupKey("ca-issuing", wrapKey(t), ref); sceau.KindOf(err) != sceau.NotFound {
		t.Fatalf("BackupKey of a destroyed key: %v, want NotFound", err)
	}
}
