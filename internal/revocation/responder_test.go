package revocation_test

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"log/slog"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ocsp"

	"github.com/sceau/sceau/internal/ca"
	"github.com/sceau/sceau/internal/keys"
	"github.com/sceau/sceau/internal/revocation"
	"github.com/sceau/sceau/internal/sceau"
	"github.com/sceau/sceau/internal/sceautest"
	"github.com/sceau/sceau/internal/store"
)

var testActor = sceau.System("test")

// fixture is a hierarchy with its responder on a settable clock.
type fixture struct {
	h       *sceautest.Hierarchy
	clock   *sceautest.Clock
	rs      *revocation.Responder
	root    *x509.Certificate
	issuing *x509.Certificate
}

func newFixture(t *testing.T, db *store.DB) *fixture {
	t.Helper()
	clock := sceautest.NewClock(time.Now().UTC().Truncate(time.Second))
	h := sceautest.NewHierarchy(t, db, sceautest.HierarchyOptions{Clock: clock})
	f := &fixture{h: h, clock: clock, rs: h.Revocation.NewResponder(slog.New(slog.DiscardHandler))}
	for id, dst := range map[string]**x509.Certificate{"root": &f.root, "issuing": &f.issuing} {
		c, err := h.Authority.CA(id)
		if err != nil {
			t.Fatal(err)
		}
		*dst = c.Cert
	}
	return f
}

// issue issues a server certificate from the issuing CA.
func (f *fixture) issue(t *testing.T) *ca.Issued {
	t.Helper()
	csr := sceautest.CSR(t, sceautest.NewKey(t, keys.ECDSAP256), "ocsp.example", "ocsp.example")
	iss, err := f.h.Authority.IssueCSR(t.Context(), testActor, ca.Request{CA: "issuing", Profile: "server", CSR: csr})
	if err != nil {
		t.Fatalf("IssueCSR: %v", err)
	}
	return iss
}

// ask sends one request for serial under the issuing CA.
func (f *fixture) ask(t *testing.T, h crypto.Hash, serial *big.Int, nonce []byte) ([]byte, string) {
	t.Helper()
	return f.rs.Respond(t.Context(), requestDER(t, nonce, certID(f.issuing, h, serial)))
}

// parse parses a successful response and checks it is signed by the
// issuing CA's delegated responder.
func (f *fixture) parse(t *testing.T, resp []byte) *ocsp.Response {
	t.Helper()
	p, err := ocsp.ParseResponse(resp, f.issuing)
	if err != nil {
		t.Fatalf("ParseResponse: %v", err)
	}
	return p
}

func randomSerial(t *testing.T) *big.Int {
	t.Helper()
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 126))
	if err != nil {
		t.Fatal(err)
	}
	return n.Add(n, big.NewInt(1))
}

func serialOf(t *testing.T, hex string) *big.Int {
	t.Helper()
	n, ok := new(big.Int).SetString(hex, 16)
	if !ok {
		t.Fatalf("serial %q is not hexadecimal", hex)
	}
	return n
}

// Our encoder writes the same request as golang.org/x/crypto/ocsp, so the
// other tests' requests are what real clients send.
func TestRequestEncoderMatchesXCrypto(t *testing.T) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	issuer := selfSigned(t, key, "Encoder Check CA")
	serial := big.NewInt(0x1234567)
	for _, h := range []crypto.Hash{crypto.SHA1, crypto.SHA256} {
		want, err := ocsp.CreateRequest(&x509.Certificate{SerialNumber: serial}, issuer, &ocsp.RequestOptions{Hash: h})
		if err != nil {
			t.Fatal(err)
		}
		if got := requestDER(t, nil, certID(issuer, h, serial)); !bytes.Equal(got, want) {
			t.Errorf("%v: our request\n%x\nx/crypto's\n%x", h, got, want)
		}
	}
}

