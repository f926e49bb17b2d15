package adminapi_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"path/filepath"
	"testing"

	"github.com/sceau/sceau/internal/adminapi"
	"github.com/sceau/sceau/internal/config"
	"github.com/sceau/sceau/internal/demo"
	"github.com/sceau/sceau/internal/node"
	"github.com/sceau/sceau/internal/sceau"
	"github.com/sceau/sceau/internal/server"
)

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// serving starts a real demo installation (init, then serve) and returns
// its configuration and a client of its admin API.
func serving(t *testing.T) (*config.Config, *adminapi.Client) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	dir := filepath.Join(t.TempDir(), "inst")
	pub, adm := freeAddr(t), freeAddr(t)
	text := node.RenderConfig(node.ConfigValues{Demo: true, Org: "Client Test", PublicListen: pub, AdminListen: adm, BaseURL: "http://" + pub})
	inst, err := node.Init(ctx, dir, text, node.InitOptions{CreateOptions: node.CreateOptions{PINs: node.DemoPIN}, People: node.People{Demo: true}})
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(inst.ConfigPath)
	if err != nil {
		t.Fatal(err)
	}
	ready, done := make(chan struct{}), make(chan error, 1)
	go func() {
		done <- node.Serve(ctx, cfg, slog.New(slog.NewTextHandler(io.Discard, nil)), func(*node.Node) { close(ready) })
	}()
	select {
	case <-ready:
	case err := <-done:
		t.Fatal(err)
	}
	t.Cleanup(func() { cancel(); <-done })
	c, err := adminapi.New(cfg, adminapi.Credentials{})
	if err != nil {
		t.Fatal(err)
	}
	return cfg, c
}

// The kind of a refusal crosses the wire: the client's error has the kind
// the server gave it, for sceau.KindOf and errors.Is alike (SYS-2: the
// admin API is mutual TLS; what it refuses, it says why).
func TestSYS2_ClientErrorsCarryTheServersKind(t *testing.T) {
	cfg, c := serving(t)
	ctx := context.Background()

	_, err := c.Issue(ctx, server.IssueRequest{CA: "issuing", Profile: "server", CSR: "not a CSR"})
	if sceau.KindOf(err) != sceau.Invalid || !errors.Is(err, sceau.ErrInvalid) {
		t.Fatalf("a malformed CSR: %v (kind %v), want invalid", err, sceau.KindOf(err))
	}
	if _, err := c.CA(ctx, "no-such-ca"); sceau.KindOf(err) != sceau.NotFound {
		t.Fatalf("an unknown CA: %v (kind %v), want not found", err, sceau.KindOf(err))
	}
	// The terminal alone, nobody logged in, may not create accounts.
	if _, err := c.CreateAccount(ctx, server.NewAccount{Name: "mallory", FullName: "Mallory"}); !errors.Is(err, sceau.ErrDenied) {
		t.Fatalf("an account created without a Security Officer: %v", err)
	}

	// A service that does not answer is Unavailable, naming where it looked.
	gone := *cfg
	gone.Admin.Listen = freeAddr(t)
	down, err := adminapi.New(&gone, adminapi.Credentials{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := down.CAs(ctx); sceau.KindOf(err) != sceau.Unavailable {
		t.Fatalf("a service that is down: %v (kind %v), want unavailable", err, sceau.KindOf(err))
	}
}

// KEY-2 through the client: the demo holders activate the CA keys with
// quorum.PresentShare over the API presenter, and the CA then issues.
func TestKEY2_ActivationThroughTheAPIPresenter(t *testing.T) {
	cfg, c := serving(t)
	ctx := context.Background()
	activated, err := demo.Activate(ctx, cfg, c)
	if err != nil {
		t.Fatal(err)
	}
	if len(activated) == 0 {
		t.Fatal("the demo configuration has no CA under an activation policy")
	}
	for _, a := range activated {
		st, err := c.ActivationStatus(ctx, a.CA)
		if err != nil || !st.Activated {
			t.Fatalf("CA %s after %d shares: %+v, %v", a.CA, len(a.Holders), st, err)
		}
	}
	s, err := demo.MakeSamples(ctx, c, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	info, err := c.Certificate(ctx, s.Serial)
	if err != nil || info.Status != "issued" {
		t.Fatalf("the sample certificate %s: %+v, %v", s.Serial, info, err)
	}
}
