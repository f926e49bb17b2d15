package acme_test

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"

	jose "github.com/go-jose/go-jose/v4"
)

// raw is a hand-made ACME client, to send what a real client never does.
type raw struct {
	f   *fixture
	dir map[string]any
	key crypto.Signer
	alg jose.SignatureAlgorithm
	kid string
}

func (f *fixture) raw(dir string) *raw {
	f.t.Helper()
	resp, err := f.srv.Client().Get(f.dirURL(dir))
	if err != nil {
		f.t.Fatal(err)
	}
	defer resp.Body.Close()
	r := &raw{f: f, dir: map[string]any{}, alg: jose.ES256}
	if err := json.NewDecoder(resp.Body).Decode(&r.dir); err != nil {
		f.t.Fatal(err)
	}
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		f.t.Fatal(err)
	}
	r.key = k
	return r
}

func (r *raw) url(name string) string { return r.dir[name].(string) }

func (r *raw) nonce() string {
	resp, err := r.f.srv.Client().Head(r.url("newNonce"))
	if err != nil {
		r.f.t.Fatal(err)
	}
	resp.Body.Close()
	return resp.Header.Get("Replay-Nonce")
}

// sign makes the flattened JWS of payload for url.
func (r *raw) sign(url string, payload []byte, nonce string) []byte {
	r.f.t.Helper()
	opts := &jose.SignerOptions{ExtraHeaders: map[jose.HeaderKey]any{"url": url}}
	if nonce != "" {
		opts.ExtraHeaders["nonce"] = nonce
	}
	if r.kid != "" {
		opts.ExtraHeaders["kid"] = r.kid
	} else {
		opts.EmbedJWK = true
	}
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: r.alg, Key: r.key}, opts)
	if err != nil {
		r.f.t.Fatal(err)
	}
	jws, err := s.Sign(payload)
	if err != nil {
		r.f.t.Fatal(err)
	}
	out := jws.FullSerialize()
	if len(payload) == 0 { // go-jose leaves out an empty payload; ACME's POST-as-GET has it
		out = strings.Replace(out, `{"protected"`, `{"payload":"","protected"`, 1)
	}
	return []byte(out)
}

type answer struct {
	status int
	header http.Header
	body   map[string]any
	raw    []byte
}

func (a answer) problem() string {
	t, _ := a.body["type"].(string)
	return strings.TrimPrefix(t, "urn:ietf:params:acme:error:")
}

func (r *raw) send(url string, body []byte) answer {
	r.f.t.Helper()
	resp, err := r.f.srv.Client().Post(url, "application/jose+json", bytes.NewReader(body))
	if err != nil {
		r.f.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	a := answer{status: resp.StatusCode, header: resp.Header, raw: b, body: map[string]any{}}
	_ = json.Unmarshal(b, &a.body)
	return a
}

func (r *raw) post(url string, payload any) answer {
	r.f.t.Helper()
	var b []byte
	if payload != nil {
		var err error
		if b, err = json.Marshal(payload); err != nil {
			r.f.t.Fatal(err)
		}
	}
	return r.send(url, r.sign(url, b, r.nonce()))
}

// eab signs the binding of the client's key with an EAB key.
func (r *raw) eab(kid, hmacKey string) json.RawMessage {
	r.f.t.Helper()
	key, err := base64.RawURLEncoding.DecodeString(hmacKey)
	if err != nil {
		r.f.t.Fatal(err)
	}
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.HS256, Key: key},
		&jose.SignerOptions{ExtraHeaders: map[jose.HeaderKey]any{"url": r.url("newAccount"), "kid": kid}})
	if err != nil {
		r.f.t.Fatal(err)
	}
	jwk, _ := json.Marshal(jose.JSONWebKey{Key: r.key.Public()})
	jws, err := s.Sign(jwk)
	if err != nil {
		r.f.t.Fatal(err)
	}
	return json.RawMessage(jws.FullSerialize())
}

// register creates an account bound to a new EAB key for names.
func (r *raw) register(names ...string) {
	r.f.t.Helper()
	k, err := r.f.svc.CreateEAB(context.Background(), ra1, r.f.dossier.ID, names)
	if err != nil {
		r.f.t.Fatal(err)
	}
	a := r.post(r.url("newAccount"), map[string]any{"termsOfServiceAgreed": true, "externalAccountBinding": r.eab(k.KID, k.HMACKey)})
	if a.status != http.StatusCreated {
		r.f.t.Fatalf("newAccount: %d %s", a.status, a.raw)
	}
	r.kid = a.header.Get("Location")
}

// order makes an order for names and returns it with its URL.
func (r *raw) order(names ...string) (answer, string) {
	r.f.t.Helper()
	var ids []map[string]string
	for _, n := range names {
		ids = append(ids, map[string]string{"type": "dns", "value": n})
	}
	a := r.post(r.url("newOrder"), map[string]any{"identifiers": ids})
	return a, a.header.Get("Location")
}

// http01 returns the http-01 challenge (URL, token) of the order's first
// authorization.
func (r *raw) http01(order answer) (string, string) {
	r.f.t.Helper()
	authz := r.post(order.body["authorizations"].([]any)[0].(string), nil)
	if authz.status != http.StatusOK {
		r.f.t.Fatalf("authz: %d %s", authz.status, authz.raw)
	}
	for _, c := range authz.body["challenges"].([]any) {
		m := c.(map[string]any)
		if m["type"] == "http-01" {
			return m["url"].(string), m["token"].(string)
		}
	}
	r.f.t.Fatal("no http-01 challenge")
	return "", ""
}

func (r *raw) thumbprint() string {
	jwk := jose.JSONWebKey{Key: r.key.Public()}
	t, err := jwk.Thumbprint(crypto.SHA256)
	if err != nil {
		r.f.t.Fatal(err)
	}
	return base64.RawURLEncoding.EncodeToString(t)
}

// serveHTTP01 answers every http-01 request of the test on the
// fixture's port with body.
func (f *fixture) serveHTTP01(body func(token string) string) {
	f.t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:"+f.httpPort)
	if err != nil {
		f.t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, body(strings.TrimPrefix(r.URL.Path, "/.well-known/acme-challenge/")))
	})}
	go func() { _ = srv.Serve(l) }()
	f.t.Cleanup(func() { _ = srv.Close() })
}

func csrFor(t *testing.T, names ...string) []byte {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{Subject: pkix.Name{CommonName: names[0]}, DNSNames: names}, k)
	if err != nil {
		t.Fatal(err)
	}
	return der
}