func selfSigned(t *testing.T, key crypto.Signer, cn string) *x509.Certificate {
	t.Helper()
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: cn},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		BasicConstraintsValid: true, IsCA: true, KeyUsage: x509.KeyUsageCertSign}
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

// CA-3: a serial that was never reserved is "unknown", never "good",
// whatever the CertID hash and with or without a nonce.
func TestCA3_NeverReservedSerialIsUnknown(t *testing.T) {
	sceautest.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		issued := f.issue(t) // the table is not empty
		for _, tc := range []struct {
			name  string
			hash  crypto.Hash
			nonce []byte
		}{
			{"sha1", crypto.SHA1, nil},
			{"sha256", crypto.SHA256, nil},
			{"sha1 nonce", crypto.SHA1, []byte("0123456789abcdef")},
		} {
			serial := randomSerial(t)
			resp, status := f.ask(t, tc.hash, serial, tc.nonce)
			if status != "unknown" {
				t.Errorf("%s: status %q, want unknown", tc.name, status)
			}
			p := f.parse(t, resp)
			if p.Status != ocsp.Unknown || p.SerialNumber.Cmp(serial) != 0 || p.IssuerHash != tc.hash {
				t.Errorf("%s: response status %d serial %x hash %v, want unknown for %x with %v",
					tc.name, p.Status, p.SerialNumber, p.IssuerHash, serial, tc.hash)
			}
		}
		// The issuing CA's serial asked under the root is not the root's.
		resp, status := f.rs.Respond(t.Context(), requestDER(t, nil, certID(f.root, crypto.SHA1, issued.Cert.SerialNumber)))
		if status != "unknown" {
			t.Errorf("issuing CA's serial under the root: status %q, want unknown", status)
		}
		if p, err := ocsp.ParseResponse(resp, f.root); err != nil || p.Status != ocsp.Unknown {
			t.Errorf("issuing CA's serial under the root: %+v, %v; want unknown signed for the root", p, err)
		}
	})
}

// CA-2, CA-3: a serial reserved by Prepare whose certificate was never
// stored is never "good", on any path of the responder.
func TestCA3_ReservedSerialIsNeverGood(t *testing.T) {
	sceautest.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		csr := sceautest.CSR(t, sceautest.NewKey(t, keys.ECDSAP256), "reserved.example", "reserved.example")
		prep, err := f.h.Authority.Prepare(t.Context(), testActor, ca.Request{CA: "issuing", Profile: "server", CSR: csr})
		if err != nil {
			t.Fatalf("Prepare: %v", err)
		}
		serial := serialOf(t, prep.Serial())
		check := func(when string) {
			t.Helper()
			for _, tc := range []struct {
				name  string
				hash  crypto.Hash
				nonce []byte
			}{
				{"sha1", crypto.SHA1, nil},
				{"sha256", crypto.SHA256, nil},
				{"sha1 nonce", crypto.SHA1, []byte{1, 2, 3, 4}},
			} {
				resp, status := f.ask(t, tc.hash, serial, tc.nonce)
				if status == "good" {
					t.Errorf("%s, %s: status good for a reserved serial", when, tc.name)
				}
				if p, err := ocsp.ParseResponse(resp, f.issuing); err == nil && p.Status == ocsp.Good {
					t.Errorf("%s, %s: the response says good for a reserved serial", when, tc.name)
				}
			}
		}
		check("reserved")
		// Still not good once the pre-signed responses are refreshed.
		if _, err := f.h.Revocation.Refresh(t.Context(), 100); err != nil {
			t.Fatalf("Refresh: %v", err)
		}
		check("after refresh")

		if _, err := f.h.Authority.Issue(t.Context(), prep); err != nil {
			t.Fatalf("Issue: %v", err)
		}
		if _, status := f.ask(t, crypto.SHA1, serial, nil); status != "good" {
			t.Errorf("once stored: status %q, want good", status)
		}
	})
}

