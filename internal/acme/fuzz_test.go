package acme

import (
	"testing"
)

// FuzzParseJWS feeds the JWS parser outside input: it never panics and
// accepts only the listed algorithms.
func FuzzParseJWS(f *testing.F) {
	f.Add([]byte(`{"protected":"eyJhbGciOiJFUzI1NiJ9","payload":"","signature":"AA"}`))
	f.Add([]byte(`{"protected":"eyJhbGciOiJub25lIn0","payload":"e30","signature":"AA"}`))
	f.Add([]byte(`{"protected":"!!","payload":"","signature":""}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, body []byte) {
		_, h, p := parseJWS(body, accountAlgs)
		if p == nil && h.Alg != "ES256" && h.Alg != "RS256" && h.Alg != "EdDSA" {
			t.Fatalf("algorithm %q accepted", h.Alg)
		}
		if p == nil {
			_, _ = verifyWith(body, h.Alg, []byte("not a key"))
		}
	})
}
