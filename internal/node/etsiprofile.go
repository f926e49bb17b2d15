package node

import (
	"fmt"

	"github.com/sceau/sceau/internal/config"
	"github.com/sceau/sceau/internal/etsi"
)

// etsiProfile turns a profile's etsi section into the rules package's
// expectation; the section's own consistency is checked by ca.CheckSpecs.
func etsiProfile(c *config.ETSIProfile) (*etsi.Profile, error) {
	if c == nil {
		return nil, nil
	}
	p := &etsi.Profile{Qualified: c.Qualified, QSCD: c.QSCD, RetentionYears: c.RetentionYears,
		SerialNumberSemantics: c.SerialNumberSemantics}
	switch c.Kind {
	case "natural_person":
		p.Kind = etsi.NaturalPerson
	case "legal_person":
		p.Kind = etsi.LegalPerson
	case "website":
		p.Kind = etsi.Website
	default:
		return nil, fmt.Errorf("etsi.kind %q is none of natural_person, legal_person, website", c.Kind)
	}
	switch c.Usage {
	case "":
	case "signature":
		p.Usage = etsi.Signature
	case "authentication":
		p.Usage = etsi.Authentication
	default:
		return nil, fmt.Errorf("etsi.usage %q is neither signature nor authentication", c.Usage)
	}
	oid, err := parseOID(c.Policy)
	if err != nil {
		return nil, fmt.Errorf("etsi.policy: %w", err)
	}
	p.Policy = oid
	for _, l := range c.PDS {
		p.PDS = append(p.PDS, etsi.PDSLocation{URL: l.URL, Language: l.Language})
	}
	return p, nil
}
