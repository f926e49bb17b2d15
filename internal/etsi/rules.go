package etsi

import (
	"crypto/x509"
	"encoding/asn1"
	"fmt"
)

// Level is how serious a Finding is.
type Level int

// The levels: an Error stops issuance; a Warning is a "should" of the
// standard that Sceau's documentation must explain.
const (
	Error Level = iota + 1
	Warning
)

func (l Level) String() string {
	if l == Warning {
		return "warning"
	}
	return "error"
}

// Finding is one rule a certificate breaks.
type Finding struct {
	Clause  string // e.g. "EN 319 412-2 §4.2.4"
	Level   Level
	Message string // names the field
}

func (f Finding) String() string { return fmt.Sprintf("%s: %s: %s", f.Level, f.Clause, f.Message) }

// RuleInfo describes one rule for documentation and `sceau profile lint`.
type RuleInfo struct {
	Clause string
	Level  Level
	Checks string
}

// A rule is one clause's check. applies selects the profiles it is for;
// check returns one message per problem, each naming the field.
type rule struct {
	clause  string
	level   Level
	checks  string
	applies func(Profile) bool
	check   func(*view, Profile) []string
}

// view is the certificate with its qcStatements decoded once.
type view struct {
	c        *x509.Certificate
	qcs      QCStatements
	hasQCS   bool
	qcsErr   error
	critical map[string]bool // extension OID → critical
}

var (
	oidKeyUsage    = asn1.ObjectIdentifier{2, 5, 29, 15}
	oidCertPolicy  = asn1.ObjectIdentifier{2, 5, 29, 32}
	oidCRLDP       = asn1.ObjectIdentifier{2, 5, 29, 31}
	oidAIA         = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 1, 1}
	oidSubjectAlt  = asn1.ObjectIdentifier{2, 5, 29, 17}
	oidExtKeyUsage = asn1.ObjectIdentifier{2, 5, 29, 37}
)

func newView(c *x509.Certificate) *view {
	v := &view{c: c, critical: map[string]bool{}}
	for _, e := range c.Extensions {
		v.critical[e.Id.String()] = e.Critical
		if e.Id.Equal(OIDQCStatements) && !v.hasQCS {
			v.hasQCS = true
			v.qcs, v.qcsErr = ParseQCStatements(e.Value)
		}
	}
	return v
}

func (v *view) hasExt(oid asn1.ObjectIdentifier) bool {
	_, ok := v.critical[oid.String()]
	return ok
}

// attrs returns the string values of a subject attribute, in order.
func (v *view) attrs(oid asn1.ObjectIdentifier) []string {
	var out []string
	for _, a := range v.c.Subject.Names {
		if a.Type.Equal(oid) {
			s, _ := a.Value.(string)
			out = append(out, s)
		}
	}
	return out
}

// Check holds cert against the profile and returns what it breaks, errors
// and warnings, in the order of the rules table. It never fails: a
// malformed extension is a finding.
func Check(cert *x509.Certificate, p Profile) []Finding {
	v := newView(cert)
	var out []Finding
	for _, r := range rules {
		if !r.applies(p) {
			continue
		}
		for _, msg := range r.check(v, p) {
			out = append(out, Finding{Clause: r.clause, Level: r.level, Message: msg})
		}
	}
	return out
}

// Rules lists every rule Check applies, in order.
func Rules() []RuleInfo {
	out := make([]RuleInfo, len(rules))
	for i, r := range rules {
		out[i] = RuleInfo{Clause: r.clause, Level: r.level, Checks: r.checks}
	}
	return out
}

// HasErrors reports whether any finding is an Error.
func HasErrors(fs []Finding) bool {
	for _, f := range fs {
		if f.Level == Error {
			return true
		}
	}
	return false
}

func isNatural(p Profile) bool { return p.Kind == NaturalPerson }
func isLegal(p Profile) bool   { return p.Kind == LegalPerson }
func isPerson(p Profile) bool  { return p.Kind == NaturalPerson || p.Kind == LegalPerson }
func isWebsite(p Profile) bool { return p.Kind == Website }
func always(Profile) bool      { return true }

