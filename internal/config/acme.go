package config

import (
	"net"
	"strings"
	"time"
)

// ACME tunes the ACME server served on the enrollment listener under
// /acme/<profile>/directory (docs/acme.md). Every directory requires an
// external account binding made by a Registration Officer for a validated
// dossier (CA-4) unless listed in EABOptional.
type ACME struct {
	// Resolver is the host:port of the DNS resolver the server checks
	// dns-01, CAA and the addresses of http-01 and tls-alpn-01 with.
	// Default: the system's.
	Resolver string `yaml:"resolver"`
	// CAAIssuerDomains are the issuer domain names that CAA records name
	// to authorize this CA (RFC 8659), e.g. [pki.example.fr]. Default:
	// none, and CAA is not checked.
	CAAIssuerDomains []string `yaml:"caa_issuer_domains"`
	// AuthorizationReuse lets an account's new order reuse a challenge it
	// passed for the same name within that time. Default: 0 (every order
	// validated anew); at most 398d.
	AuthorizationReuse Duration `yaml:"authorization_reuse"`
	// EABOptional lists directories (profile names) that accept accounts
	// without an EAB, for a closed network. Default: none.
	EABOptional []string `yaml:"eab_optional"`
	// HTTP01Port and TLSALPN01Port are the ports the server connects to
	// for http-01 and tls-alpn-01. Default: 80 and 443, as RFC 8555 and
	// RFC 8737 say; change them only for tests or a known port forwarding.
	HTTP01Port    int `yaml:"http01_port"`
	TLSALPN01Port int `yaml:"tlsalpn01_port"`
}

func (c *Config) acmeDefaults() {
	a := &c.Enroll.ACME
	if a.HTTP01Port == 0 {
		a.HTTP01Port = 80
	}
	if a.TLSALPN01Port == 0 {
		a.TLSALPN01Port = 443
	}
}

func (c *Config) validateACME(bad func(string, ...any)) {
	a := &c.Enroll.ACME
	if a.Resolver != "" {
		if _, _, err := net.SplitHostPort(a.Resolver); err != nil {
			bad("enroll.acme.resolver: %q is not host:port", a.Resolver)
		}
	}
	for _, d := range a.CAAIssuerDomains {
		if d == "" || d != strings.ToLower(d) || strings.ContainsAny(d, " ;=") || !strings.Contains(d, ".") {
			bad("enroll.acme.caa_issuer_domains: %q is not a lower-case domain name", d)
		}
	}
	for name, p := range map[string]int{"http01_port": a.HTTP01Port, "tlsalpn01_port": a.TLSALPN01Port} {
		if p < 1 || p > 65535 {
			bad("enroll.acme.%s: %d is not a port", name, p)
		}
	}
	if a.AuthorizationReuse.Duration < 0 || a.AuthorizationReuse.Duration > 398*24*time.Hour {
		bad("enroll.acme.authorization_reuse: %s is outside 0 to 398d", a.AuthorizationReuse.Duration)
	}
}
