package tsa

import (
	"bytes"
	"crypto"
	"crypto/sha256"
	"crypto/sha512"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/sceau/sceau/internal/sceau"
)

// FuzzARC5_TimeStampRequest: the request parser never panics; what it
// refuses is an Invalid "tsa: " error with a failInfo, and what it accepts
// encodes again to a request that parses the same.
func FuzzARC5_TimeStampRequest(f *testing.F) {
	s256 := sha256.Sum256([]byte("seed"))
	s512 := sha512.Sum512([]byte("seed"))
	for _, r := range []*Request{
		{Hash: crypto.SHA256, Digest: s256[:]},
		{Hash: crypto.SHA512, Digest: s512[:], Policy: testPolicy, Nonce: big.NewInt(1 << 40), CertReq: true},
	} {
		der, err := r.Marshal()
		if err != nil {
			f.Fatal(err)
		}
		f.Add(der)
	}
	f.Add(rawRequest(1, oidSHA256, s256[:], []byte{0xa0, 0x02, 0x30, 0x00}))
	f.Add([]byte{0x30, 0x00})
	f.Fuzz(func(t *testing.T, der []byte) {
		r, err := ParseRequest(der)
		if err != nil {
			if sceau.KindOf(err) != sceau.Invalid || !strings.HasPrefix(err.Error(), "tsa: ") {
				t.Fatalf("refusal %v: not an invalid tsa error", err)
			}
			if failureOf(err) == SystemFailure {
				t.Fatalf("refusal %v carries no failInfo", err)
			}
			return
		}
		again, err := r.Marshal()
		if err != nil {
			t.Fatalf("a parsed request does not encode: %v", err)
		}
		r2, err := ParseRequest(again)
		if err != nil || r2.Hash != r.Hash || !bytes.Equal(r2.Digest, r.Digest) || !r2.Policy.Equal(r.Policy) ||
			(r.Nonce == nil) != (r2.Nonce == nil) || (r.Nonce != nil && r.Nonce.Cmp(r2.Nonce) != 0) || r2.CertReq != r.CertReq {
			t.Fatalf("re-encoded %+v parses as %+v, %v", r, r2, err)
		}
	})
}

// FuzzARC5_Token: Verify never panics on a token, and refuses what is not
// the one token made for the digest with an Invalid "tsa: " error;
// ParseResponse, the client's parser of a TSA's reply, never panics either.
func FuzzARC5_Token(f *testing.F) {
	p := testPKI(f)
	u := p.newUnit(f, UnitOptions{Accuracy: 1500 * time.Microsecond})
	sum := sha256.Sum256([]byte("seed"))
	token, err := u.Stamp(f.Context(), sum[:], crypto.SHA256)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(token)
	f.Add(token[:len(token)/2])
	roots := p.roots()
	f.Add(marshalResponse(statusGranted, "", 0, token))
	f.Add(Rejection(refuse(BadAlg, "no")))
	f.Fuzz(func(t *testing.T, der []byte) {
		if _, err := ParseResponse(der); err != nil && (sceau.KindOf(err) != sceau.Invalid || !strings.HasPrefix(err.Error(), "tsa: ")) {
			t.Fatalf("reply refused with %v: not an invalid tsa error", err)
		}
		if _, err := Verify(der, sum[:], crypto.SHA256, VerifyOptions{Roots: roots}); err != nil {
			if sceau.KindOf(err) != sceau.Invalid || !strings.HasPrefix(err.Error(), "tsa: ") {
				t.Fatalf("refusal %v: not an invalid tsa error", err)
			}
		}
	})
}
