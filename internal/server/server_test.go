package server_test

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"io"
	"log/slog"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/sceau/sceau/internal/access"
	"github.com/sceau/sceau/internal/keys"
	"github.com/sceau/sceau/internal/sceau"
	"github.com/sceau/sceau/internal/sceautest"
	"github.com/sceau/sceau/internal/server"
	"github.com/sceau/sceau/internal/store"
)

// maxBody is the admin body limit of the fixture: small, so the oversized
// body case stays cheap.
const maxBody = 4096

// fixture is a hierarchy with its admin and public handlers.
type fixture struct {
	h      *sceautest.Hierarchy
	admin  http.Handler
	public http.Handler
}

func newFixture(t *testing.T, db *store.DB) *fixture {
	t.Helper()
	h := sceautest.NewHierarchy(t, db, sceautest.HierarchyOptions{})
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	// The tester certificate stands for a person who holds the
	// Registration & Revocation Officer role: issuance and revocation are
	// that role's (ROLE-1); access_test.go walks the other roles.
	acc := access.New(db, h.Journal, access.Options{KDF: access.KDFParams{Memory: 1024, Time: 1, Threads: 1}})
	if _, err := acc.Bootstrap(context.Background(), sceau.System("test"), []access.Person{{Name: "tester",
		Roles: []access.Role{access.RegistrationOfficer}, CertificateOnly: true, Certificate: testerCert}}); err != nil {
		t.Fatal(err)
	}
	adm := &server.Admin{Authority: h.Authority, Revocation: h.Revocation, Metrics: server.NewMetrics(), Log: log, MaxBodyBytes: maxBody,
		Access: acc}
	pub := &server.Public{Authority: h.Authority, Revocation: h.Revocation, Responder: h.Revocation.NewResponder(log), Log: log}
	return &fixture{h: h, admin: adm.Handler(), public: pub.Handler()}
}

