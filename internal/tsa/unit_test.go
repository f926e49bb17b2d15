package tsa

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rand"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/x509"
	"encoding/asn1"
	"errors"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/crypto/cryptobyte"
	casn1 "golang.org/x/crypto/cryptobyte/asn1"

	"github.com/sceau/sceau/internal/cms"
	"github.com/sceau/sceau/internal/sceau"
	"github.com/sceau/sceau/internal/sceautest"
)

func wantRefusal(t *testing.T, err error, kind sceau.Kind, f FailureInfo, want string) {
	t.Helper()
	if err == nil {
		t.Fatalf("got no error, want one with %q", want)
	}
	if k := sceau.KindOf(err); k != kind {
		t.Errorf("kind %v, want %v: %v", k, kind, err)
	}
	if got := failureOf(err); got != f {
		t.Errorf("failInfo %v, want %v: %v", got, f, err)
	}
	if !strings.HasPrefix(err.Error(), "tsa: ") || !strings.Contains(err.Error(), want) {
		t.Errorf("error %q, want one starting with \"tsa: \" and holding %q", err, want)
	}
}

// rawRequest is a TimeStampReq with the algorithm oid and the digest as
// given, and extra DER after the imprint.
func rawRequest(version int64, oid asn1.ObjectIdentifier, digest []byte, extra ...[]byte) []byte {
	var b cryptobyte.Builder
	b.AddASN1(casn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1Int64(version)
		addImprint(b, oid, digest)
		for _, e := range extra {
			b.AddBytes(e)
		}
	})
	return b.BytesOrPanic()
}

// ARC-5: the parser takes what RFC 3161 allows of SHA-2 and refuses the
// rest, each with a precise error and the failInfo to answer.
func TestARC5_RequestParserRefusesWhatTheUnitDoesNotSign(t *testing.T) {
	sum := sha256.Sum256([]byte("x"))
	sha1Sum := sha1.Sum([]byte("x"))
	extensions := []byte{0xa0, 0x02, 0x30, 0x00}
	for _, tc := range []struct {
		name string
		der  []byte
		f    FailureInfo
		want string
	}{
		{"SHA-1", rawRequest(1, asn1.ObjectIdentifier{1, 3, 14, 3, 2, 26}, sha1Sum[:]), BadAlg, "SHA-1 (1.3.14.3.2.26) is not accepted: SHA-256, SHA-384 or SHA-512 are"},
		{"unknown algorithm", rawRequest(1, asn1.ObjectIdentifier{1, 2, 3, 4}, sum[:]), BadAlg, "1.2.3.4 is not accepted"},
		{"SHA-256 of 20 bytes", rawRequest(1, oidSHA256, sum[:20]), BadDataFormat, "the message imprint is 20 bytes, a SHA-256 digest is 32"},
		{"SHA-512 of 32 bytes", rawRequest(1, oidSHA512, sum[:]), BadDataFormat, "the message imprint is 32 bytes, a SHA-512 digest is 64"},
		{"version 2", rawRequest(2, oidSHA256, sum[:]), BadRequest, "version 2"},
		{"extensions", rawRequest(1, oidSHA256, sum[:], extensions), UnacceptedExtension, "the request has extensions"},
		{"trailing data", append(rawRequest(1, oidSHA256, sum[:]), 0), BadDataFormat, "data after the TimeStampReq"},
		{"not DER", []byte("hello"), BadDataFormat, "not a DER TimeStampReq"},
		{"unknown field", rawRequest(1, oidSHA256, sum[:], []byte{0x04, 0x00}), BadDataFormat, "unexpected data"},
		{"huge nonce", rawRequest(1, oidSHA256, sum[:], append([]byte{0x02, 0x41, 0x01}, make([]byte, 64)...)), BadDataFormat, "longer than 64 bytes"},
		{"parameters", func() []byte {
			var b cryptobyte.Builder
			b.AddASN1(casn1.SEQUENCE, func(b *cryptobyte.Builder) {
				b.AddASN1Int64(1)
				b.AddASN1(casn1.SEQUENCE, func(b *cryptobyte.Builder) {
					b.AddASN1(casn1.SEQUENCE, func(b *cryptobyte.Builder) { b.AddASN1ObjectIdentifier(oidSHA256); b.AddASN1Int64(7) })
					b.AddASN1OctetString(sum[:])
				})
			})
			return b.BytesOrPanic()
		}(), BadAlg, "has parameters"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseRequest(tc.der)
			wantRefusal(t, err, sceau.Invalid, tc.f, tc.want)
		})
	}

	// What is accepted: NULL parameters (openssl), policy, nonce, certReq.
	var b cryptobyte.Builder
	b.AddASN1(casn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1Int64(1)
		b.AddASN1(casn1.SEQUENCE, func(b *cryptobyte.Builder) {
			b.AddASN1(casn1.SEQUENCE, func(b *cryptobyte.Builder) { b.AddASN1ObjectIdentifier(oidSHA256); b.AddASN1NULL() })
			b.AddASN1OctetString(sum[:])
		})
		b.AddASN1ObjectIdentifier(testPolicy)
		b.AddASN1Int64(-5)
		b.AddASN1Boolean(true)
	})
	r, err := ParseRequest(b.BytesOrPanic())
	if err != nil {
		t.Fatal(err)
	}
	if r.Hash != crypto.SHA256 || !bytes.Equal(r.Digest, sum[:]) || !r.Policy.Equal(testPolicy) || r.Nonce.Int64() != -5 || !r.CertReq {
		t.Errorf("parsed %+v", r)
	}
	again, err := r.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if r2, err := ParseRequest(again); err != nil || r2.Nonce.Cmp(r.Nonce) != 0 || !r2.Policy.Equal(r.Policy) || !r2.CertReq {
		t.Errorf("marshal then parse: %+v, %v", r2, err)
	}
}

