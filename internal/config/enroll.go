package config

import (
	"net"
	"net/url"
	"strings"
)

// Enroll is the enrollment listener: where holders and their machines
// write to the CA without an administration credential — the holder's
// revocation form, the one-time PKCS#12 download, and the enrollment
// protocols (ACME, EST). It is a listener of its own so that the public
// listener stays read-only (SYS-2) and the admin listener keeps requiring
// an operator's client certificate; every route on it authenticates by
// what the protocol hands out (a revocation secret, a one-time link, an
// account bound to a validated dossier). docs/adr/0003-enrollment-listener.md.
type Enroll struct {
	// Listen is host:port; empty (the default) serves no enrollment
	// listener at all.
	Listen string `yaml:"listen"`
	// BaseURL is how holders reach the listener; download links and ACME
	// URLs are built from it. Default: https://<listen>.
	BaseURL string `yaml:"base_url"`
	// CertFile and KeyFile are the listener's TLS certificate chain and key
	// (PEM). Leave both empty to have Sceau issue one from the admin CA for
	// the listen host and Names, kept in the admin directory (enroll.pem):
	// clients then trust admin/admin-ca.pem. A certificate from a CA that
	// browsers trust is what a production site uses.
	CertFile string `yaml:"cert_file"`
	KeyFile  string `yaml:"key_file"`
	// Names are extra DNS names or IP addresses for the certificate Sceau
	// issues itself (the listen host is always in it).
	Names []string `yaml:"names"`
	// ACME is the ACME server's settings (acme.go, docs/acme.md).
	ACME ACME `yaml:"acme"`
}

// Enabled says whether an enrollment listener is configured.
func (e *Enroll) Enabled() bool { return e.Listen != "" }

func (c *Config) enrollDefaults() {
	e := &c.Enroll
	if e.Listen != "" && e.BaseURL == "" {
		e.BaseURL = "https://" + e.Listen
	}
	e.BaseURL = strings.TrimRight(e.BaseURL, "/")
}

func (c *Config) validateEnroll(bad func(string, ...any)) {
	e := &c.Enroll
	if e.Listen == "" {
		return
	}
	if _, _, err := net.SplitHostPort(e.Listen); err != nil {
		bad("enroll.listen: %q is not host:port", e.Listen)
	}
	if e.Listen == c.Public.Listen || e.Listen == c.Admin.Listen {
		bad("enroll.listen: must differ from public.listen and admin.listen (SYS-2)")
	}
	if u, err := url.Parse(e.BaseURL); err != nil || u.Scheme != "https" || u.Host == "" {
		bad("enroll.base_url: %q is not an https URL", e.BaseURL)
	}
	if (e.CertFile == "") != (e.KeyFile == "") {
		bad("enroll.cert_file and enroll.key_file: give both or neither")
	}
}
