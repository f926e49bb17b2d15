package node_test

import (
	"testing"

	"github.com/sceau/sceau/internal/config"
	"github.com/sceau/sceau/internal/node"
)

// The configuration written by init and demo is valid and self-consistent.
func TestConfigTemplateParses(t *testing.T) {
	for _, demo := range []bool{false, true} {
		b := node.RenderConfig(node.ConfigValues{Demo: demo, Org: "Test", PublicListen: "127.0.0.1:18080", AdminListen: "127.0.0.1:18443",
			BaseURL: "http://127.0.0.1:18080"})
		c, err := config.Parse(b)
		if err != nil {
			t.Fatalf("demo=%v: %v\n%s", demo, err, b)
		}
		if _, err := node.Specs(c); err != nil {
			t.Fatalf("demo=%v: %v", demo, err)
		}
	}
}

// CA-1, PUB-1: with an https base URL the eIDAS profiles' QcPDS URLs point
// at the installation's own site (/pds/en, /pds/fr); with http ones, which
// EN 319 412-5 §4.3.4 forbids, they stay placeholders.
func TestCA1_TemplatePDSURLsPointAtTheSiteWhenItIsHTTPS(t *testing.T) {
	for base, want := range map[string]string{"https://pki.test.example": "https://pki.test.example/pds/", "http://127.0.0.1:18080": "https://pki.example.org/pds/"} {
		c, err := config.Parse(node.RenderConfig(node.ConfigValues{Org: "Test", PublicListen: "127.0.0.1:18080", AdminListen: "127.0.0.1:18443", BaseURL: base}))
		if err != nil {
			t.Fatalf("%s: %v", base, err)
		}
		n := 0
		for _, ca := range c.CAs {
			for _, p := range ca.Profiles {
				if p.ETSI == nil {
					continue
				}
				for _, pds := range p.ETSI.PDS {
					n++
					if pds.URL != want+pds.Language {
						t.Errorf("%s: profile %s PDS %q, want %s%s", base, p.Name, pds.URL, want, pds.Language)
					}
				}
			}
		}
		if n == 0 {
			t.Errorf("%s: no profile names a PDS", base)
		}
	}
}
