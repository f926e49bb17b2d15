package config

import (
	"os"
	"path/filepath"
	"testing"
)

// The configuration is the operator's outside input (CA-1): whatever its
// bytes, Parse never panics, and what it accepts validates.
func FuzzCA1_ConfigParse(f *testing.F) {
	seeds, _ := filepath.Glob(filepath.Join("..", "ceremony", "testdata", "*.yaml"))
	for _, p := range seeds {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte("data_dir: .\ncas: []\n"))
	f.Add([]byte("cas:\n  - id: root\n    validity: 10y\n"))
	f.Add([]byte("::::\n\t- ["))
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := Parse(b)
		if err != nil {
			return
		}
		if c == nil {
			t.Fatal("Parse returned neither a configuration nor an error")
		}
		for _, ca := range c.CAs {
			if ca.ID == "" {
				t.Fatalf("an accepted configuration has a CA without an ID: %q", b)
			}
		}
	})
}
