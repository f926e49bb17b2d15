package config_test

import (
	"strings"
	"testing"
	"time"

	"github.com/sceau/sceau/internal/config"
)

// TestCA4_ACMESectionIsChecked: enroll.acme's resolver, CAA issuer domain
// names and authorization reuse are checked; by default no directory goes
// without EAB and nothing is reused.
func TestCA4_ACMESectionIsChecked(t *testing.T) {
	c, err := config.Parse([]byte(minimal))
	if err != nil {
		t.Fatal(err)
	}
	if a := c.Enroll.ACME; len(a.EABOptional) != 0 || a.AuthorizationReuse.Duration != 0 || len(a.CAAIssuerDomains) != 0 ||
		a.HTTP01Port != 80 || a.TLSALPN01Port != 443 || a.OrdersPerAccountPerHour != 300 || a.CertificatesPerIdentifierPerWeek != 50 ||
		a.FailedValidationsPerAccountPerHour != 30 {
		t.Fatalf("defaults: %+v", a)
	}
	c, err = config.Parse([]byte(minimal + `enroll: {listen: "127.0.0.1:8444", acme: {resolver: "127.0.0.1:53", caa_issuer_domains: [pki.example.fr], authorization_reuse: 30d}}` + "\n"))
	if err != nil || c.Enroll.ACME.AuthorizationReuse.Duration != 30*24*time.Hour {
		t.Fatalf("%v %+v", err, c.Enroll.ACME)
	}
	for yaml, says := range map[string]string{
		`enroll: {acme: {resolver: "nowhere"}}`:                 "is not host:port",
		`enroll: {acme: {caa_issuer_domains: ["PKI.example"]}}`: "is not a lower-case domain name",
		`enroll: {acme: {authorization_reuse: 400d}}`:           "outside 0 to 398d",
		`enroll: {acme: {unknown: 1}}`:                          "unknown",
		`enroll: {acme: {orders_per_account_per_hour: -2}}`:     "neither a count nor -1",
		`enroll: {acme: {renewal_explanation_url: "ftp://x"}}`:  "is not an http(s) URL",
	} {
		_, err := config.Parse([]byte(minimal + yaml + "\n"))
		if err == nil || !strings.Contains(err.Error(), says) {
			t.Errorf("%s: %v, want %q", yaml, err, says)
		}
	}
}
