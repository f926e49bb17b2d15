package etsi

import (
	"crypto/x509"
	"errors"
	"fmt"
	"strings"

	"github.com/sceau/sceau/internal/sceau"
)

// msgOf is the message of a sceau.Error without its "etsi" prefix, for a
// finding that already says where it comes from.
func msgOf(err error) string {
	var e *sceau.Error
	if errors.As(err, &e) && e.Msg != "" {
		return e.Msg
	}
	return err.Error()
}

// EN 319 412-2 §4.2.4 (NAT-4.2.4-1).
func naturalNameRequired(v *view, _ Profile) []string {
	var out []string
	if len(v.attrs(OIDCountryName)) == 0 {
		out = append(out, "subject: countryName is missing")
	}
	if len(v.attrs(OIDCommonName)) == 0 {
		out = append(out, "subject: commonName is missing")
	}
	if len(v.attrs(OIDGivenName))+len(v.attrs(OIDSurname))+len(v.attrs(OIDPseudonym)) == 0 {
		out = append(out, "subject: neither givenName nor surname nor pseudonym is present")
	}
	return out
}

// EN 319 412-2 §4.2.4 (NAT-4.2.4-3).
func singleCountryAndCN(v *view, _ Profile) []string {
	var out []string
	if n := len(v.attrs(OIDCountryName)); n > 1 {
		out = append(out, fmt.Sprintf("subject: countryName appears %d times", n))
	}
	if n := len(v.attrs(OIDCommonName)); n > 1 {
		out = append(out, fmt.Sprintf("subject: commonName appears %d times", n))
	}
	return out
}

// EN 319 412-2 §4.2.4 (NAT-4.2.4-4): a pseudonym replaces the real name.
func pseudonymAlone(v *view, _ Profile) []string {
	if len(v.attrs(OIDPseudonym)) > 0 && len(v.attrs(OIDGivenName)) > 0 && len(v.attrs(OIDSurname)) > 0 {
		return []string{"subject: pseudonym is present together with givenName and surname"}
	}
	return nil
}

// EN 319 412-1 §5.1.3: when the natural person semantics identifier is
// claimed (by the profile or by the certificate's own statement), the
// serialNumber must follow its structure.
func naturalSerialNumber(v *view, p Profile) []string {
	claimed := p.SerialNumberSemantics || (v.qcsErr == nil && hasOID(v.qcs.Semantics, OIDSemanticsNatural))
	sn := v.attrs(OIDSerialNumber)
	switch {
	case !claimed:
		return nil
	case len(sn) == 0:
		return []string{"subject: serialNumber is missing, but the natural person semantics identifier is claimed"}
	case len(sn) > 1:
		return []string{fmt.Sprintf("subject: serialNumber appears %d times", len(sn))}
	}
	if _, err := ParseNaturalIdentifier(sn[0]); err != nil {
		return []string{"subject: " + msgOf(err)}
	}
	return nil
}

// EN 319 412-3 §4.2.1 (LEG-4.2.1-2).
func legalNameRequired(v *view, _ Profile) []string {
	var out []string
	for _, a := range []struct {
		name string
		oid  []int
	}{{"countryName", OIDCountryName}, {"organizationName", OIDOrganizationName}, {"organizationIdentifier", OIDOrganizationIdentifier}, {"commonName", OIDCommonName}} {
		if len(v.attrs(a.oid)) == 0 {
			out = append(out, "subject: "+a.name+" is missing")
		}
	}
	return out
}

// EN 319 412-3 §4.2.1 (LEG-4.2.1-3).
func legalNameSingle(v *view, _ Profile) []string {
	var out []string
	for _, a := range []struct {
		name string
		oid  []int
	}{{"countryName", OIDCountryName}, {"organizationName", OIDOrganizationName}, {"organizationIdentifier", OIDOrganizationIdentifier}, {"commonName", OIDCommonName}} {
		if n := len(v.attrs(a.oid)); n > 1 {
			out = append(out, fmt.Sprintf("subject: %s appears %d times", a.name, n))
		}
	}
	return out
}