// testerCert is a client certificate whose CN is "tester", as a verified
// chain would carry it after the TLS handshake.
var testerCert = func() *x509.Certificate {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		panic(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(7), Subject: pkix.Name{CommonName: "tester"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		panic(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		panic(err)
	}
	return c
}()

var testerTLS = &tls.ConnectionState{Version: tls.VersionTLS13, HandshakeComplete: true,
	PeerCertificates: []*x509.Certificate{testerCert}, VerifiedChains: [][]*x509.Certificate{{testerCert}}}

// call sends one request to the admin handler as the operator "tester".
func (f *fixture) call(t *testing.T, method, path, body string) *httptest.ResponseRecorder {
	t.Helper()
	return f.callAs(t, testerTLS, method, path, body)
}

func (f *fixture) callAs(t *testing.T, cs *tls.ConnectionState, method, path, body string) *httptest.ResponseRecorder {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	r := httptest.NewRequest(method, path, rd)
	if body != "" {
		r.Header.Set("Content-Type", "application/json")
	}
	r.TLS = cs
	w := httptest.NewRecorder()
	f.admin.ServeHTTP(w, r)
	return w
}

// errorOf decodes the admin API's error body.
func errorOf(t *testing.T, w *httptest.ResponseRecorder) server.ErrorBody {
	t.Helper()
	var eb server.ErrorBody
	if err := json.Unmarshal(w.Body.Bytes(), &eb); err != nil {
		t.Fatalf("error body %q is not JSON: %v", w.Body.String(), err)
	}
	return eb
}

func countCertificates(t *testing.T, db *store.DB) int {
	t.Helper()
	var n int
	if err := db.QueryRowContext(context.Background(), `SELECT COUNT(*) FROM certificates`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func jsonBody(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func csrPEM(der []byte) string {
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: der}))
}

func csrFor(t *testing.T, key crypto.Signer, cn string, dns ...string) []byte {
	t.Helper()
	der, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{Subject: pkix.Name{CommonName: cn}, DNSNames: dns}, key)
	if err != nil {
		t.Fatal(err)
	}
	return der
}

// issue issues a server certificate through the handler and returns its serial.
func (f *fixture) issue(t *testing.T) string {
	t.Helper()
	csr := sceautest.CSR(t, sceautest.NewKey(t, keys.ECDSAP256), "www.example.org", "www.example.org")
	w := f.call(t, http.MethodPost, "/api/v1/certificates", jsonBody(t, server.IssueRequest{CA: "issuing", Profile: "server", CSR: csrPEM(csr)}))
	if w.Code != http.StatusCreated {
		t.Fatalf("issue: %d %s", w.Code, w.Body)
	}
	var resp server.IssueResponse
	if err := json.Unmarshal(w.Body.Bytes(), &resp); err != nil {
		t.Fatal(err)
	}
	return resp.Serial
}

func TestSYS2_AdminRefusesRequestWithoutVerifiedClientCertificate(t *testing.T) {
	sceautest.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		csr := csrPEM(sceautest.CSR(t, sceautest.NewKey(t, keys.ECDSAP256), "www.example.org", "www.example.org"))
		issue := jsonBody(t, server.IssueRequest{CA: "issuing", Profile: "server", CSR: csr})
		// A handshake whose peer certificate did not verify leaves no chain.
		unverified := &tls.ConnectionState{Version: tls.VersionTLS13, HandshakeComplete: true, PeerCertificates: []*x509.Certificate{testerCert}}
		for _, cs := range []struct {
			name string
			tls  *tls.ConnectionState
		}{{"no TLS", nil}, {"no verified chain", unverified}} {
			for _, rq := range []struct{ method, path, body string }{
				{http.MethodGet, "/api/v1/cas", ""},
				{http.MethodGet, "/metrics", ""},
				{http.MethodPost, "/api/v1/certificates", issue},
			} {
				t.Run(cs.name+" "+rq.method+" "+rq.path, func(t *testing.T) {
					before := countCertificates(t, db)
					w := f.callAs(t, cs.tls, rq.method, rq.path, rq.body)
					if w.Code != http.StatusForbidden {
						t.Fatalf("status %d, want 403: %s", w.Code, w.Body)
					}
					if eb := errorOf(t, w); !strings.Contains(eb.Error, "client certificate") || eb.Kind != "denied" {
						t.Errorf("error %+v, want a denied error naming the client certificate", eb)
					}
					if after := countCertificates(t, db); after != before {
						t.Errorf("certificates: %d rows before, %d after a refused request", before, after)
					}
				})
			}
		}
		// The same request with a verified chain goes through.
		if w := f.call(t, http.MethodGet, "/api/v1/cas", ""); w.Code != http.StatusOK {
			t.Fatalf("GET /api/v1/cas as tester: %d %s", w.Code, w.Body)
		}
	})
}

