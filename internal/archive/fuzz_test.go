package archive_test

import (
	"testing"

	"github.com/sceau/sceau/internal/archive"
)

// FuzzARC3_SignedHead feeds CheckHead arbitrary head bodies and signatures,
// as a replica or a restored database could hold them: it refuses or
// accepts, never panics, and accepts nothing not signed by the test key.
func FuzzARC3_SignedHead(f *testing.F) {
	p := newPKI(f)
	body := []byte(`{"archive":"sceau","number":1,"size":0,"root":"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855","at":"2026-12-07T12:00:00Z"}`)
	sig, err := p.SignHead(body)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(body, sig)
	f.Add([]byte(`{}`), []byte{0x30, 0x80})
	f.Fuzz(func(t *testing.T, body, sig []byte) {
		h := &archive.Head{Number: 1, Size: 0, Body: body, Signature: sig}
		h.Root = []byte{0xe3, 0xb0}
		if _, err := archive.CheckHead(h, p.roots); err == nil && len(body) > 0 {
			// A head that passes must have been signed by the archive key.
			if _, err := archive.CheckHead(h, p.otherRoots); err == nil {
				t.Fatalf("a head verified against an unrelated root")
			}
		}
	})
}