// EN 319 412-3 §4.2.1 (LEG-4.2.1-6).
func orgIDNotName(v *view, _ Profile) []string {
	ids, names := v.attrs(OIDOrganizationIdentifier), v.attrs(OIDOrganizationName)
	if len(ids) > 0 && len(names) > 0 && strings.EqualFold(ids[0], names[0]) {
		return []string{fmt.Sprintf("subject: organizationIdentifier %q repeats the organizationName", ids[0])}
	}
	return nil
}

// EN 319 412-1 §5.1.4: Sceau always declares the legal person semantics, so
// the organizationIdentifier must follow them, check digits included.
func legalOrgID(v *view, _ Profile) []string {
	var out []string
	for _, id := range v.attrs(OIDOrganizationIdentifier) {
		parsed, err := ParseLegalIdentifier(id)
		if err != nil {
			out = append(out, "subject: "+sceau.Message(err))
			continue
		}
		if parsed.Local && !(v.qcsErr == nil && v.qcs.NameRegistrationAuthorities) {
			out = append(out, fmt.Sprintf("subject: organizationIdentifier %q uses a local scheme without nameRegistrationAuthorities in the semantics statement", id))
		}
	}
	return out
}

// kuType returns the EN 319 412-2 §4.3.2 table 1 type of a key usage, 0 if
// none. Types D, E, F allow keyEncipherment or keyAgreement, not both.
func kuType(ku x509.KeyUsage) byte {
	const (
		ds = x509.KeyUsageDigitalSignature
		nr = x509.KeyUsageContentCommitment
		ke = x509.KeyUsageKeyEncipherment
		ka = x509.KeyUsageKeyAgreement
	)
	switch ku {
	case nr:
		return 'A'
	case nr | ds:
		return 'B'
	case ds:
		return 'C'
	case ds | ke, ds | ka:
		return 'D'
	case ke, ka:
		return 'E'
	case nr | ds | ke, nr | ds | ka:
		return 'F'
	}
	return 0
}

func keyUsageTable1(v *view, _ Profile) []string {
	if !v.hasExt(oidKeyUsage) {
		return []string{"keyUsage: the extension is missing"}
	}
	if kuType(v.c.KeyUsage) == 0 {
		return []string{fmt.Sprintf("keyUsage: %s is none of table 1 types A to F", kuNames(v.c.KeyUsage))}
	}
	return nil
}

func keyUsagePurpose(v *view, p Profile) []string {
	t := kuType(v.c.KeyUsage)
	if t == 0 {
		return nil // keyUsageTable1 reports it
	}
	commits := t == 'A' || t == 'B' || t == 'F'
	switch {
	case p.Usage == Signature && !commits:
		return []string{fmt.Sprintf("keyUsage: a signature certificate needs nonRepudiation (contentCommitment); %s is type %c", kuNames(v.c.KeyUsage), t)}
	case p.Usage == Authentication && commits:
		return []string{fmt.Sprintf("keyUsage: an authentication certificate must not assert nonRepudiation (contentCommitment); %s is type %c", kuNames(v.c.KeyUsage), t)}
	}
	return nil
}

func keyUsageNotMixed(v *view, _ Profile) []string {
	if t := kuType(v.c.KeyUsage); t == 'B' || t == 'D' || t == 'F' {
		return []string{fmt.Sprintf("keyUsage: %s is type %c, which mixes usages", kuNames(v.c.KeyUsage), t)}
	}
	return nil
}

func kuNames(ku x509.KeyUsage) string {
	var n []string
	for _, b := range []struct {
		bit  x509.KeyUsage
		name string
	}{
		{x509.KeyUsageDigitalSignature, "digitalSignature"}, {x509.KeyUsageContentCommitment, "nonRepudiation"},
		{x509.KeyUsageKeyEncipherment, "keyEncipherment"}, {x509.KeyUsageDataEncipherment, "dataEncipherment"},
		{x509.KeyUsageKeyAgreement, "keyAgreement"}, {x509.KeyUsageCertSign, "keyCertSign"},
		{x509.KeyUsageCRLSign, "cRLSign"}, {x509.KeyUsageEncipherOnly, "encipherOnly"}, {x509.KeyUsageDecipherOnly, "decipherOnly"},
	} {
		if ku&b.bit != 0 {
			n = append(n, b.name)
		}
	}
	if len(n) == 0 {
		return "{}"
	}
	return "{" + strings.Join(n, ", ") + "}"
}