// CA-3, RFC 8954 §2.1: the nonce comes back in responseExtensions.
func TestCA3_NonceEchoed(t *testing.T) {
	sceautest.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		issued := f.issue(t)
		for _, tc := range []struct {
			name   string
			serial *big.Int
			hash   crypto.Hash
			size   int
			status string
		}{
			{"issued sha1 1 octet", issued.Cert.SerialNumber, crypto.SHA1, 1, "good"},
			{"issued sha1 32 octets", issued.Cert.SerialNumber, crypto.SHA1, 32, "good"},
			{"issued sha256 16 octets", issued.Cert.SerialNumber, crypto.SHA256, 16, "good"},
			{"unknown sha1 16 octets", randomSerial(t), crypto.SHA1, 16, "unknown"},
		} {
			nonce := make([]byte, tc.size)
			rand.Read(nonce)
			resp, status := f.ask(t, tc.hash, tc.serial, nonce)
			if status != tc.status {
				t.Errorf("%s: status %q, want %q", tc.name, status, tc.status)
			}
			f.parse(t, resp)
			var found []pkix.Extension
			for _, e := range responseExtensions(t, resp) {
				if e.Id.Equal(oidNonce) {
					found = append(found, e)
				}
			}
			if len(found) != 1 || !bytes.Equal(found[0].Value, nonceValue(nonce)) || found[0].Critical {
				t.Errorf("%s: nonce extensions in the response %+v, want one non-critical with %x", tc.name, found, nonceValue(nonce))
			}
		}
		// Without a nonce, none comes back (and the pre-signed response is served).
		resp, _ := f.ask(t, crypto.SHA1, issued.Cert.SerialNumber, nil)
		if ext := responseExtensions(t, resp); len(ext) != 0 {
			t.Errorf("no nonce asked: response extensions %+v, want none", ext)
		}

		// OpenSSL, as an independent client, finds the nonce.
		if _, err := exec.LookPath("openssl"); err != nil {
			t.Log("openssl not in PATH: skipping the independent nonce check")
			return
		}
		dir := t.TempDir()
		nonce := []byte("openssl checks this nonce")
		req := requestDER(t, nonce, certID(f.issuing, crypto.SHA1, issued.Cert.SerialNumber))
		resp, _ = f.rs.Respond(t.Context(), req)
		var chain bytes.Buffer
		for _, c := range []*x509.Certificate{f.issuing, f.root} {
			chain.WriteString(pemCert(c.Raw))
		}
		for name, b := range map[string][]byte{"req.der": req, "resp.der": resp, "chain.pem": chain.Bytes()} {
			if err := os.WriteFile(filepath.Join(dir, name), b, 0o600); err != nil {
				t.Fatal(err)
			}
		}
		cmd := exec.Command("openssl", "ocsp", "-reqin", "req.der", "-respin", "resp.der", "-CAfile", "chain.pem", "-resp_text")
		cmd.Dir = dir
		out, err := cmd.CombinedOutput()
		// openssl compares the nonces itself and prints the response's.
		text := string(out)
		if err != nil || strings.Contains(text, "Nonce Verify error") || strings.Contains(text, "no nonce in response") ||
			!strings.Contains(text, "Response verify OK") || !strings.Contains(text, strings.ToUpper(hex.EncodeToString(nonceValue(nonce)))) {
			t.Errorf("openssl ocsp: %v\n%s", err, out)
		}
	})
}

func pemCert(der []byte) string {
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
}

// CA-3, RFC 8954 §2.1: a nonce of 0 or more than 32 octets is refused.
func TestCA3_NonceOutOfRangeIsMalformed(t *testing.T) {
	sceautest.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		issued := f.issue(t)
		for _, size := range []int{0, 33, 64} {
			resp, status := f.ask(t, crypto.SHA1, issued.Cert.SerialNumber, make([]byte, size))
			if status != "malformed" {
				t.Errorf("nonce of %d octets: status %q, want malformed", size, status)
			}
			var re ocsp.ResponseError
			if _, err := ocsp.ParseResponse(resp, nil); !errors.As(err, &re) || re.Status != ocsp.Malformed {
				t.Errorf("nonce of %d octets: ParseResponse error %v, want malformedRequest", size, err)
			}
		}
	})
}