// ARC-5: Stamp refuses a SHA-1 digest and a digest of the wrong length,
// and the handler answers them with a 400 rejection naming the problem.
func TestARC5_UnsupportedHashAndWrongLengthAreRefused(t *testing.T) {
	p := testPKI(t)
	u := p.newUnit(t, UnitOptions{})
	sha1Sum := sha1.Sum([]byte("item"))
	_, err := u.Stamp(t.Context(), sha1Sum[:], crypto.SHA1)
	wantRefusal(t, err, sceau.Invalid, BadAlg, "SHA-1 is not accepted")
	sum := sha512.Sum384([]byte("item"))
	_, err = u.Stamp(t.Context(), sum[:32], crypto.SHA384)
	wantRefusal(t, err, sceau.Invalid, BadDataFormat, "the message imprint is 32 bytes, a SHA-384 digest is 48")

	srv := httptest.NewServer(u.Handler())
	defer srv.Close()
	resp, body := post(t, srv.URL, rawRequest(1, asn1.ObjectIdentifier{1, 3, 14, 3, 2, 26}, sha1Sum[:]))
	if resp.StatusCode != http.StatusBadRequest || resp.Header.Get("Content-Type") != ReplyType {
		t.Fatalf("SHA-1 over HTTP: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	reply, err := ParseResponse(body)
	if err != nil {
		t.Fatal(err)
	}
	if reply.Status != statusRejection || !slices.Equal(reply.FailInfo, []FailureInfo{BadAlg}) || reply.Token != nil ||
		len(reply.StatusString) != 1 || !strings.Contains(reply.StatusString[0], "SHA-1") {
		t.Errorf("SHA-1 reply: %+v", reply)
	}
}

// countingSigner counts the signatures its key makes.
type countingSigner struct {
	crypto.Signer
	n atomic.Int64
}

func (c *countingSigner) Sign(r io.Reader, d []byte, o crypto.SignerOpts) ([]byte, error) {
	c.n.Add(1)
	return c.Signer.Sign(r, d, o)
}

// SYS-4, ARC-5: when the guard says the clock is not trusted, nothing is
// signed: Stamp fails with the guard's error, and a client gets a
// rejection with failInfo timeNotAvailable (HTTP 503).
func TestARC5_GuardErrorGivesNoToken(t *testing.T) {
	p := testPKI(t)
	errDrift := errors.New("clock: 5s off the NTP servers")
	var guardErr atomic.Pointer[error]
	signer := &countingSigner{Signer: p.unitKey}
	u := p.newUnit(t, UnitOptions{Signer: signer, Chain: []*x509.Certificate{p.unit, p.intermediate},
		Guard: func() error {
			if e := guardErr.Load(); e != nil {
				return *e
			}
			return nil
		}})
	sum := sha256.Sum256([]byte("item"))
	if _, err := u.Stamp(t.Context(), sum[:], crypto.SHA256); err != nil {
		t.Fatal(err)
	}
	before := signer.n.Load()
	guardErr.Store(&errDrift)
	_, err := u.Stamp(t.Context(), sum[:], crypto.SHA256)
	wantRefusal(t, err, sceau.Unavailable, TimeNotAvailable, "the time source is not available")
	if !errors.Is(err, errDrift) {
		t.Errorf("the guard's error is not the cause: %v", err)
	}
	srv := httptest.NewServer(u.Handler())
	defer srv.Close()
	query, _ := (&Request{Hash: crypto.SHA256, Digest: sum[:], Nonce: big.NewInt(7)}).Marshal()
	resp, body := post(t, srv.URL, query)
	reply, perr := ParseResponse(body)
	if perr != nil {
		t.Fatal(perr)
	}
	if resp.StatusCode != http.StatusServiceUnavailable || reply.Status != statusRejection ||
		!slices.Equal(reply.FailInfo, []FailureInfo{TimeNotAvailable}) || reply.Token != nil {
		t.Errorf("with the guard refusing: HTTP %d, %+v", resp.StatusCode, reply)
	}
	if strings.Contains(strings.Join(reply.StatusString, " "), "5s off") {
		t.Errorf("the reply tells the client the guard's details: %q", reply.StatusString)
	}
	if n := signer.n.Load(); n != before {
		t.Errorf("the key signed %d times while the guard refused", n-before)
	}
}

// ARC-5: Verify checks the signature, the imprint, the chain and the
// unit's certificate: a tampered token, another digest, a token signed
// by a certificate without timeStamping, and another root are refused.
func TestARC5_VerifyRefusesBadTokens(t *testing.T) {
	p := testPKI(t)
	clock := sceautest.NewClock(time.Now().Truncate(time.Second))
	u := p.newUnit(t, UnitOptions{Clock: clock, Accuracy: time.Second})
	sum := sha256.Sum256([]byte("item"))
	token, err := u.Stamp(t.Context(), sum[:], crypto.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	info, err := Verify(token, sum[:], crypto.SHA256, VerifyOptions{Roots: p.roots(), Policy: testPolicy})
	if err != nil {
		t.Fatal(err)
	}
	if !info.GenTime.Equal(clock.Now()) || info.Serial.BitLen() < 64 || !info.Policy.Equal(testPolicy) || info.Accuracy != time.Second ||
		!info.Signer.Equal(p.unit) || info.Nonce != nil {
		t.Errorf("info: %+v", info)
	}

	t.Run("tampered", func(t *testing.T) {
		for _, i := range []int{len(token) / 3, len(token) / 2, len(token) - 10} {
			bad := slices.Clone(token)
			bad[i] ^= 0x01
			if _, err := Verify(bad, sum[:], crypto.SHA256, VerifyOptions{Roots: p.roots()}); err == nil || sceau.KindOf(err) != sceau.Invalid ||
				!strings.HasPrefix(err.Error(), "tsa: ") {
				t.Errorf("byte %d flipped: %v", i, err)
			}
		}
	})
	t.Run("another digest", func(t *testing.T) {
		other := sha256.Sum256([]byte("other"))
		_, err := Verify(token, other[:], crypto.SHA256, VerifyOptions{Roots: p.roots()})
		wantRefusal(t, err, sceau.Invalid, SystemFailure, "the token is for another message imprint")
	})
	t.Run("another root", func(t *testing.T) {
		other := makePKI(t, time.Now().Add(-time.Hour), time.Now().Add(time.Hour))
		_, err := Verify(token, sum[:], crypto.SHA256, VerifyOptions{Roots: other.roots()})
		wantRefusal(t, err, sceau.Invalid, SystemFailure, "does not chain to the roots")
	})
	t.Run("no timeStamping", func(t *testing.T) {
		if _, err := NewUnit(UnitOptions{Signer: p.otherKey, Chain: []*x509.Certificate{p.notTSA}, Policy: testPolicy}); err == nil ||
			!strings.Contains(err.Error(), "does not have timeStamping as its only extended key usage") {
			t.Errorf("NewUnit with a document signing certificate: %v", err)
		}
		// A unit made without NewUnit's check signs with it anyway.
		rogue := &Unit{o: UnitOptions{Signer: p.otherKey, Chain: []*x509.Certificate{p.notTSA, p.intermediate}, Policy: testPolicy,
			Clock: sceau.RealClock, Rand: rand.Reader}}
		bad, err := rogue.Stamp(t.Context(), sum[:], crypto.SHA256)
		if err != nil {
			t.Fatal(err)
		}
		_, err = Verify(bad, sum[:], crypto.SHA256, VerifyOptions{Roots: p.roots()})
		wantRefusal(t, err, sceau.Invalid, SystemFailure, "does not have timeStamping as its only extended key usage")
	})
	t.Run("not a TSTInfo", func(t *testing.T) {
		bad, err := cms.SignEncapsulated(asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 1}, []byte("data"), p.unitKey, p.unit, nil, cms.EncapsulateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		_, err = Verify(bad, sum[:], crypto.SHA256, VerifyOptions{Roots: p.roots()})
		wantRefusal(t, err, sceau.Invalid, SystemFailure, "not a TSTInfo")
	})
	t.Run("policy", func(t *testing.T) {
		_, err := Verify(token, sum[:], crypto.SHA256, VerifyOptions{Roots: p.roots(), Policy: asn1.ObjectIdentifier{1, 2, 3}})
		wantRefusal(t, err, sceau.Invalid, SystemFailure, "the token's policy 1.2.250.1.999.1.8 is not the requested 1.2.3")
		_, _, err = u.Issue(t.Context(), &Request{Hash: crypto.SHA256, Digest: sum[:], Policy: asn1.ObjectIdentifier{1, 2, 3}})
		wantRefusal(t, err, sceau.Invalid, UnacceptedPolicy, "the requested policy 1.2.3 is not this unit's")
	})
}

// ARC-5: the chain is checked at genTime, not now: a token made while the
// unit's certificate was valid still verifies after it expired; a unit
// whose certificate is not valid on its clock signs nothing.
func TestARC5_TokenIsCheckedAtGenTime(t *testing.T) {
	from := time.Now().Add(-48 * time.Hour).Truncate(time.Second)
	old := makePKI(t, from, from.Add(24*time.Hour))
	clock := sceautest.NewClock(from.Add(time.Hour))
	u := old.newUnit(t, UnitOptions{Clock: clock})
	sum := sha256.Sum256([]byte("item"))
	token, err := u.Stamp(t.Context(), sum[:], crypto.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	if info, err := Verify(token, sum[:], crypto.SHA256, VerifyOptions{Roots: old.roots()}); err != nil || !info.GenTime.Equal(from.Add(time.Hour)) {
		t.Errorf("a token made a day ago by a certificate expired since: %v", err)
	}
	clock.Advance(48 * time.Hour)
	_, err = u.Stamp(t.Context(), sum[:], crypto.SHA256)
	wantRefusal(t, err, sceau.Unavailable, SystemFailure, "the unit's certificate is not valid at")
}

// ARC-5: serial numbers are 128 random bits, different each time.
func TestARC5_SerialNumbersAreRandom(t *testing.T) {
	p := testPKI(t)
	u := p.newUnit(t, UnitOptions{})
	sum := sha256.Sum256([]byte("item"))
	seen := map[string]bool{}
	long := 0
	for range 32 {
		token, info, err := u.Issue(t.Context(), &Request{Hash: crypto.SHA256, Digest: sum[:]})
		if err != nil || token == nil {
			t.Fatal(err)
		}
		if info.Serial.BitLen() > 128 || seen[info.Serial.String()] {
			t.Fatalf("serial %x: repeated or more than 128 bits", info.Serial)
		}
		if info.Serial.BitLen() > 120 {
			long++
		}
		seen[info.Serial.String()] = true
	}
	if long < 24 { // a random 128-bit number is under 121 bits 1/128 of the time
		t.Errorf("%d of 32 serials have more than 120 bits", long)
	}
}

// The HTTP transport answers what is not a time-stamp request with plain
// 4xx: method, media type, size.
func TestARC5_HandlerRefusesWhatIsNotATimeStampRequest(t *testing.T) {
	p := testPKI(t)
	srv := httptest.NewServer(p.newUnit(t, UnitOptions{}).Handler())
	defer srv.Close()
	resp, err := http.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed || resp.Header.Get("Allow") != "POST" {
		t.Errorf("GET: %d, Allow %q", resp.StatusCode, resp.Header.Get("Allow"))
	}
	resp, err = http.Post(srv.URL, "application/octet-stream", strings.NewReader("x"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnsupportedMediaType {
		t.Errorf("another media type: %d", resp.StatusCode)
	}
	resp, _ = post(t, srv.URL, make([]byte, MaxRequestBytes+1))
	if resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Errorf("a body over the limit: %d", resp.StatusCode)
	}
	resp, body := post(t, srv.URL, []byte("garbage"))
	if reply, err := ParseResponse(body); resp.StatusCode != http.StatusBadRequest || err != nil || !slices.Equal(reply.FailInfo, []FailureInfo{BadDataFormat}) {
		t.Errorf("garbage: %d, %+v, %v", resp.StatusCode, reply, err)
	}
	// A unit that is not there yet (its key not certified): 503, rejection.
	none := httptest.NewServer(NewHandler(func(context.Context) (*Unit, error) {
		return nil, sceau.Errorf(sceau.Unavailable, "tsa: unit", "the unit's key has no certificate yet")
	}, nil))
	defer none.Close()
	sum := sha256.Sum256([]byte("item"))
	query, _ := (&Request{Hash: crypto.SHA256, Digest: sum[:]}).Marshal()
	resp, body = post(t, none.URL, query)
	if reply, err := ParseResponse(body); resp.StatusCode != http.StatusServiceUnavailable || err != nil || reply.Status != statusRejection ||
		!slices.Equal(reply.FailInfo, []FailureInfo{SystemFailure}) || !strings.Contains(reply.StatusString[0], "no certificate yet") {
		t.Errorf("no unit: %d, %+v, %v", resp.StatusCode, reply, err)
	}
}
