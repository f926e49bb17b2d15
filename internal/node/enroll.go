package node

import (
	"context"
	"log/slog"
	"net"
	"net/http"
	"net/url"

	"github.com/sceau/sceau/internal/access"
	"github.com/sceau/sceau/internal/server"
)

// enrollListeners is the enrollment listener when enroll.listen is set, or
// none: the holders' revocation form, the one-time PKCS#12 downloads and
// the enrollment protocols mounted by enrollMounts. It is apart from the
// public listener, which stays read-only (SYS-2).
func (n *Node) enrollListeners(log *slog.Logger) ([]server.Listener, error) {
	e := n.Config.Enroll
	if !e.Enabled() {
		return nil, nil
	}
	tlsCfg, err := access.EnrollTLS(n.Layout.AdminDir(), n.Keys, enrollHosts(e.Listen, e.BaseURL, e.Names),
		n.pathOrEmpty(e.CertFile), n.pathOrEmpty(e.KeyFile), nil)
	if err != nil {
		return nil, err
	}
	h := &server.Enroll{Registration: n.Registration, Log: log, Mounts: n.enrollMounts(),
		Health: func() error { return n.DB.Health(context.Background()) }}
	return []server.Listener{{Name: "enroll", Addr: e.Listen, Handler: h.Handler(), TLS: tlsCfg}}, nil
}

// enrollMounts are the protocol handlers on the enrollment listener, by
// path prefix.
func (n *Node) enrollMounts() map[string]http.Handler {
	m := map[string]http.Handler{}
	if n.ACME != nil {
		m["/acme/"] = n.ACME // RFC 8555, accounts bound to validated dossiers (CA-4, docs/acme.md)
	}
	return m
}

// enrollHosts are the names the listener's own certificate carries: the
// listen host (localhost for a wildcard address), the base URL's host and
// the configured names.
func enrollHosts(listen, baseURL string, names []string) []string {
	host, _, _ := net.SplitHostPort(listen)
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "localhost"
	}
	hosts := []string{host}
	if u, err := url.Parse(baseURL); err == nil && u.Hostname() != "" && u.Hostname() != host {
		hosts = append(hosts, u.Hostname())
	}
	return append(hosts, names...)
}

func (n *Node) pathOrEmpty(p string) string {
	if p == "" {
		return ""
	}
	return n.Config.Path(p)
}