// CA-3: SHA-256 CertIDs are answered, signed on demand with a SHA-256
// CertID in the response.
func TestCA3_SHA256CertID(t *testing.T) {
	sceautest.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		issued := f.issue(t)
		resp, status := f.ask(t, crypto.SHA256, issued.Cert.SerialNumber, nil)
		if status != "good" {
			t.Fatalf("status %q, want good", status)
		}
		p := f.parse(t, resp)
		if p.Status != ocsp.Good || p.IssuerHash != crypto.SHA256 || p.SerialNumber.Cmp(issued.Cert.SerialNumber) != 0 {
			t.Errorf("response status %d hash %v serial %x, want good, SHA-256, %s", p.Status, p.IssuerHash, p.SerialNumber, issued.Serial)
		}
		// What a client does: check the response for its certificate.
		if _, err := ocsp.ParseResponseForCert(resp, issued.Cert, f.issuing); err != nil {
			t.Errorf("ParseResponseForCert: %v", err)
		}
	})
}

// CA-3: a CertID naming an issuer this responder does not serve is
// answered "unauthorized" (RFC 6960 §2.3).
func TestCA3_ForeignIssuerIsUnauthorized(t *testing.T) {
	sceautest.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		issued := f.issue(t)
		key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		// Same subject as the issuing CA, another key: the key hash decides.
		impostor := selfSigned(t, key, f.issuing.Subject.CommonName)
		other := selfSigned(t, key, "Another CA")
		for name, issuer := range map[string]*x509.Certificate{"impostor": impostor, "other": other} {
			for _, h := range []crypto.Hash{crypto.SHA1, crypto.SHA256} {
				resp, status := f.rs.Respond(t.Context(), requestDER(t, nil, certID(issuer, h, issued.Cert.SerialNumber)))
				if status != "unauthorized" {
					t.Errorf("%s %v: status %q, want unauthorized", name, h, status)
				}
				var re ocsp.ResponseError
				if _, err := ocsp.ParseResponse(resp, nil); !errors.As(err, &re) || re.Status != ocsp.Unauthorized {
					t.Errorf("%s %v: ParseResponse error %v, want unauthorized", name, h, err)
				}
			}
		}
	})
}

// CA-3: one certificate per request; zero or two are malformed, and so is
// anything that is not a version 1 OCSP request.
func TestCA3_MalformedRequests(t *testing.T) {
	sceautest.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		a, b := f.issue(t), f.issue(t)
		idA, idB := certID(f.issuing, crypto.SHA1, a.Cert.SerialNumber), certID(f.issuing, crypto.SHA1, b.Cert.SerialNumber)
		v2, err := asn1.Marshal(reqOCSP{TBS: reqTBS{Version: 1, RequestList: []reqSingle{{Cert: idA}}}})
		if err != nil {
			t.Fatal(err)
		}
		md5ID := idA
		md5ID.HashAlgorithm.Algorithm = asn1.ObjectIdentifier{1, 2, 840, 113549, 2, 5}
		shortID := idA
		shortID.NameHash = shortID.NameHash[:10]
		zeroID := idA
		zeroID.Serial = big.NewInt(0)
		good := requestDER(t, nil, idA)
		for _, tc := range []struct {
			name string
			der  []byte
		}{
			{"two requests", requestDER(t, nil, idA, idB)},
			{"same request twice", requestDER(t, nil, idA, idA)},
			{"no request", requestDER(t, nil)},
			{"version 2", v2},
			{"md5 CertID", requestDER(t, nil, md5ID)},
			{"short name hash", requestDER(t, nil, shortID)},
			{"serial zero", requestDER(t, nil, zeroID)},
			{"trailing data", append(bytes.Clone(good), 0)},
			{"truncated", good[:len(good)-1]},
			{"empty", nil},
			{"garbage", []byte("GET /ocsp HTTP/1.1")},
		} {
			resp, status := f.rs.Respond(t.Context(), tc.der)
			if status != "malformed" {
				t.Errorf("%s: status %q, want malformed", tc.name, status)
			}
			var re ocsp.ResponseError
			if _, err := ocsp.ParseResponse(resp, nil); !errors.As(err, &re) || re.Status != ocsp.Malformed {
				t.Errorf("%s: ParseResponse error %v, want malformedRequest", tc.name, err)
			}
		}
		if _, status := f.rs.Respond(t.Context(), good); status != "good" {
			t.Errorf("the well-formed request: status %q, want good", status)
		}
	})
}