func TestCA2_AdminIssueRefusesBadRequestsWithoutRecord(t *testing.T) {
	sceautest.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		good := sceautest.CSR(t, sceautest.NewKey(t, keys.ECDSAP256), "www.example.org", "www.example.org")

		badSig := append([]byte(nil), good...)
		badSig[len(badSig)-1] ^= 0x01 // inside the signature value

		p521, err := ecdsa.GenerateKey(elliptic.P521(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		rsa1024, err := rsa.GenerateKey(rand.Reader, 1024)
		if err != nil {
			t.Fatal(err)
		}
		_, edKey, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		p384 := sceautest.NewKey(t, keys.ECDSAP384)

		req := func(ca, profile, csr string) string {
			return jsonBody(t, server.IssueRequest{CA: ca, Profile: profile, CSR: csr})
		}
		pemOf := func(der []byte) string { return csrPEM(der) }
		oversized := `{"ca":"issuing","profile":"server","csr":"` + strings.Repeat("A", 2*maxBody) + `"}`

		tests := []struct {
			name   string
			body   string
			status int
			msg    string
		}{
			{"malformed JSON", `{"ca":"issuing",`, 400, "server: request: the body is not the expected JSON"},
			{"not an object", `[1,2]`, 400, "the body is not the expected JSON"},
			{"unknown field", `{"ca":"issuing","profile":"server","csr":"x","bogus":1}`, 400, `unknown field "bogus"`},
			{"trailing data", req("issuing", "server", pemOf(good)) + `{}`, 400, "the body holds data after the JSON object"},
			{"oversized body", oversized, 400, "the body exceeds 4096 bytes"},
			{"empty CSR", req("issuing", "server", ""), 400, "server: csr: csr is required"},
			{"bad base64 CSR", req("issuing", "server", "!!!not base64!!!"), 400, "server: csr: csr is neither PEM nor base64 DER"},
			{"PEM of another type", req("issuing", "server", strings.Replace(pemOf(good), "CERTIFICATE REQUEST", "CERTIFICATE", 2)),
				400, "csr is not a PEM CERTIFICATE REQUEST"},
			{"base64 of garbage", req("issuing", "server", base64.StdEncoding.EncodeToString([]byte("not a request"))),
				400, "ca: csr: not a DER PKCS#10 request"},
			{"CSR with a bad signature", req("issuing", "server", pemOf(badSig)), 400,
				"ca: csr: the request's signature does not verify (proof of possession fails)"},
			// The precise reason for these three is checked by
			// TestCA2_AdminRefusalNamesTheUnsupportedSubjectKey.
			{"P-521 key", req("issuing", "server", pemOf(csrFor(t, p521, "www.example.org", "www.example.org"))), 400, "ca: subject key"},
			{"RSA-1024 key", req("issuing", "server", pemOf(csrFor(t, rsa1024, "www.example.org", "www.example.org"))), 400, "ca: subject key"},
			{"Ed25519 key", req("issuing", "server", pemOf(csrFor(t, edKey, "www.example.org", "www.example.org"))), 400, "ca: subject key"},
			{"key type outside the profile", req("issuing", "person", pemOf(csrFor(t, p384, "Marie Curie"))), 400,
				`ca: subject key: profile "person" does not allow ecdsa-p384 keys`},
			{"no SAN where required", req("issuing", "server", pemOf(sceautest.CSR(t, sceautest.NewKey(t, keys.ECDSAP256), "www.example.org"))),
				400, `profile "server" requires a subject alternative name`},
			{"bad validity", jsonBody(t, server.IssueRequest{CA: "issuing", Profile: "server", CSR: pemOf(good), Validity: "soon"}),
				400, `server: validity: "soon" is not a positive duration like 720h`},
			{"validity above the profile", jsonBody(t, server.IssueRequest{CA: "issuing", Profile: "server", CSR: pemOf(good), Validity: "20000h"}),
				400, "exceeds the profile's maximum"},
			{"unknown CA", req("nope", "server", pemOf(good)), 404, `ca: unknown CA "nope"`},
			{"unknown profile", req("issuing", "nope", pemOf(good)), 404, `ca: prepare: CA "issuing" has no profile "nope"`},
			{"root has no profile", req("root", "server", pemOf(good)), 404, `CA "root" has no profile "server"`},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				before := countCertificates(t, db)
				w := f.call(t, http.MethodPost, "/api/v1/certificates", tc.body)
				if w.Code != tc.status {
					t.Fatalf("status %d, want %d: %s", w.Code, tc.status, w.Body)
				}
				if eb := errorOf(t, w); !strings.Contains(eb.Error, tc.msg) {
					t.Errorf("error %q, want it to contain %q", eb.Error, tc.msg)
				}
				if ct := w.Header().Get("Content-Type"); ct != "application/json" {
					t.Errorf("Content-Type %q", ct)
				}
				if after := countCertificates(t, db); after != before {
					t.Errorf("certificates: %d rows before, %d after a refused request", before, after)
				}
			})
		}

		// The good request is accepted: the refusals above are the request's fault.
		before := countCertificates(t, db)
		w := f.call(t, http.MethodPost, "/api/v1/certificates", req("issuing", "server", base64.StdEncoding.EncodeToString(good)))
		if w.Code != http.StatusCreated {
			t.Fatalf("good request (base64 DER): %d %s", w.Code, w.Body)
		}
		var resp server.IssueResponse
		if err := json.Unmarshal(w.Body.Bytes(), &resp); err != nil {
			t.Fatal(err)
		}
		blk, _ := pem.Decode([]byte(resp.Certificate))
		if blk == nil {
			t.Fatalf("no PEM certificate in %q", resp.Certificate)
		}
		cert, err := x509.ParseCertificate(blk.Bytes)
		if err != nil {
			t.Fatal(err)
		}
		if got := cert.SerialNumber.Text(16); got != resp.Serial {
			t.Errorf("serial %s in the answer, %s in the certificate", resp.Serial, got)
		}
		if after := countCertificates(t, db); after != before+1 {
			t.Errorf("certificates: %d rows before, %d after one issuance", before, after)
		}
	})
}

