package config

import (
	"regexp"
	"strings"
	"time"
)

// Publication describes the public repository (PUB-1..PUB-3): who the trust
// service provider is, which key signs the manifest, and the limits of
// the freshness monitor. See docs/publication.md.
type Publication struct {
	// Name is the provider's name, on every page and in the manifest.
	// Default: Sceau.
	Name string `yaml:"name"`
	// AboutFR and AboutEN present the provider on the home page, in French
	// and in English (plain text). Default: none.
	AboutFR string `yaml:"about_fr,omitempty"`
	AboutEN string `yaml:"about_en,omitempty"`
	// Contact is where relying parties write: an address or a URL.
	// Default: none.
	Contact string `yaml:"contact,omitempty"`
	// SignerCA and SignerProfile name the CA and the profile that certify
	// the publication key, which signs each manifest (PUB-2). The profile
	// must carry the documentSigning extended key usage. Default: none,
	// the manifest is not signed and the site reports itself stale.
	SignerCA      string `yaml:"signer_ca,omitempty"`
	SignerProfile string `yaml:"signer_profile,omitempty"`
	// MaxDocumentBytes bounds a published file. Default: 20 MiB.
	MaxDocumentBytes int64 `yaml:"max_document_bytes"`
	// CRLMargin: a CRL this close to its nextUpdate without a newer one
	// makes the site stale (at most a tenth of the CRL's validity): the
	// monitor alerts and /healthz answers 503 (PUB-3). Default: 1h.
	CRLMargin Duration `yaml:"crl_margin"`
	// Refresh is how often every node rereads what is published, so a
	// change made on one is served by all (PUB-3). Default: 500ms.
	Refresh Duration `yaml:"refresh"`
}

// DefaultPublication is the publication section's defaults.
func DefaultPublication() Publication {
	return Publication{Name: "Sceau", MaxDocumentBytes: 20 << 20, CRLMargin: Duration{time.Hour}, Refresh: Duration{500 * time.Millisecond}}
}

var plainLine = regexp.MustCompile(`^[^\x00-\x1f\x7f]*$`)

func (p *Publication) validate(c *Config, bad func(string, ...any)) {
	if strings.TrimSpace(p.Name) == "" || len(p.Name) > 120 || !plainLine.MatchString(p.Name) {
		bad("publication.name: %q is not one line of 1 to 120 characters", p.Name)
	}
	for k, v := range map[string]string{"about_fr": p.AboutFR, "about_en": p.AboutEN} {
		if len(v) > 4000 {
			bad("publication.%s: %d bytes, more than 4000", k, len(v))
		}
	}
	if p.MaxDocumentBytes < 1024 || p.MaxDocumentBytes > 256<<20 {
		bad("publication.max_document_bytes: %d is not within 1 KiB..256 MiB", p.MaxDocumentBytes)
	}
	if d := p.CRLMargin.Duration; d < time.Minute || d > 7*24*time.Hour {
		bad("publication.crl_margin: %s is not within 1m..7d", p.CRLMargin)
	}
	if d := p.Refresh.Duration; d < 100*time.Millisecond || d > time.Minute {
		bad("publication.refresh: %s is not within 100ms..1m", p.Refresh)
	}
	if (p.SignerCA == "") != (p.SignerProfile == "") {
		bad("publication: signer_ca and signer_profile go together")
	}
	if p.SignerCA == "" {
		return
	}
	for _, ca := range c.CAs {
		if ca.ID != p.SignerCA {
			continue
		}
		for _, pr := range ca.Profiles {
			if pr.Name == p.SignerProfile {
				return
			}
		}
		bad("publication.signer_profile: CA %s has no profile %q", p.SignerCA, p.SignerProfile)
		return
	}
	bad("publication.signer_ca: no CA %q is declared", p.SignerCA)
}
