package revocation_test

import (
	"bytes"
	"context"
	"crypto"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"log/slog"
	"math/big"
	"testing"
	"time"

	"golang.org/x/crypto/ocsp"

	"github.com/sceau/sceau/internal/ca"
	"github.com/sceau/sceau/internal/keys"
	"github.com/sceau/sceau/internal/revocation"
	"github.com/sceau/sceau/internal/sceau"
	"github.com/sceau/sceau/internal/sceautest"
)

// CA-3: OCSP requests are outside input. ParseRequest never panics and
// refuses with ErrMalformed; Respond answers anything with a response
// golang.org/x/crypto/ocsp parses (or an error status it recognises) whose
// status, serial, CertID hash and nonce match the request, signed for the
// CA the request names, and "good" only for a stored, unrevoked
// certificate. Each request that parses is also rebound to the issuing CA
// and one of its known serials (good, revoked, reserved), so that fuzzed
// hashes and nonces reach every status. The seed corpus is in
// testdata/fuzz/FuzzCA3_OCSPRequest.
func FuzzCA3_OCSPRequest(f *testing.F) {
	ctx := context.Background()
	h := sceautest.NewHierarchy(f, sceautest.OpenSQLite(f), sceautest.HierarchyOptions{})
	rs := h.Revocation.NewResponder(slog.New(slog.DiscardHandler))
	cas := map[string]*x509.Certificate{}
	for _, id := range []string{"root", "issuing"} {
		c, err := h.Authority.CA(id)
		if err != nil {
			f.Fatal(err)
		}
		cas[id] = c.Cert
	}
	issuing := cas["issuing"]
	prepare := func() *ca.Prepared {
		csr := sceautest.CSR(f, sceautest.NewKey(f, keys.ECDSAP256), "fuzz.example", "fuzz.example")
		p, err := h.Authority.Prepare(ctx, sceau.System("fuzz"), ca.Request{CA: "issuing", Profile: "server", CSR: csr})
		if err != nil {
			f.Fatal(err)
		}
		return p
	}
	var known [3]*big.Int // good, revoked, reserved
	wantKnown := [3]string{"good", "revoked", "trylater"}
	for i := range known {
		p := prepare()
		known[i], _ = new(big.Int).SetString(p.Serial(), 16)
		if i == 2 {
			break // reserved, never stored
		}
		if _, err := h.Authority.Issue(ctx, p); err != nil {
			f.Fatal(err)
		}
		if i == 1 {
			if err := h.Revocation.Revoke(ctx, sceau.System("fuzz"), p.Serial(), 1); err != nil {
				f.Fatal(err)
			}
		}
	}
	for i, n := range known {
		f.Add(requestDER(f, nil, certID(issuing, crypto.SHA1, n)))
		f.Add(requestDER(f, []byte{byte(i)}, certID(issuing, crypto.SHA256, n)))
	}
	valid := requestDER(f, []byte("0123456789abcdef"), certID(issuing, crypto.SHA1, known[0]))
	f.Add(valid)
	f.Add(valid[:len(valid)-5])
	f.Add(requestDER(f, nil, certID(cas["root"], crypto.SHA1, known[0])))
	f.Add([]byte("\x30\x03\x30\x01"))

	f.Fuzz(func(t *testing.T, der []byte) {
		req, err := revocation.ParseRequest(der)
		switch {
		case err != nil && !errors.Is(err, revocation.ErrMalformed):
			t.Fatalf("ParseRequest: %v, want ErrMalformed", err)
		case err != nil && req != nil:
			t.Fatalf("ParseRequest returned a request and %v", err)
		case err == nil:
			checkParsed(t, req)
		}
		resp, status := rs.Respond(ctx, der)
		checkAnswer(t, cas, known[0], req, resp, status)
		if req == nil {
			return
		}
		// The same request for the issuing CA and a serial of ours.
		k := int(new(big.Int).Mod(req.Serial, big.NewInt(4)).Int64())
		want, serial := "unknown", req.Serial
		if k < len(known) {
			want, serial = wantKnown[k], known[k]
		} else {
			for _, n := range known {
				if n.Cmp(serial) == 0 {
					return // the fuzzer found one of our serials by itself
				}
			}
		}
		id := certID(issuing, req.Hash, serial)
		rebound := requestWithNonceExt(t, req.Nonce, id)
		rreq, err := revocation.ParseRequest(rebound)
		if err != nil {
			t.Fatalf("ParseRequest of the rebound request: %v", err)
		}
		resp, status = rs.Respond(ctx, rebound)
		if status != want {
			t.Fatalf("rebound request for serial %x: status %q, want %q", serial, status, want)
		}
		checkAnswer(t, cas, known[0], rreq, resp, status)
	})
}

