package config

import (
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"
)

// Timestamping configures the RFC 3161 time-stamping unit (ARC-5;
// docs/timestamping.md): every archived item and tree head gets a token,
// from the installation's own unit (signer_ca) or from an external TSA
// (external_url). The unit also answers time-stamp requests on the public
// listener.
type Timestamping struct {
	// SignerCA is the CA that certifies the unit's key (generated in the
	// service keystore, ECDSA P-256, certified when the CA is first
	// activated and again in the last third of the certificate's life).
	// Default: none, no unit (and, without external_url, no timestamp).
	SignerCA string `yaml:"signer_ca,omitempty"`
	// Profile is the signer CA's profile for the unit's certificate; it
	// must have timeStamping as its only extended key usage (RFC 3161
	// §2.3). Default: timestamping.
	Profile string `yaml:"profile"`
	// Policy is the TSA policy OID written in every token (TSTInfo.policy),
	// e.g. the ETSI best-practices policy 0.4.0.2023.1.1 or the provider's
	// own. Required with signer_ca; with external_url, sent as reqPolicy
	// and required in the tokens when set. Default: none.
	Policy string `yaml:"policy,omitempty"`
	// Accuracy is the accuracy written in every token: genTime is within
	// it of UTC. 1ms..1m, and at least clock.max_drift for the unit (the
	// clock guard refuses beyond it, SYS-4). Below 1s genTime carries the
	// fraction it needs. Default: 1s.
	Accuracy Duration `yaml:"accuracy"`
	// ExternalURL is an external TSA's HTTP(S) URL (RFC 3161 §3.4), used
	// instead of the unit; exclusive with signer_ca. Default: none.
	ExternalURL string `yaml:"external_url,omitempty"`
	// ExternalCAFile is a PEM file of the root certificates the external
	// TSA's certificate must chain to, and intermediates if its tokens do
	// not carry them; every token is verified against it. Required with
	// external_url. Default: none.
	ExternalCAFile string `yaml:"external_ca_file,omitempty"`
	// ListenPath is where the unit answers POSTed time-stamp requests on
	// the public listener (application/timestamp-query). Default: /tsa.
	ListenPath string `yaml:"listen_path"`
}

// DefaultTimestamping is the timestamping section's defaults: no unit.
func DefaultTimestamping() Timestamping {
	return Timestamping{Profile: "timestamping", Accuracy: Duration{time.Second}, ListenPath: "/tsa"}
}

var listenPath = regexp.MustCompile(`^(/[a-z0-9][a-z0-9._-]*)+$`)

func (a *Timestamping) validate(c *Config, bad func(string, ...any)) {
	if d := a.Accuracy.Duration; d < time.Millisecond || d > time.Minute {
		bad("timestamping.accuracy: %s is not within 1ms..1m", a.Accuracy)
	} else if a.SignerCA != "" && d < c.Clock.MaxDrift.Duration {
		bad("timestamping.accuracy: %s is below clock.max_drift (%s): a token must not claim more than the clock guard ensures (SYS-4)",
			a.Accuracy, c.Clock.MaxDrift)
	}
	if !listenPath.MatchString(a.ListenPath) || strings.HasPrefix(a.ListenPath+"/", "/ocsp/") {
		bad("timestamping.listen_path: %q is not a path such as /tsa (lower case, no trailing slash, not under /ocsp)", a.ListenPath)
	}
	if a.Policy != "" && !oidPattern.MatchString(a.Policy) {
		bad("timestamping.policy: %q is not an OID", a.Policy)
	}
	if a.ExternalURL != "" {
		if a.SignerCA != "" {
			bad("timestamping: signer_ca and external_url exclude each other (the installation's unit, or an external TSA)")
		}
		if u, err := url.Parse(a.ExternalURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			bad("timestamping.external_url: %q is not an http or https URL", a.ExternalURL)
		}
		if a.ExternalCAFile == "" {
			bad("timestamping.external_ca_file: required with external_url (the roots the TSA's tokens are verified against)")
		}
	} else if a.ExternalCAFile != "" {
		bad("timestamping.external_ca_file: only with external_url")
	}
	if a.SignerCA == "" {
		return
	}
	if a.Policy == "" {
		bad("timestamping.policy: required with signer_ca (the TSA policy OID of every token)")
	}
	i := slices.IndexFunc(c.CAs, func(ca CA) bool { return ca.ID == a.SignerCA })
	if i < 0 {
		bad("timestamping.signer_ca: no CA %q is declared", a.SignerCA)
		return
	}
	j := slices.IndexFunc(c.CAs[i].Profiles, func(p Profile) bool { return p.Name == a.Profile })
	if j < 0 {
		bad("timestamping.profile: CA %s has no profile %q", a.SignerCA, a.Profile)
		return
	}
	if eku := c.CAs[i].Profiles[j].ExtKeyUsage; len(eku) != 1 || eku[0] != "timeStamping" {
		bad("timestamping.profile: profile %q of CA %s has ext_key_usage %v; RFC 3161 §2.3 asks [timeStamping] alone", a.Profile, a.SignerCA, eku)
	}
	if keys := c.CAs[i].Profiles[j].KeyTypes; !slices.Contains(keys, "ecdsa-p256") {
		bad("timestamping.profile: profile %q of CA %s does not allow ecdsa-p256, the unit's key type", a.Profile, a.SignerCA)
	}
}