// TestCA2_AdminRefusalNamesTheUnsupportedSubjectKey: a CSR whose key type
// Sceau does not support is refused with a message that says what the key
// is, so the requester can fix it (not just "ca: subject key: invalid").
func TestCA2_AdminRefusalNamesTheUnsupportedSubjectKey(t *testing.T) {
	f := newFixture(t, sceautest.OpenSQLite(t))
	p521, err := ecdsa.GenerateKey(elliptic.P521(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	rsa1024, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	_, edKey, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		key  crypto.Signer
		msg  string
	}{
		{"P-521", p521, "ECDSA curve P-521 is not supported"},
		{"RSA-1024", rsa1024, "RSA key of 1024 bits is not supported"},
		{"Ed25519", edKey, "ed25519.PublicKey is not supported"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			csr := csrPEM(csrFor(t, tc.key, "www.example.org", "www.example.org"))
			w := f.call(t, http.MethodPost, "/api/v1/certificates", jsonBody(t, server.IssueRequest{CA: "issuing", Profile: "server", CSR: csr}))
			if w.Code != http.StatusBadRequest {
				t.Fatalf("status %d, want 400: %s", w.Code, w.Body)
			}
			if eb := errorOf(t, w); !strings.Contains(eb.Error, tc.msg) {
				t.Errorf("error %q, want it to contain %q", eb.Error, tc.msg)
			}
		})
	}
}

func TestCA2_AdminPKCS12RefusesBadRequestsWithoutRecord(t *testing.T) {
	sceautest.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		req := func(mod func(*server.PKCS12Request)) string {
			r := server.PKCS12Request{CA: "issuing", Profile: "person", KeyType: "ecdsa-p256",
				Subject: server.Subject{CommonName: "Marie Curie", Country: "FR"}, Emails: []string{"marie@example.org"},
				Password: "correct horse battery staple"}
			mod(&r)
			return jsonBody(t, r)
		}
		tests := []struct {
			name   string
			body   string
			status int
			msg    string
		}{
			{"unknown field", `{"ca":"issuing","profile":"person","key_type":"ecdsa-p256","pin":"1234"}`, 400, `unknown field "pin"`},
			{"unknown key type", req(func(r *server.PKCS12Request) { r.KeyType = "ed25519" }), 400, `unknown key type "ed25519"`},
			{"key type outside the profile", req(func(r *server.PKCS12Request) { r.KeyType = "ecdsa-p384" }), 400,
				`profile "person" does not allow ecdsa-p384 keys`},
			{"short password", req(func(r *server.PKCS12Request) { r.Password = "short" }), 400,
				"the PKCS#12 password must have at least 12 characters"},
			{"bad IP", req(func(r *server.PKCS12Request) { r.IPs = []string{"300.1.1.1"} }), 400, `"300.1.1.1" is not an IP address`},
			{"email not allowed by server profile", req(func(r *server.PKCS12Request) { r.Profile = "server" }), 400,
				`profile "server" does not allow email addresses`},
			{"unknown CA", req(func(r *server.PKCS12Request) { r.CA = "nope" }), 404, `unknown CA "nope"`},
			{"unknown profile", req(func(r *server.PKCS12Request) { r.Profile = "nope" }), 404, `CA "issuing" has no profile "nope"`},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				before := countCertificates(t, db)
				w := f.call(t, http.MethodPost, "/api/v1/certificates/pkcs12", tc.body)
				if w.Code != tc.status {
					t.Fatalf("status %d, want %d: %s", w.Code, tc.status, w.Body)
				}
				if eb := errorOf(t, w); !strings.Contains(eb.Error, tc.msg) {
					t.Errorf("error %q, want it to contain %q", eb.Error, tc.msg)
				}
				if after := countCertificates(t, db); after != before {
					t.Errorf("certificates: %d rows before, %d after a refused request", before, after)
				}
			})
		}
		w := f.call(t, http.MethodPost, "/api/v1/certificates/pkcs12", req(func(*server.PKCS12Request) {}))
		if w.Code != http.StatusCreated {
			t.Fatalf("good request: %d %s", w.Code, w.Body)
		}
		var resp server.PKCS12Response
		if err := json.Unmarshal(w.Body.Bytes(), &resp); err != nil {
			t.Fatal(err)
		}
		if resp.Password != "" {
			t.Errorf("the answer echoes a password chosen by the requester")
		}
		if _, err := base64.StdEncoding.DecodeString(resp.PKCS12); err != nil || resp.PKCS12 == "" {
			t.Errorf("pkcs12 field is not base64: %v", err)
		}
	})
}

