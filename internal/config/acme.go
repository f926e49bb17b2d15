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
	if a.AuthorizationReuse.Duration < 0 || a.AuthorizationReuse.Duration > 398*24*time.Hour {
		bad("enroll.acme.authorization_reuse: %s is outside 0 to 398d", a.AuthorizationReuse.Duration)
	}
}
