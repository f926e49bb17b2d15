package node_test

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sceau/sceau/internal/config"
	"github.com/sceau/sceau/internal/node"
)

// PUB-3: a CA created on one node is served without a restart by another
// node of the same database: LoadNewCAs (run by serve as often as the
// site refreshes) loads it, and the site lists it at the next refresh.
func TestPUB3_CACreatedOnAnotherNodeIsServedWithoutRestart(t *testing.T) {
	ctx := t.Context()
	full := string(demoConfig())
	rootOnly := full[:strings.Index(full, "  - id: issuing")]
	rootOnly = strings.NewReplacer("  signer_ca: issuing\n", "", "  signer_profile: publication\n", "").Replace(rootOnly)
	dir := filepath.Join(t.TempDir(), "inst")
	inst, err := node.Init(ctx, dir, []byte(rootOnly), node.InitOptions{CreateOptions: node.CreateOptions{PINs: node.DemoPIN}})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(inst.ConfigPath, []byte(full), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(inst.ConfigPath)
	if err != nil {
		t.Fatal(err)
	}
	a, err := node.Open(ctx, cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := node.Open(ctx, cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	site := b.Site()
	page := func() int {
		t.Helper()
		if err := site.Refresh(ctx); err != nil {
			t.Fatal(err)
		}
		rec := httptest.NewRecorder()
		site.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/en/ca/issuing", nil))
		return rec.Code
	}
	if ids, err := b.LoadNewCAs(ctx); err != nil || len(ids) != 0 {
		t.Fatalf("LoadNewCAs before the creation: %v, %v", ids, err)
	}
	if code := page(); code != http.StatusNotFound {
		t.Fatalf("the page of a CA not created yet: %d, want 404", code)
	}

	if _, err := a.CreateCAs(ctx, node.CreateOptions{PINs: node.DemoPIN}); err != nil {
		t.Fatal(err)
	}
	ids, err := b.LoadNewCAs(ctx)
	if err != nil || len(ids) != 1 || ids[0] != "issuing" {
		t.Fatalf("LoadNewCAs after the creation on the other node: %v, %v; want [issuing]", ids, err)
	}
	if _, err := b.Authority.CA("issuing"); err != nil {
		t.Fatalf("the other node does not know the new CA: %v", err)
	}
	if code := page(); code != http.StatusOK {
		t.Fatalf("the page of the new CA on the other node: %d, want 200", code)
	}
	if ids, err := b.LoadNewCAs(ctx); err != nil || len(ids) != 0 {
		t.Fatalf("LoadNewCAs once more: %v, %v; want nothing", ids, err)
	}
}
