package registration

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/sceau/sceau/internal/ca"
	"github.com/sceau/sceau/internal/etsi"
	"github.com/sceau/sceau/internal/sceau"
)

// Requirements is what a certificate profile asks of a dossier (CA-4 item
// 5): the kinds of dossier it serves, the subject fields it needs, the
// evidence it accepts and the verification methods.
type Requirements struct {
	Profile string   `json:"profile"`
	Kinds   []Kind   `json:"kinds"`
	Fields  []string `json:"fields"`
	// Evidence: for each need, the document types that satisfy it; every
	// need must be met by one piece of evidence.
	Evidence [][]string `json:"evidence"`
	Methods  []Method   `json:"methods"`
	Mandate  bool       `json:"mandate"`
	// Semantics: the serialNumber is an EN 319 412-1 §5.1.3 identifier.
	Semantics bool `json:"serial_number_semantics"`
}

// RequirementsOf derives the requirements of profile p for a dossier of
// kind k. The eIDAS kind of the profile decides (EN 319 412-2, -3, -4):
//   - natural person: given name, surname, common name, country, and the
//     EN 319 412-1 §5.1.3 serialNumber when the profile uses its
//     semantics; a passport, an identity card or a residence permit;
//   - legal person: organization, organizationIdentifier, common name,
//     country; a registry extract, the representative's identity
//     document and mandate;
//   - website: the DNS names and the subject the profile requires; a
//     domain control record, and a registry extract when it names an
//     organization.
//
// A qualified profile (EN 319 411-2 §6.2.2) refuses identification
// through an existing certificate alone. A profile without an ETSI
// section falls back on its own rules (S/MIME persons, TLS servers).
func RequirementsOf(k Kind, p *ca.Profile) Requirements {
	r := Requirements{Profile: p.Name, Methods: Methods}
	kind := etsi.Kind(0)
	if p.ETSI != nil {
		kind = p.ETSI.Kind
		if p.ETSI.Qualified {
			r.Methods = []Method{FaceToFace, RemoteVideo, QualifiedSignature}
		}
	}
	switch {
	case kind == etsi.NaturalPerson || (kind == 0 && p.AllowEmail && !p.AllowDNS):
		r.Kinds = []Kind{Natural, NaturalOfLegal}
		r.Fields = []string{"given_name", "surname", "common_name"}
		if kind == etsi.NaturalPerson {
			r.Fields = append(r.Fields, "country")
			if p.ETSI.SerialNumberSemantics {
				r.Fields, r.Semantics = append(r.Fields, "serial_number"), true
			}
		}
		if p.AllowEmail && kind == 0 {
			r.Fields = append(r.Fields, "emails")
		}
		r.Evidence = [][]string{personDocs}
		if k == NaturalOfLegal {
			r.Fields = append(r.Fields, "organization", "organization_identifier")
			r.Evidence = append(r.Evidence, []string{DocRegistryExtract}, []string{DocMandate})
			r.Mandate = true
		}
	case kind == etsi.LegalPerson:
		r.Kinds = []Kind{Legal}
		r.Fields = []string{"organization", "organization_identifier", "common_name", "country"}
		r.Evidence = [][]string{{DocRegistryExtract}, personDocs, {DocMandate}}
		r.Mandate = true
	default: // websites and devices
		r.Kinds = []Kind{Device}
		r.Fields = []string{"dns_names"}
		r.Evidence = [][]string{{DocDomainControl}}
		if kind == etsi.Website {
			r.Evidence = append(r.Evidence, []string{DocRegistryExtract})
		}
	}
	for _, f := range p.Subject.Require {
		if !slices.Contains(r.Fields, f) {
			r.Fields = append(r.Fields, f)
		}
	}
	return r
}

// check refuses a dossier that its profile cannot issue from, naming
// every missing field or evidence at once (CA-4: each bad input gets a
// precise error). evidence says whether the evidence is checked too (at
// submission and validation, not while the draft is entered).
func (r Requirements) check(d *Dossier, now time.Time, evidence bool) error {
	const op = "registration: dossier"
	var problems []string
	if !slices.Contains(r.Kinds, d.Kind) {
		problems = append(problems, fmt.Sprintf("profile %q issues to %s dossiers, not %s", r.Profile, kindList(r.Kinds), d.Kind))
	}
	for _, f := range r.Fields {
		if strings.TrimSpace(d.Subject.field(f)) == "" {
			problems = append(problems, fmt.Sprintf("profile %q needs the field %s", r.Profile, f))
		}
	}
	if r.Semantics && d.Subject.SerialNumber != "" {
		if _, err := etsi.ParseNaturalIdentifier(d.Subject.SerialNumber); err != nil {
			problems = append(problems, sceau.Message(err))
		}
	}
	if r.Mandate && (d.Mandate == nil || d.Mandate.Representative == "" || d.Mandate.Capacity == "") {
		problems = append(problems, fmt.Sprintf("profile %q needs the representative's mandate (representative and capacity)", r.Profile))
	}
	if evidence {
		for _, need := range r.Evidence {
			met := false
			for _, e := range d.Evidence {
				if slices.Contains(need, e.DocType) && slices.Contains(r.Methods, e.Method) && !expired(e.Expires, now) {
					met = true
				}
			}
			if !met {
				problems = append(problems, fmt.Sprintf("profile %q needs evidence: %s, verified %s, not expired", r.Profile,
					strings.Join(need, " or "), methodList(r.Methods)))
			}
		}
	}
	if len(problems) > 0 {
		return sceau.Errorf(sceau.Invalid, op, "dossier %d: %s", d.ID, strings.Join(problems, "; "))
	}
	return nil
}

func expired(date string, now time.Time) bool {
	if date == "" {
		return false
	}
	t, err := time.Parse(time.DateOnly, date)
	return err != nil || !t.AddDate(0, 0, 1).After(now)
}

func kindList(ks []Kind) string {
	s := make([]string, len(ks))
	for i, k := range ks {
		s[i] = string(k)
	}
	return strings.Join(s, " or ")
}

func methodList(ms []Method) string {
	s := make([]string, len(ms))
	for i, m := range ms {
		s[i] = string(m)
	}
	return strings.Join(s, ", ")
}

// checkSubject refuses subject data that is malformed whatever the
// profile: the organizationIdentifier's scheme and check digit (EN 319
// 412-1 §5.1.4, through internal/etsi), a natural person's semantics
// identifier (§5.1.3), the country code.
func checkSubject(s Subject, k Kind) error {
	const op = "registration: subject"
	if s.OrganizationIdentifier != "" {
		if _, err := etsi.ParseLegalIdentifier(s.OrganizationIdentifier); err != nil {
			return sceau.E(sceau.Invalid, op, sceau.Message(err), err)
		}
	}
	if s.Country != "" && (len(s.Country) != 2 || strings.ToUpper(s.Country) != s.Country) {
		return sceau.Errorf(sceau.Invalid, op, "country %q is not an ISO 3166-1 alpha-2 code", s.Country)
	}
	if k == Device && (s.GivenName != "" || s.Surname != "") {
		return sceau.Errorf(sceau.Invalid, op, "a device dossier names no person (given_name, surname)")
	}
	if k == Legal && s.OrganizationIdentifier == "" {
		return sceau.Errorf(sceau.Invalid, op, "a legal person's dossier needs its organization_identifier (EN 319 412-1 §5.1.4)")
	}
	if _, err := s.ips(); err != nil {
		return err
	}
	return nil
}