// rules is the table: one small rule per clause, each citing it. The order
// is the order of the findings.
var rules = []rule{
	// EN 319 412-2: natural persons.
	{"EN 319 412-2 §4.2.4", Error, "subject has countryName, commonName, and givenName and/or surname, or pseudonym (NAT-4.2.4-1)", isNatural, naturalNameRequired},
	{"EN 319 412-2 §4.2.4", Error, "subject has at most one countryName and one commonName (NAT-4.2.4-3)", isNatural, singleCountryAndCN},
	{"EN 319 412-2 §4.2.4", Error, "no pseudonym beside givenName and surname (NAT-4.2.4-4)", isNatural, pseudonymAlone},
	{ClauseNaturalSemantics, Error, "serialNumber, when the profile or the semantics statement says so, is a valid natural person semantics identifier", isNatural, naturalSerialNumber},
	{"EN 319 412-2 §4.3.2", Error, "keyUsage present and one of table 1 types A to F", isNatural, keyUsageTable1},
	{"EN 319 412-2 §4.3.2", Error, "signature certificates assert nonRepudiation (types A, B, F); authentication certificates do not (C, D, E)", isNatural, keyUsagePurpose},
	{"EN 319 412-2 §4.3.2", Warning, "types A, C or E should be used to avoid mixed usage of keys", isNatural, keyUsageNotMixed},

	// EN 319 412-3: legal persons.
	{"EN 319 412-3 §4.2.1", Error, "subject has countryName, organizationName, organizationIdentifier and commonName (LEG-4.2.1-2)", isLegal, legalNameRequired},
	{"EN 319 412-3 §4.2.1", Error, "only one instance of each of them (LEG-4.2.1-3)", isLegal, legalNameSingle},
	{"EN 319 412-3 §4.2.1", Error, "organizationIdentifier differs from organizationName (LEG-4.2.1-6)", isLegal, orgIDNotName},
	{ClauseLegalSemantics, Error, "organizationIdentifier is a valid legal person semantics identifier (scheme, country, check digits)", isLegal, legalOrgID},
	{"EN 319 412-3 §4.3.1", Error, "keyUsage present and one of EN 319 412-2 table 1 types A to F", isLegal, keyUsageTable1},
	{"EN 319 412-3 §4.3.1", Error, "seal certificates assert nonRepudiation (types A, B, F); authentication certificates do not", isLegal, keyUsagePurpose},
	{"EN 319 412-3 §4.3.1", Warning, "types A, C or E should be used to avoid mixed usage of keys", isLegal, keyUsageNotMixed},

	// EN 319 412-2 general requirements, which EN 319 412-3 and -4 take over.
	{"EN 319 412-2 §4.3.3", Error, "certificatePolicies present, not critical, and holds the profile's ETSI policy OID", always, policyPresent},
	{"EN 319 412-2 §4.3.11", Error, "cRLDistributionPoints present unless AIA has an OCSP responder; one of its URLs is http or ldap", always, crlDistributionPoints},
	{"EN 319 412-2 §4.4.1", Error, "authorityInfoAccess present with an http(s) caIssuers; OCSP locations, if any, http(s)", always, authorityInfoAccess},

	// EN 319 412-4: websites, which defer to the CA/B Forum TLS BR.
	{"EN 319 412-4 §4.1", Error, "subjectAltName present with at least one dNSName", isWebsite, websiteSAN},
	{"EN 319 412-4 §4.1", Error, "extKeyUsage has serverAuth", isWebsite, websiteEKU},
	{"EN 319 412-4 §4.1", Error, "certificatePolicies holds a CA/B Forum reserved policy OID (TLS BR §7.1.6.1)", isWebsite, websiteCABFPolicy},

	// EN 319 412-5: QCStatements.
	{"EN 319 412-5 §4.1", Error, "qcStatements, when present, is well formed, not critical, and has no statement twice", always, qcsWellFormed},
	{"EN 319 412-5 §4.2.1", Error, "QcCompliance present exactly when the profile is qualified", always, qcCompliance},
	{"EN 319 412-5 §4.2.2", Error, "QcSSCD present exactly when the key is on a QSCD", always, qcSSCD},
	{"EN 319 412-5 §4.2.3", Error, "qualified: QcType present with exactly one type, the kind's (esign, eseal, web)", always, qcType},
	{"EN 319 412-5 §5", Error, "EU qualified certificates carry no QcCClegislation", always, qcNoLegislation},
	{"EN 319 412-5 §4.3.4", Error, "qualified: QcPDS present with the profile's locations, https URLs, 2-letter lower-case languages, one in English", always, qcPDS},
	{"EN 319 412-5 §4.3.3", Error, "QcRetentionPeriod, when present, is positive and the profile's", always, qcRetention},
	{"EN 319 412-1 §5.1", Error, "the semantics identifier statement of the kind is present (legal; natural with serialNumber semantics) and no other", isPerson, semanticsStatement},
}