// checkParsed checks what ParseRequest promises of a request it accepts.
func checkParsed(t *testing.T, req *revocation.Request) {
	t.Helper()
	if req.Hash != crypto.SHA1 && req.Hash != crypto.SHA256 {
		t.Fatalf("ParseRequest accepted CertID hash %v", req.Hash)
	}
	if len(req.NameHash) != req.Hash.Size() || len(req.KeyHash) != req.Hash.Size() {
		t.Fatalf("ParseRequest accepted hashes of %d and %d octets for %v", len(req.NameHash), len(req.KeyHash), req.Hash)
	}
	if req.Serial == nil || req.Serial.Sign() <= 0 || req.Serial.BitLen() > 160 {
		t.Fatalf("ParseRequest accepted serial %v", req.Serial)
	}
	if req.Nonce != nil {
		var nonce []byte
		if rest, err := asn1.Unmarshal(req.Nonce, &nonce); err != nil || len(rest) != 0 || len(nonce) < 1 || len(nonce) > 32 {
			t.Fatalf("ParseRequest accepted nonce extension value %x", req.Nonce)
		}
	}
}

// checkAnswer checks a response to req (nil: the request did not parse).
// good is the only serial that may be answered "good".
func checkAnswer(t *testing.T, cas map[string]*x509.Certificate, good *big.Int, req *revocation.Request, resp []byte, status string) {
	t.Helper()
	p, err := ocsp.ParseResponse(resp, nil)
	if err != nil {
		var re ocsp.ResponseError
		if !errors.As(err, &re) {
			t.Fatalf("status %q: ParseResponse: %v, want a response or an ocsp.ResponseError", status, err)
		}
		want := map[string]ocsp.ResponseStatus{"malformed": ocsp.Malformed, "unauthorized": ocsp.Unauthorized, "trylater": ocsp.TryLater}
		if ws, ok := want[status]; !ok || re.Status != ws {
			t.Fatalf("status %q answered with error status %v", status, re.Status)
		}
		if (req == nil) != (status == "malformed") {
			t.Fatalf("status %q for a request that parsed: %v", status, req != nil)
		}
		return
	}
	if req == nil {
		t.Fatalf("status %q: a successful response to a request that does not parse", status)
	}
	want := map[string]int{"good": ocsp.Good, "revoked": ocsp.Revoked, "unknown": ocsp.Unknown}
	if ws, ok := want[status]; !ok || p.Status != ws {
		t.Fatalf("status %q answered with response status %d", status, p.Status)
	}
	if p.SerialNumber.Cmp(req.Serial) != 0 || p.IssuerHash != req.Hash {
		t.Fatalf("response for serial %x with %v, asked %x with %v", p.SerialNumber, p.IssuerHash, req.Serial, req.Hash)
	}
	var issuer *x509.Certificate
	for _, c := range cas {
		if id := certID(c, req.Hash, req.Serial); bytes.Equal(id.NameHash, req.NameHash) && bytes.Equal(id.KeyHash, req.KeyHash) {
			issuer = c
		}
	}
	if issuer == nil {
		t.Fatalf("status %q for a CertID naming no CA of ours", status)
	}
	if p.Certificate == nil || p.Certificate.CheckSignatureFrom(issuer) != nil {
		t.Fatalf("the response is not signed by a responder of %s", issuer.Subject)
	}
	if p.Status == ocsp.Good && (issuer != cas["issuing"] || req.Serial.Cmp(good) != 0) {
		t.Fatalf("serial %x under %s answered good", req.Serial, issuer.Subject)
	}
	var nonces [][]byte
	for _, e := range responseExtensions(t, resp) {
		if e.Id.Equal(oidNonce) {
			nonces = append(nonces, e.Value)
		}
	}
	switch {
	case req.Nonce == nil && len(nonces) != 0:
		t.Fatalf("no nonce asked, %d in the response", len(nonces))
	case req.Nonce != nil && (len(nonces) != 1 || !bytes.Equal(nonces[0], req.Nonce)):
		t.Fatalf("nonce %x asked, response has %x", req.Nonce, nonces)
	}
}

