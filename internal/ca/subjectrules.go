package ca

import (
	"crypto/x509/pkix"
	"encoding/asn1"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/sceau/sceau/internal/etsi"
	"github.com/sceau/sceau/internal/sceau"
)

// SubjectAttributes are the subject attributes a profile's rules may
// require or forbid (sceau.yaml subject.require, subject.forbid), by the
// names the configuration uses.
var SubjectAttributes = map[string]asn1.ObjectIdentifier{
	"common_name":             {2, 5, 4, 3},
	"serial_number":           {2, 5, 4, 5},
	"country":                 {2, 5, 4, 6},
	"locality":                {2, 5, 4, 7},
	"province":                {2, 5, 4, 8},
	"organization":            {2, 5, 4, 10},
	"organizational_unit":     {2, 5, 4, 11},
	"title":                   {2, 5, 4, 12},
	"surname":                 etsi.OIDSurname,
	"given_name":              etsi.OIDGivenName,
	"pseudonym":               etsi.OIDPseudonym,
	"organization_identifier": etsi.OIDOrganizationIdentifier,
}

// SubjectRules are a profile's rules on subject attributes (CA-2): those a
// request must carry and those it must not.
type SubjectRules struct {
	Require, Forbid []string
}

// check refuses a subject that lacks a required attribute or carries a
// forbidden one, naming the attribute and the rule.
func (r SubjectRules) check(profile string, subject pkix.Name) error {
	const op = "ca: subject"
	if len(r.Require) == 0 && len(r.Forbid) == 0 {
		return nil // most profiles: nothing to walk on the issuance path
	}
	have := map[string]bool{}
	for _, rdn := range subject.ToRDNSequence() {
		for _, a := range rdn {
			for name, oid := range SubjectAttributes {
				if a.Type.Equal(oid) && fmt.Sprint(a.Value) != "" {
					have[name] = true
				}
			}
		}
	}
	for _, name := range r.Require {
		if !have[name] {
			return sceau.Errorf(sceau.Invalid, op, "profile %q requires the subject attribute %s (subject.require)", profile, name)
		}
	}
	for _, name := range r.Forbid {
		if have[name] {
			return sceau.Errorf(sceau.Invalid, op, "profile %q forbids the subject attribute %s (subject.forbid)", profile, name)
		}
	}
	return nil
}

// problems lists what makes the rules unusable: an unknown attribute, one
// both required and forbidden.
func (r SubjectRules) problems(where string) []string {
	var bad []string
	for _, name := range slices.Concat(r.Require, r.Forbid) {
		if _, ok := SubjectAttributes[name]; !ok {
			known := make([]string, 0, len(SubjectAttributes))
			for k := range SubjectAttributes {
				known = append(known, k)
			}
			sort.Strings(known)
			bad = append(bad, fmt.Sprintf("%s: unknown subject attribute %q (one of %s)", where, name, strings.Join(known, ", ")))
		}
	}
	for _, name := range r.Require {
		if slices.Contains(r.Forbid, name) {
			bad = append(bad, fmt.Sprintf("%s: subject attribute %s is both required and forbidden", where, name))
		}
	}
	return bad
}
