package node_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/sceau/sceau/internal/config"
	"github.com/sceau/sceau/internal/keys"
	"github.com/sceau/sceau/internal/node"
	"github.com/sceau/sceau/internal/quorum"
	"github.com/sceau/sceau/internal/sceau"
)

// demoConfig is the demo's configuration: a root, and an issuing CA whose
// key is activated by 3 of 5 holders.
func demoConfig() []byte {
	return node.RenderConfig(node.ConfigValues{Demo: true, Org: "Node Test", PublicListen: "127.0.0.1:1", AdminListen: "127.0.0.1:2",
		BaseURL: "http://127.0.0.1:1"})
}

// KEY-2, KEY-5: Init splits the issuing CA's secret among its five holders
// into PIN-sealed share files; a node opened afterwards does not sign for
// that CA until three holders present their shares: two are not enough.
func TestKEY2_InitSplitsAndANewNodeSignsOnlyAfterMOfN(t *testing.T) {
	ctx := t.Context()
	dir := filepath.Join(t.TempDir(), "inst")
	inst, err := node.Init(ctx, dir, demoConfig(), node.InitOptions{CreateOptions: node.CreateOptions{PINs: node.DemoPIN}, People: node.People{Demo: true}})
	if err != nil {
		t.Fatal(err)
	}
	if len(inst.CAs) != 2 {
		t.Fatalf("Init created %d CAs, want root and issuing", len(inst.CAs))
	}
	holders := []string{"alice", "bob", "carol", "dave", "erin"}
	for _, h := range holders {
		if _, err := os.Stat(inst.Layout.ShareFile("issuing", h)); err != nil {
			t.Fatalf("share file of %s: %v", h, err)
		}
	}
	cfg, err := config.Load(inst.ConfigPath)
	if err != nil {
		t.Fatal(err)
	}
	n, err := node.Open(ctx, cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	// KEY-5: a new process signs nothing for the CA before activation.
	if _, err := n.Revocation.IssueCRL(ctx, sceau.System("test"), "issuing"); !errors.Is(err, keys.ErrNotActivated) {
		t.Fatalf("CRL of a CA not activated: %v, want keys.ErrNotActivated", err)
	}
	if _, err := n.Revocation.IssueCRL(ctx, sceau.System("test"), "root"); err != nil {
		t.Fatalf("the root has no activation policy and signs at once: %v", err)
	}
	cust := n.Custodian(nil)
	kid := sceau.CAKeyLabel("issuing")
	prog, err := cust.Begin(ctx, sceau.System("test"), kid)
	if err != nil {
		t.Fatal(err)
	}
	session := cust.Session(kid, prog.ID)
	present := func(h string) *quorum.Progress {
		t.Helper()
		b, err := os.ReadFile(inst.Layout.ShareFile("issuing", h))
		if err != nil {
			t.Fatal(err)
		}
		pin, _ := node.DemoPIN("issuing", h)
		p, err := quorum.PresentShare(ctx, session, kid, quorum.HolderShare{Holder: h, File: b}, pin)
		if err != nil {
			t.Fatalf("%s presents: %v", h, err)
		}
		return p
	}
	present("alice")
	if p := present("bob"); p.Activated || p.Need != 1 {
		t.Fatalf("after 2 of 3 shares: %+v, want not activated, 1 more needed", p)
	}
	if _, err := n.Revocation.IssueCRL(ctx, sceau.System("test"), "issuing"); !errors.Is(err, keys.ErrNotActivated) {
		t.Fatalf("m-1 shares activated the CA: %v", err)
	}
	if p := present("carol"); !p.Activated {
		t.Fatalf("after 3 of 3 shares: %+v, want activated", p)
	}
	if _, err := n.Revocation.IssueCRL(ctx, sceau.System("test"), "issuing"); err != nil {
		t.Fatalf("CRL once activated: %v", err)
	}
	// Nothing is missing: CreateCAs creates nothing and touches nothing.
	created, err := n.CreateCAs(ctx, node.CreateOptions{})
	if err != nil || len(created.CAs) != 0 {
		t.Fatalf("CreateCAs on a complete installation: %v, %d CAs", err, len(created.CAs))
	}
}

// A wrong PIN is counted and refused; the share is not taken (KEY-2).
func TestKEY2_PresentShareRefusesAWrongPIN(t *testing.T) {
	ctx := t.Context()
	dir := filepath.Join(t.TempDir(), "inst")
	inst, err := node.Init(ctx, dir, demoConfig(), node.InitOptions{CreateOptions: node.CreateOptions{PINs: node.DemoPIN}})
	if err != nil {
		t.Fatal(err)
	}
	cfg, _ := config.Load(inst.ConfigPath)
	n, err := node.Open(ctx, cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	cust := n.Custodian(nil)
	kid := sceau.CAKeyLabel("issuing")
	prog, err := cust.Begin(ctx, sceau.System("test"), kid)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(inst.Layout.ShareFile("issuing", "alice"))
	if _, err := quorum.PresentShare(ctx, cust.Session(kid, prog.ID), kid, quorum.HolderShare{Holder: "alice", File: b}, []byte("wrong-pin")); err == nil {
		t.Fatal("a wrong PIN was accepted")
	}
	sp, err := n.Registry.Lookup(ctx, kid)
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range sp.Holders {
		if h.Holder == "alice" && h.Failures != 1 {
			t.Fatalf("alice's failures: %d, want 1", h.Failures)
		}
	}
}

// A failed Init leaves the directory as it found it: here the fourth
// holder cannot give a PIN, after three share files were written.
func TestInitFailureLeavesNothingBehind(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "inst")
	pins := func(caID, holder string) ([]byte, error) {
		if holder == "dave" {
			return nil, errors.New("dave left the room")
		}
		return node.DemoPIN(caID, holder)
	}
	_, err := node.Init(context.Background(), dir, demoConfig(), node.InitOptions{CreateOptions: node.CreateOptions{PINs: pins}})
	if err == nil {
		t.Fatal("Init succeeded without dave's PIN")
	}
	entries, rerr := os.ReadDir(dir)
	if rerr != nil || len(entries) != 0 {
		t.Fatalf("after a failed Init, %s holds %d entries (%v)", dir, len(entries), rerr)
	}
	// The same directory takes a new Init.
	if _, err := node.Init(context.Background(), dir, demoConfig(), node.InitOptions{CreateOptions: node.CreateOptions{PINs: node.DemoPIN}}); err != nil {
		t.Fatalf("Init after a failed one: %v", err)
	}
}

// Init never overwrites an installation.
func TestInitRefusesADirectoryInUse(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "something"), []byte("x"), 0o600)
	_, err := node.Init(context.Background(), dir, demoConfig(), node.InitOptions{CreateOptions: node.CreateOptions{PINs: node.DemoPIN}})
	if sceau.KindOf(err) != sceau.Conflict {
		t.Fatalf("Init in a directory in use: %v, want Conflict", err)
	}
}
