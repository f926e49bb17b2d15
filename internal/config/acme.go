package config

import (
	"net"
	"net/url"
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
	// OrdersPerAccountPerHour caps the orders an ACME account makes in an
	// hour. Default: 300; -1 lifts the limit.
	OrdersPerAccountPerHour int `yaml:"orders_per_account_per_hour"`
	// CertificatesPerIdentifierPerWeek caps the certificates issued for
	// one DNS name in 7 days, whatever the account; a renewal replacing a
	// certificate due for renewal (RFC 9773) is not counted against it.
	// Default: 50; -1 lifts the limit.
	CertificatesPerIdentifierPerWeek int `yaml:"certificates_per_identifier_per_week"`
	// FailedValidationsPerAccountPerHour is how many challenges of an
	// account may fail in an hour before its new orders are refused.
	// Default: 30; -1 lifts the limit.
	FailedValidationsPerAccountPerHour int `yaml:"failed_validations_per_account_per_hour"`
	// RenewalExplanationURL is the page the renewal information of a
	// revoked certificate points to (RFC 9773 explanationURL), e.g. the
	// notice of the incident that made the CA revoke it. Default: none.
	RenewalExplanationURL string `yaml:"renewal_explanation_url"`
}

func (c *Config) acmeDefaults() {
	a := &c.Enroll.ACME
	if a.HTTP01Port == 0 {
		a.HTTP01Port = 80
	}
	if a.TLSALPN01Port == 0 {
		a.TLSALPN01Port = 443
	}
	if a.OrdersPerAccountPerHour == 0 {
		a.OrdersPerAccountPerHour = 300
	}
	if a.CertificatesPerIdentifierPerWeek == 0 {
		a.CertificatesPerIdentifierPerWeek = 50
	}
	if a.FailedValidationsPerAccountPerHour == 0 {
		a.FailedValidationsPerAccountPerHour = 30
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
	for name, n := range map[string]int{"orders_per_account_per_hour": a.OrdersPerAccountPerHour,
		"certificates_per_identifier_per_week":    a.CertificatesPerIdentifierPerWeek,
		"failed_validations_per_account_per_hour": a.FailedValidationsPerAccountPerHour} {
		if n < -1 {
			bad("enroll.acme.%s: %d is neither a count nor -1 (no limit)", name, n)
		}
	}
	if u := a.RenewalExplanationURL; u != "" {
		if p, err := url.Parse(u); err != nil || (p.Scheme != "https" && p.Scheme != "http") || p.Host == "" {
			bad("enroll.acme.renewal_explanation_url: %q is not an http(s) URL", u)
		}
	}
}
