package etsi

import (
	"encoding/asn1"
	"errors"
	"fmt"
	"net/url"
	"slices"

	"github.com/sceau/sceau/internal/sceau"
)

// Kind is the kind of subject an ETSI certificate profile is for.
type Kind int

// The kinds of certificate, each with the part of EN 319 412 that profiles it.
const (
	_             Kind = iota
	NaturalPerson      // EN 319 412-2
	LegalPerson        // EN 319 412-3 (electronic seals)
	Website            // EN 319 412-4
)

func (k Kind) String() string {
	switch k {
	case NaturalPerson:
		return "natural person"
	case LegalPerson:
		return "legal person"
	case Website:
		return "website"
	}
	return fmt.Sprintf("kind(%d)", int(k))
}

// Usage says what a natural or legal person's key is for, which decides
// its key usage under EN 319 412-2 §4.3.2 table 1.
type Usage int

// The usages. A signature (or seal) certificate validates commitment to
// signed content and so carries nonRepudiation (contentCommitment); an
// authentication certificate must not.
const (
	_              Usage = iota
	Signature            // table 1 types A, B or F
	Authentication       // table 1 types C, D or E
)

func (u Usage) String() string {
	switch u {
	case Signature:
		return "signature"
	case Authentication:
		return "authentication"
	}
	return fmt.Sprintf("usage(%d)", int(u))
}

// QcType is the EN 319 412-5 §4.2.3 type of a qualified certificate.
type QcType int

// The QcTypes; the zero value means "the one of the profile's kind".
const (
	_           QcType = iota
	QcTypeESign        // id-etsi-qct-esign, natural persons
	QcTypeESeal        // id-etsi-qct-eseal, legal persons
	QcTypeWeb          // id-etsi-qct-web, websites
)

// OID returns the QcType's object identifier, nil for the zero value.
func (t QcType) OID() asn1.ObjectIdentifier {
	switch t {
	case QcTypeESign:
		return OIDQcTypeESign
	case QcTypeESeal:
		return OIDQcTypeESeal
	case QcTypeWeb:
		return OIDQcTypeWeb
	}
	return nil
}

func (t QcType) String() string {
	switch t {
	case QcTypeESign:
		return "esign"
	case QcTypeESeal:
		return "eseal"
	case QcTypeWeb:
		return "web"
	}
	return fmt.Sprintf("qctype(%d)", int(t))
}

// PDSLocation is one PKI disclosure statement of EN 319 412-5 §4.3.4.
type PDSLocation struct {
	URL      string // https, IA5String
	Language string // ISO 639-1, two lower-case letters
}

// Profile says what an ETSI certificate of one Sceau profile must be. It is
// checked for consistency by Validate when the configuration loads, drives
// QCStatementsExtension at issuance, and is the expectation Check holds a
// certificate against.
type Profile struct {
	Kind  Kind
	Usage Usage // natural and legal persons only
	// Qualified makes the certificate an EU qualified certificate: an
	// EN 319 411-2 policy and the EN 319 412-5 statements.
	Qualified bool
	// QSCD: the private key is on a qualified signature or seal creation
	// device (QcSSCD, EN 319 412-5 §4.2.2; policy QCP-n-qscd or QCP-l-qscd).
	QSCD bool
	// QcType defaults to the kind's: esign, eseal or web.
	QcType QcType
	// PDS lists the PKI disclosure statements (QcPDS, EN 319 412-5
	// §4.3.4); required when Qualified, one of them in English.
	PDS []PDSLocation
	// RetentionYears, when positive, is the QcRetentionPeriod (EN 319
	// 412-5 §4.3.3): years after expiry the registration data is kept.
	RetentionYears int
	// Policy is the ETSI policy OID (EN 319 411-1 or -2) every certificate
	// of the profile carries.
	Policy asn1.ObjectIdentifier
	// SerialNumberSemantics (natural persons): the subject serialNumber is
	// an EN 319 412-1 §5.1.3 identifier such as "IDCFR-…", and the
	// certificate says so with id-etsi-qcs-semanticsId-Natural. A legal
	// person's organizationIdentifier always follows §5.1.4 and always
	// carries id-etsi-qcs-SemanticsId-Legal.
	SerialNumberSemantics bool
}

