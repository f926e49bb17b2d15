package node

import (
	"context"
	"crypto/tls"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"slices"

	"github.com/sceau/sceau/internal/access"
	"github.com/sceau/sceau/internal/acme"
	"github.com/sceau/sceau/internal/ca"
	"github.com/sceau/sceau/internal/config"
	"github.com/sceau/sceau/internal/est"
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
	// EST's simplereenroll is authenticated by the certificate it renews
	// (RFC 7030 §3.3.2): the listener asks for a client certificate and
	// does not require one, nor check it at the handshake; the EST server
	// checks it against the certificates it issued. The other pages work
	// without one.
	tlsCfg.ClientAuth = tls.RequestClientCert
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
	if n.EST != nil {
		m[est.Prefix] = n.EST // RFC 7030, credentials bound to validated dossiers (CA-4, docs/est.md)
	}
	return m
}

// acmeOptions are the ACME server's options from enroll.acme: a
// directory per profile issuing DNS names, each requiring an EAB unless
// listed in eab_optional (CA-4).
func acmeOptions(cfg *config.Config, log *slog.Logger, specs []ca.Spec, observe func(kind, outcome string)) acme.Options {
	a := cfg.Enroll.ACME
	dirs := acme.DirectoriesFor(specs)
	for i := range dirs {
		dirs[i].EABOptional = slices.Contains(a.EABOptional, dirs[i].Name)
	}
	for _, name := range a.EABOptional {
		if !slices.ContainsFunc(dirs, func(d acme.Directory) bool { return d.Name == name }) {
			log.Warn("enroll.acme.eab_optional names no ACME directory", "directory", name)
		}
	}
	return acme.Options{Logger: log, BaseURL: cfg.Enroll.BaseURL, Directories: dirs, Resolver: a.Resolver,
		CAAIssuerDomains: a.CAAIssuerDomains, AuthorizationReuse: a.AuthorizationReuse.Duration, Observe: observe,
		HTTPPort: a.HTTP01Port, TLSALPNPort: a.TLSALPN01Port, OrdersPerAccountPerHour: a.OrdersPerAccountPerHour,
		CertificatesPerIdentifierPerWeek: a.CertificatesPerIdentifierPerWeek, FailedValidationsPerAccountPerHour: a.FailedValidationsPerAccountPerHour,
		RenewalExplanationURL: a.RenewalExplanationURL}
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
