package bench

import (
	"context"
	"io"
	"log/slog"
	"net"
	"os"

	"github.com/sceau/sceau/internal/config"
	"github.com/sceau/sceau/internal/node"
	"github.com/sceau/sceau/internal/sceau"
)

// installation is a throwaway installation served in this process.
type installation struct {
	dir    string
	cfg    *config.Config
	node   *node.Node
	cancel context.CancelFunc
	errc   chan error
}

// start initializes an installation in a new temporary directory on two
// free ports and serves it until Close.
func start(ctx context.Context, pw io.Writer) (*installation, error) {
	return startWith(ctx, pw, false)
}

// startWith is start; people adds the demo people (tests log in as them),
// the CA keys staying in the service keystore as start's.
func startWith(ctx context.Context, pw io.Writer, people bool) (*installation, error) {
	const op = "bench"
	dir, err := os.MkdirTemp("", "sceau-bench-")
	if err != nil {
		return nil, sceau.E(sceau.Unavailable, op, "cannot create a temporary directory", err)
	}
	fail := func(err error) (*installation, error) {
		os.RemoveAll(dir)
		return nil, err
	}
	ports, err := freePorts(2)
	if err != nil {
		return fail(sceau.E(sceau.Unavailable, op, "no free port on 127.0.0.1", err))
	}
	values := node.ConfigValues{Org: "Sceau Bench", PublicListen: ports[0], AdminListen: ports[1], BaseURL: "http://" + ports[0]}
	progress(pw, "creating a temporary installation in %s …", dir)
	opts := node.InitOptions{}
	if people {
		opts.People = node.People{Demo: true}
	}
	inst, err := node.Init(ctx, dir, node.RenderConfig(values), opts)
	if err != nil {
		return fail(err)
	}
	cfg, err := config.Load(inst.ConfigPath)
	if err != nil {
		return fail(err)
	}
	// Requests that fail are counted and the first is shown; the server's
	// own log would only compete with the measurement.
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	sctx, cancel := context.WithCancel(ctx)
	b := &installation{dir: dir, cfg: cfg, cancel: cancel, errc: make(chan error, 1)}
	ready := make(chan *node.Node, 1)
	go func() { b.errc <- node.Serve(sctx, cfg, log, func(n *node.Node) { ready <- n }) }()
	select {
	case b.node = <-ready:
		return b, nil
	case err := <-b.errc:
		cancel()
		return fail(err)
	case <-ctx.Done():
		cancel()
		<-b.errc
		return fail(sceau.E(sceau.Unavailable, op, "interrupted", ctx.Err()))
	}
}

// Close stops the server and removes the installation.
func (b *installation) Close() error {
	b.cancel()
	err := <-b.errc
	if rerr := os.RemoveAll(b.dir); err == nil && rerr != nil {
		err = rerr
	}
	return err
}

// freePorts returns n distinct host:port on 127.0.0.1 that were free a
// moment ago.
func freePorts(n int) ([]string, error) {
	var out []string
	for range n {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		defer ln.Close()
		out = append(out, ln.Addr().String())
	}
	return out, nil
}
