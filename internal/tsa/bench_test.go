package tsa

import (
	"crypto"
	"crypto/sha256"
	"testing"
)

// BenchmarkStamp is one token by a P-256 unit: TSTInfo, CMS signature, and
// the check SignEncapsulated makes of it.
func BenchmarkStamp(b *testing.B) {
	p := testPKI(b)
	u := p.newUnit(b, UnitOptions{})
	sum := sha256.Sum256([]byte("archived item"))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := u.Stamp(b.Context(), sum[:], crypto.SHA256); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkVerify is Verify of a token with its chain.
func BenchmarkVerify(b *testing.B) {
	p := testPKI(b)
	u := p.newUnit(b, UnitOptions{})
	sum := sha256.Sum256([]byte("archived item"))
	token, err := u.Stamp(b.Context(), sum[:], crypto.SHA256)
	if err != nil {
		b.Fatal(err)
	}
	roots := p.roots()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Verify(token, sum[:], crypto.SHA256, VerifyOptions{Roots: roots}); err != nil {
			b.Fatal(err)
		}
	}
}