// EffectiveQcType is p.QcType, or the kind's type when it is unset.
func (p Profile) EffectiveQcType() QcType {
	if p.QcType != 0 {
		return p.QcType
	}
	switch p.Kind {
	case NaturalPerson:
		return QcTypeESign
	case LegalPerson:
		return QcTypeESeal
	case Website:
		return QcTypeWeb
	}
	return 0
}

// semantics is the semantics identifier the profile's certificates carry,
// nil if none.
func (p Profile) semantics() asn1.ObjectIdentifier {
	switch {
	case p.Kind == LegalPerson:
		return OIDSemanticsLegal
	case p.Kind == NaturalPerson && p.SerialNumberSemantics:
		return OIDSemanticsNatural
	}
	return nil
}

// policiesFor lists the ETSI policies a kind may use, qualified first.
func policiesFor(k Kind) (qualified, other []asn1.ObjectIdentifier) {
	switch k {
	case NaturalPerson:
		return []asn1.ObjectIdentifier{OIDQCPNatural, OIDQCPNaturalQSCD}, []asn1.ObjectIdentifier{OIDNCP, OIDNCPPlus, OIDLCP}
	case LegalPerson:
		return []asn1.ObjectIdentifier{OIDQCPLegal, OIDQCPLegalQSCD}, []asn1.ObjectIdentifier{OIDNCP, OIDNCPPlus, OIDLCP}
	case Website:
		return []asn1.ObjectIdentifier{OIDQCPWeb, OIDQNCPWeb, OIDQNCPWebGen}, []asn1.ObjectIdentifier{OIDEVCP, OIDOVCP, OIDDVCP, OIDIVCP}
	}
	return nil, nil
}

func hasOID(list []asn1.ObjectIdentifier, oid asn1.ObjectIdentifier) bool {
	return slices.ContainsFunc(list, oid.Equal)
}

