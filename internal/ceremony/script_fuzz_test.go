package ceremony

import (
	"os"
	"path/filepath"
	"testing"
)

// A ceremony script is the reviewable file the room follows (KEY-8):
// whatever its bytes, ParseScript never panics, and an accepted script
// names a security officer and a witness.
func FuzzKEY8_Script(f *testing.F) {
	seeds, _ := filepath.Glob(filepath.Join("testdata", "*.yaml"))
	for _, p := range seeds {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte("name: x\nparticipants: []\n"))
	f.Add([]byte("{"))
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := ParseScript(b)
		if err != nil {
			return
		}
		roles := map[Role]bool{}
		for _, p := range s.Participants {
			roles[p.Role] = true
		}
		if !roles[SecurityOfficer] || !roles[Witness] {
			t.Fatalf("an accepted script lacks a security officer or a witness: %q", b)
		}
	})
}
