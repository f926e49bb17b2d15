package tsa

import (
	"crypto"
	"crypto/sha256"
	"errors"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/sceau/sceau/internal/sceau"
)

// fakeTSA serves tokens of u, the request changed by alter first.
func fakeTSA(t *testing.T, u *Unit, alter func(*Request)) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		req, err := ParseRequest(body)
		if err != nil {
			t.Errorf("the client sent a request that does not parse: %v", err)
			return
		}
		alter(req)
		token, _, err := u.Issue(r.Context(), req)
		if err != nil {
			t.Error(err)
			return
		}
		w.Header().Set("Content-Type", ReplyType)
		w.Write(marshalResponse(statusGranted, "", 0, token))
	}))
	t.Cleanup(srv.Close)
	return srv
}

// ARC-5: the client gets a token from an external TSA (here our handler)
// and checks it against the TSA's roots, with its nonce and imprint.
func TestARC5_ClientStampsThroughAnExternalTSA(t *testing.T) {
	p := testPKI(t)
	srv := httptest.NewServer(p.newUnit(t, UnitOptions{}).Handler())
	defer srv.Close()
	c := &Client{URL: srv.URL, Roots: p.roots(), Policy: testPolicy}
	sum := sha256.Sum256([]byte("tree head"))
	token, err := c.Stamp(t.Context(), sum[:], crypto.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Verify(token, sum[:], crypto.SHA256, VerifyOptions{Roots: p.roots()}); err != nil {
		t.Errorf("the client's token: %v", err)
	}
	// The TSA refuses: SHA-1 is refused before any request is sent, a
	// guard error comes back as the TSA's rejection.
	if _, err := c.Stamp(t.Context(), sum[:20], crypto.SHA1); sceau.KindOf(err) != sceau.Invalid {
		t.Errorf("SHA-1 through the client: %v", err)
	}
	refusing := httptest.NewServer(p.newUnit(t, UnitOptions{Guard: func() error { return errors.New("drift") }}).Handler())
	defer refusing.Close()
	_, err = (&Client{URL: refusing.URL, Roots: p.roots()}).Stamp(t.Context(), sum[:], crypto.SHA256)
	if sceau.KindOf(err) != sceau.Unavailable || !strings.Contains(err.Error(), "rejection, timeNotAvailable") {
		t.Errorf("a TSA whose clock is not trusted: %v", err)
	}
	html := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "<html>bad gateway</html>", http.StatusBadGateway)
	}))
	defer html.Close()
	_, err = (&Client{URL: html.URL, Roots: p.roots()}).Stamp(t.Context(), sum[:], crypto.SHA256)
	if sceau.KindOf(err) != sceau.Unavailable || !strings.Contains(err.Error(), "HTTP 502") {
		t.Errorf("a proxy's error page: %v", err)
	}
}

// ARC-5: a token that does not answer the client's request is refused:
// another nonce (a replayed token), another imprint, another policy.
func TestARC5_ClientRefusesAWrongNonce(t *testing.T) {
	p := testPKI(t)
	u := p.newUnit(t, UnitOptions{})
	sum := sha256.Sum256([]byte("item"))
	for _, tc := range []struct {
		name  string
		alter func(*Request)
		want  string
	}{
		{"nonce", func(r *Request) { r.Nonce = new(big.Int).Add(r.Nonce, big.NewInt(1)) }, "the token's nonce is not the request's"},
		{"no nonce", func(r *Request) { r.Nonce = nil }, "the token's nonce is not the request's"},
		{"imprint", func(r *Request) { r.Digest = make([]byte, 32) }, "the token is for another message imprint"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := fakeTSA(t, u, tc.alter)
			_, err := (&Client{URL: srv.URL, Roots: p.roots()}).Stamp(t.Context(), sum[:], crypto.SHA256)
			if sceau.KindOf(err) != sceau.Invalid || !strings.HasPrefix(err.Error(), "tsa: client: ") || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %v, want an invalid error holding %q", err, tc.want)
			}
		})
	}
	srv := fakeTSA(t, u, func(*Request) {})
	if _, err := (&Client{URL: srv.URL, Roots: p.roots()}).Stamp(t.Context(), sum[:], crypto.SHA256); err != nil {
		t.Errorf("the same TSA, untouched: %v", err)
	}
}
