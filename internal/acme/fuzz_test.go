package acme

import (
	"strings"
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

// FuzzParseCertID feeds the ARI certID parser (RFC 9773 §4.1) outside
// input: it never panics, and what it accepts is a non-empty key
// identifier and a positive serial whose minimal encoding it was.
func FuzzParseCertID(f *testing.F) {
	f.Add("aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE")
	f.Add("aYhba4dGQEHhs3uEe6CuLN4ByNQ=.AIdlQyE")
	f.Add(".")
	f.Add("a.gA")
	f.Fuzz(func(t *testing.T, id string) {
		aki, n, p := parseCertID(id)
		if p != nil {
			return
		}
		if len(aki) == 0 || n.Sign() <= 0 {
			t.Fatalf("%q accepted as %x, %v", id, aki, n)
		}
		if _, serial, _ := strings.Cut(id, "."); b64(n.Bytes()) != serial && b64(append([]byte{0}, n.Bytes()...)) != serial {
			t.Fatalf("%q: serial %x is not what it encodes", id, n)
		}
	})
}
