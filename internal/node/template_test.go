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
