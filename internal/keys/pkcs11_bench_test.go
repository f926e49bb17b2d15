//go:build cgo

package keys_test

import (
	"crypto"
	"crypto/rand"
	"crypto/sha256"
	"testing"

	"github.com/sceau/sceau/internal/keys"
	"github.com/sceau/sceau/internal/sceautest"
)

// The benchmarks sign from every core at once (RunParallel), so the PKCS#11
// ones go through the session pool as the CA's issuance batches do.

func BenchmarkSignP256PKCS11(b *testing.B)      { benchSign(b, pkcs11Key(b, keys.ECDSAP256)) }
func BenchmarkSignP256InMemory(b *testing.B)    { benchSign(b, memoryKey(b, keys.ECDSAP256)) }
func BenchmarkSignRSA3072PKCS11(b *testing.B)   { benchSign(b, pkcs11Key(b, keys.RSA3072)) }
func BenchmarkSignRSA3072InMemory(b *testing.B) { benchSign(b, memoryKey(b, keys.RSA3072)) }

func pkcs11Key(b *testing.B, kt keys.Type) crypto.Signer {
	b.Helper()
	module, label, pin := sceautest.SoftHSM(b)
	s := keys.OpenPKCS11(keys.PKCS11Config{Module: module, TokenLabel: label})
	if err := s.Activate([]byte(pin)); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(s.Deactivate)
	k, err := s.Generate("bench", kt)
	if err != nil {
		b.Fatal(err)
	}
	return k
}

func memoryKey(b *testing.B, kt keys.Type) crypto.Signer {
	b.Helper()
	k, err := kt.Generate(nil)
	if err != nil {
		b.Fatal(err)
	}
	return k
}

func benchSign(b *testing.B, k crypto.Signer) {
	d := sha256.Sum256([]byte("sceau benchmark"))
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := k.Sign(rand.Reader, d[:], crypto.SHA256); err != nil {
				b.Error(err)
				return
			}
		}
	})
}