var (
	oidSHA1   = asn1.ObjectIdentifier{1, 3, 14, 3, 2, 26}
	oidSHA256 = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 1}
	oidNonce  = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 48, 1, 2}
)

// The OCSP request of RFC 6960 §4.1.1, written by the tests themselves so
// they can build what golang.org/x/crypto/ocsp cannot: nonces, several
// requests, odd versions.
type (
	reqCertID struct {
		HashAlgorithm pkix.AlgorithmIdentifier
		NameHash      []byte
		KeyHash       []byte
		Serial        *big.Int
	}
	reqSingle struct {
		Cert reqCertID
	}
	reqTBS struct {
		Version     int `asn1:"explicit,tag:0,default:0,optional"`
		RequestList []reqSingle
		Extensions  []pkix.Extension `asn1:"explicit,tag:2,optional"`
	}
	reqOCSP struct {
		TBS reqTBS
	}
)

// certID names serial under issuer with hash (SHA-1 or SHA-256).
func certID(issuer *x509.Certificate, h crypto.Hash, serial *big.Int) reqCertID {
	var spki struct {
		Algorithm pkix.AlgorithmIdentifier
		PublicKey asn1.BitString
	}
	if _, err := asn1.Unmarshal(issuer.RawSubjectPublicKeyInfo, &spki); err != nil {
		panic(err)
	}
	id := reqCertID{HashAlgorithm: pkix.AlgorithmIdentifier{Algorithm: oidSHA1, Parameters: asn1.NullRawValue}, Serial: serial}
	switch h {
	case crypto.SHA1:
		n, k := sha1.Sum(issuer.RawSubject), sha1.Sum(spki.PublicKey.RightAlign())
		id.NameHash, id.KeyHash = n[:], k[:]
	case crypto.SHA256:
		n, k := sha256.Sum256(issuer.RawSubject), sha256.Sum256(spki.PublicKey.RightAlign())
		id.HashAlgorithm.Algorithm, id.NameHash, id.KeyHash = oidSHA256, n[:], k[:]
	default:
		panic("certID: unsupported hash")
	}
	return id
}

// nonceValue is the extnValue of an RFC 8954 nonce extension.
func nonceValue(nonce []byte) []byte {
	v, err := asn1.Marshal(nonce)
	if err != nil {
		panic(err)
	}
	return v
}

// requestDER encodes an OCSP request for ids, with a nonce unless nil.
func requestDER(t testing.TB, nonce []byte, ids ...reqCertID) []byte {
	t.Helper()
	var ext []byte
	if nonce != nil {
		ext = nonceValue(nonce)
	}
	return requestWithNonceExt(t, ext, ids...)
}

// requestWithNonceExt encodes an OCSP request for ids with a nonce
// extension whose extnValue is ext, none if ext is nil.
func requestWithNonceExt(t testing.TB, ext []byte, ids ...reqCertID) []byte {
	t.Helper()
	r := reqOCSP{}
	for _, id := range ids {
		r.TBS.RequestList = append(r.TBS.RequestList, reqSingle{Cert: id})
	}
	if ext != nil {
		r.TBS.Extensions = []pkix.Extension{{Id: oidNonce, Value: ext}}
	}
	der, err := asn1.Marshal(r)
	if err != nil {
		t.Fatalf("encode OCSP request: %v", err)
	}
	return der
}

// responseExtensions returns the responseExtensions of a successful basic
// OCSP response (RFC 6960 §4.2.1). golang.org/x/crypto/ocsp does not read
// them: its Response.Extensions holds the singleExtensions.
func responseExtensions(t testing.TB, der []byte) []pkix.Extension {
	t.Helper()
	var (
		outer struct {
			Status   asn1.Enumerated
			Response struct {
				Type  asn1.ObjectIdentifier
				Basic []byte
			} `asn1:"explicit,tag:0,optional"`
		}
		basic struct {
			TBS struct {
				Version     int `asn1:"optional,default:0,explicit,tag:0"`
				ResponderID asn1.RawValue
				ProducedAt  time.Time `asn1:"generalized"`
				Responses   []asn1.RawValue
				Extensions  []pkix.Extension `asn1:"explicit,tag:1,optional"`
			}
		}
	)
	if _, err := asn1.Unmarshal(der, &outer); err != nil {
		t.Fatalf("OCSP response: %v", err)
	}
	if _, err := asn1.Unmarshal(outer.Response.Basic, &basic); err != nil {
		t.Fatalf("basic OCSP response: %v", err)
	}
	return basic.TBS.Extensions
}