func TestCA3_AdminRevokeOnceThenConflict(t *testing.T) {
	sceautest.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		serial := f.issue(t)
		path := "/api/v1/certificates/" + serial + "/revoke"

		for _, tc := range []struct {
			name, path, body string
			status           int
			msg              string
		}{
			{"unknown reason", path, `{"reason":"bored"}`, 400, `server: reason: "bored" is not an RFC 5280 reason`},
			{"reason code instead of name", path, `{"reason":1}`, 400, "the body is not the expected JSON"},
			{"unknown field", path, `{"reason":"keyCompromise","when":"now"}`, 400, `unknown field "when"`},
			{"unknown serial", "/api/v1/certificates/1234/revoke", `{"reason":"keyCompromise"}`, 404, "no certificate with serial 1234"},
			{"not a serial", "/api/v1/certificates/xyz/revoke", `{"reason":"keyCompromise"}`, 400, `serial "xyz" is not a positive hexadecimal number`},
		} {
			t.Run(tc.name, func(t *testing.T) {
				w := f.call(t, http.MethodPost, tc.path, tc.body)
				if w.Code != tc.status {
					t.Fatalf("status %d, want %d: %s", w.Code, tc.status, w.Body)
				}
				if eb := errorOf(t, w); !strings.Contains(eb.Error, tc.msg) {
					t.Errorf("error %q, want it to contain %q", eb.Error, tc.msg)
				}
			})
		}
		// Still issued after the refusals.
		w := f.call(t, http.MethodGet, "/api/v1/certificates/"+serial, "")
		var info server.CertInfo
		if err := json.Unmarshal(w.Body.Bytes(), &info); err != nil || info.Record == nil {
			t.Fatalf("show: %d %s", w.Code, w.Body)
		}
		if info.Status != "issued" {
			t.Fatalf("status %q after refused revocations, want issued", info.Status)
		}

		w = f.call(t, http.MethodPost, path, `{"reason":"keyCompromise"}`)
		if w.Code != http.StatusOK {
			t.Fatalf("revoke: %d %s", w.Code, w.Body)
		}
		info = server.CertInfo{}
		if err := json.Unmarshal(w.Body.Bytes(), &info); err != nil || info.Record == nil {
			t.Fatalf("revoke answer %s: %v", w.Body, err)
		}
		if info.Status != "revoked" || info.Reason != "keyCompromise" || info.RevokedAt == nil {
			t.Errorf("after revoke: status %q reason %q revoked_at %v", info.Status, info.Reason, info.RevokedAt)
		}

		// Upper-case serials name the same certificate.
		w = f.call(t, http.MethodPost, "/api/v1/certificates/"+strings.ToUpper(serial)+"/revoke", `{"reason":"superseded"}`)
		if w.Code != http.StatusConflict {
			t.Fatalf("second revoke: %d, want 409: %s", w.Code, w.Body)
		}
		eb := errorOf(t, w)
		if !strings.Contains(eb.Error, "revoked already") || !strings.Contains(eb.Error, "keyCompromise") || eb.Kind != "conflict" {
			t.Errorf("second revoke error %+v, want a conflict saying revoked already (keyCompromise)", eb)
		}
	})
}

