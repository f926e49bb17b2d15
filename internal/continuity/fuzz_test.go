package continuity_test

import (
	"testing"

	"github.com/sceau/sceau/internal/continuity"
)

// FuzzCONT1_SignedManifest: the clear signed manifest beside a backup is
// outside input (backup list reads it from the target): it never panics,
// and what it accepts verified.
func FuzzCONT1_SignedManifest(f *testing.F) {
	f.Add([]byte(`{"manifest":{"format":"sceau-backup-v1"},"key_id":"00","public_key":"","signature":""}`))
	f.Add([]byte(`{}`))
	f.Add([]byte(`[`))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, s, err := continuity.ParseSigned(b)
		if err == nil && (m == nil || s == nil || m.Format != continuity.Format) {
			t.Fatalf("accepted without a verified manifest: %v %v", m, s)
		}
	})
}