// CA-3: a revoked certificate answers "revoked" with its time and reason,
// from the pre-signed response and from one signed on demand.
func TestCA3_RevokedAnswersReasonAndTime(t *testing.T) {
	sceautest.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		for _, reason := range []int{0, 1, 4, 5, 9} {
			issued := f.issue(t)
			f.clock.Advance(90 * time.Second)
			revokedAt := f.clock.Now().UTC().Truncate(time.Second)
			if err := f.h.Revocation.Revoke(t.Context(), testActor, issued.Serial, reason); err != nil {
				t.Fatalf("Revoke(%d): %v", reason, err)
			}
			f.clock.Advance(time.Minute)
			for _, tc := range []struct {
				name  string
				hash  crypto.Hash
				nonce []byte
			}{
				{"pre-signed", crypto.SHA1, nil},
				{"sha256", crypto.SHA256, nil},
				{"nonce", crypto.SHA1, []byte("n")},
			} {
				resp, status := f.ask(t, tc.hash, issued.Cert.SerialNumber, tc.nonce)
				if status != "revoked" {
					t.Errorf("reason %d, %s: status %q, want revoked", reason, tc.name, status)
					continue
				}
				p := f.parse(t, resp)
				if p.Status != ocsp.Revoked || !p.RevokedAt.Equal(revokedAt) || p.RevocationReason != reason {
					t.Errorf("reason %d, %s: status %d at %s reason %d, want revoked at %s reason %d",
						reason, tc.name, p.Status, p.RevokedAt, p.RevocationReason, revokedAt, reason)
				}
			}
		}
	})
}

// CA-3: the common request (SHA-1 CertID, no nonce) is answered with the
// response signed ahead of time, byte for byte, not signed again.
func TestCA3_PresignedResponseServedAsStored(t *testing.T) {
	sceautest.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		issued := f.issue(t)
		st, err := f.h.Revocation.Lookup(t.Context(), db, issued.Serial)
		if err != nil {
			t.Fatalf("Lookup: %v", err)
		}
		if st.Response == nil {
			t.Fatal("no pre-signed response was stored at issuance")
		}
		req, err := ocsp.CreateRequest(issued.Cert, f.issuing, nil)
		if err != nil {
			t.Fatal(err)
		}
		for i := range 3 {
			f.clock.Advance(time.Hour)
			resp, status := f.rs.Respond(t.Context(), req)
			if status != "good" || !bytes.Equal(resp, st.Response) {
				t.Errorf("request %d: status %q, response equal to the stored one: %v", i+1, status, bytes.Equal(resp, st.Response))
			}
		}
		if p := f.parse(t, st.Response); p.Status != ocsp.Good || p.SerialNumber.Cmp(issued.Cert.SerialNumber) != 0 {
			t.Errorf("the stored response: status %d serial %x", p.Status, p.SerialNumber)
		}
		// A request with a nonce is signed on demand: ECDSA makes each new.
		a, _ := f.ask(t, crypto.SHA1, issued.Cert.SerialNumber, []byte("x"))
		b, _ := f.ask(t, crypto.SHA1, issued.Cert.SerialNumber, []byte("x"))
		if bytes.Equal(a, b) || bytes.Equal(a, st.Response) {
			t.Error("requests with a nonce were not signed on demand")
		}
	})
}