// Validate reports every inconsistency of the profile at once, so that the
// configuration refuses a profile whose certificates could never pass
// Check. Each problem is a sceau.Invalid error naming the field and the
// clause.
func (p Profile) Validate() error {
	var errs []error
	bad := func(clause, format string, args ...any) {
		errs = append(errs, sceau.Errorf(sceau.Invalid, "etsi", "profile: %s (%s)", fmt.Sprintf(format, args...), clause))
	}
	if p.Kind < NaturalPerson || p.Kind > Website {
		bad("EN 319 412-2..-4", "kind must be natural person, legal person or website")
		return errors.Join(errs...)
	}
	if p.Kind != Website && p.Usage != Signature && p.Usage != Authentication {
		bad("EN 319 412-2 §4.3.2", "a %s profile must say whether it is for signature (nonRepudiation) or authentication", p.Kind)
	}
	qualified, other := policiesFor(p.Kind)
	switch {
	case len(p.Policy) == 0:
		bad("EN 319 412-2 §4.3.3", "policy: an ETSI policy OID is required")
	case p.Qualified && !hasOID(qualified, p.Policy):
		bad("EN 319 411-2 §5.3", "policy %s is not a qualified policy for a %s (want one of %s)", p.Policy, p.Kind, oidList(qualified))
	case !p.Qualified && !hasOID(other, p.Policy):
		if hasOID(qualified, p.Policy) {
			bad("EN 319 411-2 §5.3", "policy %s (%s) is qualified but the profile is not", p.Policy, policyName(p.Policy))
		} else {
			bad("EN 319 411-1 §5.3", "policy %s is not an ETSI policy for a %s (want one of %s)", p.Policy, p.Kind, oidList(other))
		}
	}
	qscdPolicy := p.Policy.Equal(OIDQCPNaturalQSCD) || p.Policy.Equal(OIDQCPLegalQSCD)
	switch {
	case p.QSCD && p.Kind == Website:
		bad("EN 319 412-5 §4.2.2", "a website key is not on a QSCD; QcSSCD is for signatures and seals")
	case p.QSCD && !p.Qualified:
		bad("EN 319 412-5 §4.2.2", "QSCD is a property of qualified certificates only")
	case p.QSCD && !qscdPolicy:
		bad("EN 319 411-2 §5.3", "the key is on a QSCD but policy %s is not QCP-n-qscd or QCP-l-qscd", p.Policy)
	case !p.QSCD && qscdPolicy:
		bad("EN 319 411-2 §5.3", "policy %s (%s) requires the key on a QSCD", p.Policy, policyName(p.Policy))
	}
	if p.QcType != 0 {
		switch {
		case p.QcType < QcTypeESign || p.QcType > QcTypeWeb:
			bad("EN 319 412-5 §4.2.3", "qctype must be esign, eseal or web")
		case !p.Qualified:
			bad("EN 319 412-5 §4.2.3", "qctype is only for qualified certificates")
		case p.QcType != p.withQcType(0).EffectiveQcType():
			bad("EN 319 412-5 §4.2.3", "qctype %s does not fit a %s (want %s)", p.QcType, p.Kind, p.withQcType(0).EffectiveQcType())
		}
	}
	if p.Qualified && len(p.PDS) == 0 {
		bad("EN 319 412-5 §4.3.4", "a qualified profile needs PDS URLs, one of them in English")
	}
	for _, msg := range pdsProblems(p.PDS) {
		bad("EN 319 412-5 §4.3.4", "pds: %s", msg)
	}
	if p.RetentionYears < 0 {
		bad("EN 319 412-5 §4.3.3", "retention period %d years is negative", p.RetentionYears)
	}
	if p.SerialNumberSemantics && p.Kind != NaturalPerson {
		bad(ClauseNaturalSemantics, "serialNumber semantics are for natural persons")
	}
	return errors.Join(errs...)
}

func (p Profile) withQcType(t QcType) Profile { p.QcType = t; return p }

// pdsProblems checks a list of PDS locations against EN 319 412-5 §4.3.4:
// https URLs, ISO 639-1 languages, one in English, one per language.
func pdsProblems(pds []PDSLocation) []string {
	var out []string
	seen := map[string]bool{}
	english := false
	for _, l := range pds {
		u, err := url.Parse(l.URL)
		switch {
		case err != nil || u.Scheme != "https" || u.Host == "":
			out = append(out, fmt.Sprintf("%q is not an https URL", l.URL))
		case !isASCII(l.URL):
			out = append(out, fmt.Sprintf("%q is not an IA5String", l.URL))
		}
		if len(l.Language) != 2 || !isLower(l.Language) {
			out = append(out, fmt.Sprintf("language %q of %q is not two lower-case ISO 639-1 letters", l.Language, l.URL))
		}
		if seen[l.Language] {
			out = append(out, fmt.Sprintf("language %q appears more than once", l.Language))
		}
		seen[l.Language] = true
		english = english || l.Language == "en"
	}
	if len(pds) > 0 && !english {
		out = append(out, `no PDS in English ("en")`)
	}
	return out
}

func isLower(s string) bool {
	for _, r := range s {
		if r < 'a' || r > 'z' {
			return false
		}
	}
	return true
}

func isASCII(s string) bool {
	for _, r := range s {
		if r > 0x7e || r < 0x20 {
			return false
		}
	}
	return true
}

func oidList(list []asn1.ObjectIdentifier) string {
	s := ""
	for i, o := range list {
		if i > 0 {
			s += ", "
		}
		s += o.String() + " (" + policyName(o) + ")"
	}
	return s
}
