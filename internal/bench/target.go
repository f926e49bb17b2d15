package bench

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"net"
	"sync/atomic"
	"time"

	"github.com/sceau/sceau/internal/access"
	"github.com/sceau/sceau/internal/adminapi"
	"github.com/sceau/sceau/internal/config"
	"github.com/sceau/sceau/internal/sceau"
)

// Node is one node of a running installation: the host:port of its admin
// listener ("" for a node that has none, such as 'serve --public-only')
// and of its public listener.
type Node struct {
	Admin, Public string
}

// Remote is a running installation to drive instead of a throwaway one.
// Config is its configuration: the admin listener's trust anchors and the
// operator's client certificate, as the CLI uses them, and the default
// node. Nodes, if set, are the nodes the clients are spread over.
//
// Against a running installation 'issue' issues real certificates (server
// profile, CA issuing) and 'ocsp' asks about certificates it already has:
// use a test installation.
type Remote struct {
	Config *config.Config
	Nodes  []Node
	// Token is the session of the person logged in at this terminal: the
	// nodes' /metrics are read with it, and only a System Operator or
	// Administrator, a Security Officer or an Auditor may read them.
	Token string
}

// target is what a measurement drives: the nodes, the configuration for
// the admin client certificate, and whether it is a running installation.
type target struct {
	cfg    *config.Config
	nodes  []Node
	remote bool
	token  string
	next   atomic.Uint64
}

func newTarget(o Options, inst *installation) (*target, error) {
	if inst != nil {
		return &target{cfg: inst.cfg, nodes: []Node{{Admin: inst.cfg.Admin.Listen, Public: inst.cfg.Public.Listen}}}, nil
	}
	r := o.Remote
	nodes := r.Nodes
	if len(nodes) == 0 {
		nodes = []Node{{Admin: adminapi.DialAddress(r.Config.Admin.Listen), Public: adminapi.DialAddress(r.Config.Public.Listen)}}
	}
	return &target{cfg: r.Config, nodes: nodes, remote: true, token: r.Token}, nil
}

// withTarget runs measure on the running installation of o.Remote, or on a
// new throwaway installation removed afterwards.
func withTarget(ctx context.Context, o Options, measure func(*target) (*Result, error)) (*Result, error) {
	var inst *installation
	if o.Remote == nil {
		var err error
		if inst, err = start(ctx, o.Progress); err != nil {
			return nil, err
		}
		defer inst.Close()
	}
	t, err := newTarget(o, inst)
	if err != nil {
		return nil, err
	}
	return measure(t)
}

// addrs lists the nodes' admin (admin true) or public listeners.
func (t *target) addrs(admin bool) ([]string, error) {
	var out []string
	for _, n := range t.nodes {
		a := n.Public
		if admin {
			a = n.Admin
		}
		if a != "" {
			out = append(out, a)
		}
	}
	if len(out) == 0 {
		kind := "public"
		if admin {
			kind = "admin"
		}
		return nil, sceau.Errorf(sceau.Invalid, "bench", "no node has an %s listener", kind)
	}
	return out, nil
}

// dialer connects each new client to the next node, in turn.
func (t *target) dialer(admin bool) (func() (net.Conn, error), string, error) {
	addrs, err := t.addrs(admin)
	if err != nil {
		return nil, "", err
	}
	pick := func() string { return addrs[int(t.next.Add(1)-1)%len(addrs)] }
	if !admin {
		return func() (net.Conn, error) { return net.DialTimeout("tcp", pick(), 10*time.Second) }, addrs[0], nil
	}
	tlsCfg, err := t.adminTLS()
	if err != nil {
		return nil, "", err
	}
	tlsCfg.NextProtos = []string{"http/1.1"}
	return func() (net.Conn, error) {
		return tls.DialWithDialer(&net.Dialer{Timeout: 10 * time.Second}, "tcp", pick(), tlsCfg)
	}, addrs[0], nil
}

// adminTLS is the operator's client configuration, as the CLI's.
func (t *target) adminTLS() (*tls.Config, error) {
	return access.ClientTLS(t.cfg.Path(t.cfg.Admin.Dir), access.OperatorCert, access.OperatorKeyFile)
}

// endpoint names what is driven, for the report.
func (t *target) endpoint(method, scheme, path string, admin bool) string {
	addrs, _ := t.addrs(admin)
	s := fmt.Sprintf("%s %s://%s%s", method, scheme, addrs[0], path)
	if len(addrs) > 1 {
		s += fmt.Sprintf(" and %d more nodes", len(addrs)-1)
	}
	if t.remote {
		s += " (running installation)"
	}
	return s
}

// api is an admin API client of the first node with an admin listener.
func (t *target) api() (*adminapi.Client, error) {
	addrs, err := t.addrs(true)
	if err != nil {
		return nil, err
	}
	cfg := *t.cfg
	cfg.Admin.Listen = addrs[0]
	return adminapi.New(&cfg, adminapi.Credentials{})
}

// caCertificate is a CA's certificate, from the admin API.
func (t *target) caCertificate(ctx context.Context, id string) (*x509.Certificate, error) {
	c, err := t.api()
	if err != nil {
		return nil, err
	}
	info, err := c.CA(ctx, id)
	if err != nil {
		return nil, err
	}
	blk, _ := pem.Decode([]byte(info.PEM))
	if blk == nil {
		return nil, sceau.Errorf(sceau.Internal, "bench", "the admin API gave no PEM for CA %s", id)
	}
	return x509.ParseCertificate(blk.Bytes)
}