// CA-3: a pre-signed response past its nextUpdate is not served; a fresh
// one is signed instead.
func TestCA3_ExpiredPresignedResponseIsNotServed(t *testing.T) {
	sceautest.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		issued := f.issue(t)
		st, err := f.h.Revocation.Lookup(t.Context(), db, issued.Serial)
		if err != nil {
			t.Fatal(err)
		}
		f.clock.Advance(st.ResponseNextUpdate.Sub(f.clock.Now()) + time.Second)
		resp, status := f.ask(t, crypto.SHA1, issued.Cert.SerialNumber, nil)
		if status != "good" || bytes.Equal(resp, st.Response) {
			t.Fatalf("status %q, stale response served: %v", status, bytes.Equal(resp, st.Response))
		}
		if p := f.parse(t, resp); !p.NextUpdate.After(f.clock.Now()) {
			t.Errorf("the response signed on demand ends %s, before now %s", p.NextUpdate, f.clock.Now())
		}
	})
}

// CA-3: a certificate is revoked once; a second revocation is a Conflict
// and changes nothing.
func TestCA3_RevokeTwiceConflicts(t *testing.T) {
	sceautest.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		issued := f.issue(t)
		if err := f.h.Revocation.Revoke(t.Context(), testActor, issued.Serial, 1); err != nil {
			t.Fatalf("first Revoke: %v", err)
		}
		before, err := f.h.Revocation.Lookup(t.Context(), db, issued.Serial)
		if err != nil {
			t.Fatal(err)
		}
		f.clock.Advance(time.Hour)
		// Upper-case hex names the same serial.
		for _, s := range []string{issued.Serial, strings.ToUpper(issued.Serial)} {
			if err := f.h.Revocation.Revoke(t.Context(), testActor, s, 4); !errors.Is(err, sceau.ErrConflict) {
				t.Errorf("second Revoke(%s): %v, want a Conflict", s, err)
			}
		}
		after, err := f.h.Revocation.Lookup(t.Context(), db, issued.Serial)
		if err != nil {
			t.Fatal(err)
		}
		if !after.RevokedAt.Equal(before.RevokedAt) || after.Reason != 1 || !bytes.Equal(after.Response, before.Response) {
			t.Errorf("the second revocation changed the record: %+v, was %+v", after, before)
		}
	})
}

// CA-3: only the RFC 5280 reasons Sceau accepts; serials must be positive hex.
func TestCA3_RevokeRefusesBadReasonAndSerial(t *testing.T) {
	sceautest.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		issued := f.issue(t)
		for _, reason := range []int{-1, 7, 8, 11, 255} {
			if err := f.h.Revocation.Revoke(t.Context(), testActor, issued.Serial, reason); !errors.Is(err, sceau.ErrInvalid) {
				t.Errorf("Revoke with reason %d: %v, want Invalid", reason, err)
			}
		}
		for _, s := range []string{"", "0", "-1", "xyz", "12 34"} {
			if err := f.h.Revocation.Revoke(t.Context(), testActor, s, 1); !errors.Is(err, sceau.ErrInvalid) {
				t.Errorf("Revoke(%q): %v, want Invalid", s, err)
			}
		}
		if err := f.h.Revocation.Revoke(t.Context(), testActor, randomSerial(t).Text(16), 1); !errors.Is(err, sceau.ErrNotFound) {
			t.Errorf("Revoke of a serial never reserved: %v, want NotFound", err)
		}
		if _, status := f.ask(t, crypto.SHA1, issued.Cert.SerialNumber, nil); status != "good" {
			t.Errorf("after refused revocations: status %q, want good", status)
		}
	})
}