func TestCA3_AdminListAndShow(t *testing.T) {
	sceautest.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		serial := f.issue(t)
		for _, tc := range []struct {
			name, path string
			status     int
			msg        string
		}{
			{"bad limit", "/api/v1/certificates?limit=zero", 400, `server: limit: "zero" is not a positive number`},
			{"bad status", "/api/v1/certificates?status=lost", 400, `unknown status "lost"`},
			{"unknown serial", "/api/v1/certificates/abcdef", 404, "no certificate with serial abcdef"},
			{"unknown CA", "/api/v1/cas/nope", 404, `unknown CA "nope"`},
			{"CRL of unknown CA", "/api/v1/cas/nope/crl", 404, `unknown CA "nope"`},
		} {
			t.Run(tc.name, func(t *testing.T) {
				method := http.MethodGet
				body := ""
				if strings.HasSuffix(tc.path, "/crl") {
					method, body = http.MethodPost, "{}"
				}
				w := f.call(t, method, tc.path, body)
				if w.Code != tc.status {
					t.Fatalf("status %d, want %d: %s", w.Code, tc.status, w.Body)
				}
				if eb := errorOf(t, w); !strings.Contains(eb.Error, tc.msg) {
					t.Errorf("error %q, want it to contain %q", eb.Error, tc.msg)
				}
			})
		}
		w := f.call(t, http.MethodGet, "/api/v1/certificates?ca=issuing&status=issued", "")
		var list []server.CertInfo
		if err := json.Unmarshal(w.Body.Bytes(), &list); err != nil || w.Code != 200 {
			t.Fatalf("list: %d %s", w.Code, w.Body)
		}
		if len(list) != 1 || list[0].Serial != serial {
			t.Errorf("list = %d entries, want the one certificate %s", len(list), serial)
		}
		w = f.call(t, http.MethodPost, "/api/v1/cas/issuing/crl", "{}")
		var crls []server.CRLInfo
		if err := json.Unmarshal(w.Body.Bytes(), &crls); err != nil || w.Code != http.StatusCreated {
			t.Fatalf("crl: %d %s", w.Code, w.Body)
		}
		if len(crls) != 1 || crls[0].CA != "issuing" || crls[0].Number < 2 {
			t.Errorf("crl answer %+v, want one CRL of issuing numbered after the first", crls)
		}
	})
}

func TestSYS2_PublicHandlerIsReadOnly(t *testing.T) {
	f := newFixture(t, sceautest.OpenSQLite(t))
	for _, path := range []string{"/", "/ca/root.der", "/crl/issuing.crl", "/healthz", "/api/v1/cas", "/api/v1/certificates"} {
		for _, method := range []string{http.MethodPut, http.MethodDelete, http.MethodPatch} {
			w := httptest.NewRecorder()
			f.public.ServeHTTP(w, httptest.NewRequest(method, path, strings.NewReader("{}")))
			if w.Code != http.StatusMethodNotAllowed {
				t.Errorf("%s %s: %d, want 405", method, path, w.Code)
			}
		}
	}
	for _, path := range []string{"/api/v1/cas", "/api/v1/certificates", "/api/v1/certificates/1/revoke", "/metrics"} {
		for _, method := range []string{http.MethodGet, http.MethodPost} {
			w := httptest.NewRecorder()
			f.public.ServeHTTP(w, httptest.NewRequest(method, path, strings.NewReader("{}")))
			if w.Code != http.StatusNotFound && w.Code != http.StatusMethodNotAllowed {
				t.Errorf("%s %s on the public handler: %d, want 404 or 405", method, path, w.Code)
			}
		}
	}
	for _, path := range []string{"/ca/root.der", "/ca/issuing.pem", "/ca/issuing.txt", "/crl/issuing.crl", "/crl/root.crl"} {
		w := httptest.NewRecorder()
		f.public.ServeHTTP(w, httptest.NewRequest(http.MethodGet, path, nil))
		if w.Code != http.StatusOK {
			t.Errorf("GET %s: %d, want 200", path, w.Code)
		}
	}
	for _, path := range []string{"/ca/nope.der", "/ca/root.exe", "/ca/root", "/crl/nope.crl", "/crl/issuing.txt"} {
		w := httptest.NewRecorder()
		f.public.ServeHTTP(w, httptest.NewRequest(http.MethodGet, path, nil))
		if w.Code != http.StatusNotFound {
			t.Errorf("GET %s: %d, want 404", path, w.Code)
		}
	}
}
