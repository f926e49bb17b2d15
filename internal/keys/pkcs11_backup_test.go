//go:build cgo

package keys_test

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/sceau/sceau/internal/keys"
	"github.com/sceau/sceau/internal/sceau"
	"github.com/sceau/sceau/internal/sceautest"
)

// selfSigned makes the CA certificate of key, as the original CA would have.
func selfSigned(t *testing.T, key crypto.Signer) *x509.Certificate {
	t.Helper()
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "Backup test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// KEY-4: a token key backed up wrapped (CKM_AES_KEY_WRAP_PAD) restores
// into a fresh token, signs there, and the signature verifies with the
// original certificate.
func TestKEY4_PKCS11BackupRestoresIntoFreshToken(t *testing.T) {
	module, label, pin := sceautest.SoftHSM(t)
	freshPIN := sceautest.SoftHSMExtraToken(t, "sceau-fresh")
	src := keys.OpenPKCS11(keys.PKCS11Config{Module: module, TokenLabel: label, AllowBackup: true})
	if err := src.Activate([]byte(pin)); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(src.Deactivate)
	dst := keys.OpenPKCS11(keys.PKCS11Config{Module: module, TokenLabel: "sceau-fresh", AllowBackup: true})
	if err := dst.Activate([]byte(freshPIN)); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(dst.Deactivate)

	for _, kt := range []keys.Type{keys.ECDSAP256, keys.ECDSAP384, keys.RSA2048} {
		t.Run(string(kt), func(t *testing.T) {
			keyLabel := "ca-" + string(kt)
			orig := generate(t, src, keyLabel, kt)
			cert := selfSigned(t, orig)
			kek := wrapKey(t)
			b, err := src.BackupKey(keyLabel, kek, ref)
			if err != nil {
				t.Fatalf("BackupKey: %v", err)
			}
			if b.Mechanism != keys.MechAESKeyWrapPad || len(b.KeyID) == 0 {
				t.Fatalf("backup mechanism %q, key ID %x", b.Mechanism, b.KeyID)
			}
			parsed, err := keys.ParseBackup(b.Marshal())
			if err != nil {
				t.Fatal(err)
			}
			if err := dst.RestoreKey(parsed, kek); err != nil {
				t.Fatalf("RestoreKey: %v", err)
			}
			restored, err := dst.Signer(keyLabel)
			if err != nil {
				t.Fatal(err)
			}
			digest := sha256.Sum256([]byte("signed after the restore"))
			sig, err := restored.Sign(rand.Reader, digest[:], crypto.SHA256)
			if err != nil {
				t.Fatalf("the restored key does not sign: %v", err)
			}
			switch pub := cert.PublicKey.(type) {
			case *ecdsa.PublicKey:
				if !ecdsa.VerifyASN1(pub, digest[:], sig) {
					t.Fatal("the signature of the restored key does not verify with the original certificate")
				}
			case *rsa.PublicKey:
				if err := rsa.VerifyPKCS1v15(pub, crypto.SHA256, digest[:], sig); err != nil {
					t.Fatalf("the signature of the restored key does not verify with the original certificate: %v", err)
				}
			}
			if err := dst.RestoreKey(parsed, kek); sceau.KindOf(err) != sceau.Conflict {
				t.Errorf("second restore: %v, want Conflict", err)
			}
		})
	}

	t.Run("tampered", func(t *testing.T) {
		generate(t, src, "ca-tampered", keys.ECDSAP256)
		kek := wrapKey(t)
		b, err := src.BackupKey("ca-tampered", kek, ref)
		if err != nil {
			t.Fatal(err)
		}
		b.Wrapped[len(b.Wrapped)-1] ^= 1
		if err := dst.RestoreKey(b, kek); sceau.KindOf(err) != sceau.Invalid {
			t.Fatalf("RestoreKey of a tampered backup: %v, want Invalid", err)
		}
		if _, err := dst.Signer("ca-tampered"); err == nil {
			t.Fatal("a tampered backup left a key in the token")
		}
	})
	t.Run("into the software keystore", func(t *testing.T) {
		generate(t, src, "ca-cross", keys.ECDSAP256)
		kek := wrapKey(t)
		b, err := src.BackupKey("ca-cross", kek, ref)
		if err != nil {
			t.Fatal(err)
		}
		if err := activeSoftStore(t).RestoreKey(b, kek); sceau.KindOf(err) != sceau.Invalid {
			t.Fatalf("restoring a wrapped token key into the keystore: %v, want Invalid", err)
		}
	})
}

// KEY-3: a key generated without AllowBackup never leaves the token, not
// even wrapped.
func TestKEY3_PKCS11KeyWithoutAllowBackupIsNotWrapped(t *testing.T) {
	s, _, _ := activeToken(t)
	generate(t, s, "ca-sealed", keys.ECDSAP256)
	_, err := s.BackupKey("ca-sealed", wrapKey(t), ref)
	if sceau.KindOf(err) != sceau.Invalid || !strings.Contains(err.Error(), "allow_backup") {
		t.Fatalf("BackupKey of a non-extractable key: %v, want Invalid naming allow_backup", err)
	}
}

// KEY-6: destruction removes the key pair from the token; signers handed
// out before say the key was destroyed.
func TestKEY6_PKCS11DestroyedKeyCannotSign(t *testing.T) {
	s, _, _ := activeToken(t)
	k := generate(t, s, "ca-doomed", keys.ECDSAP256)
	if err := signVerify(k); err != nil {
		t.Fatal(err)
	}
	if err := s.DestroyKey("ca-doomed"); err != nil {
		t.Fatalf("DestroyKey: %v", err)
	}
	err := signVerify(k)
	if sceau.KindOf(err) != sceau.NotFound || !strings.Contains(err.Error(), "destroyed") {
		t.Fatalf("signing with a destroyed key: %v, want NotFound saying destroyed", err)
	}
	if _, err := s.Signer("ca-doomed"); err == nil {
		t.Fatal("Signer found a destroyed key")
	}
	if err := s.DestroyKey("ca-doomed"); sceau.KindOf(err) != sceau.NotFound {
		t.Fatalf("second DestroyKey: %v, want NotFound", err)
	}
}
