package etsi

import "encoding/asn1"

// Certificate policy identifiers. Each was checked against at least two
// independent public encodings (zlint's util/oid.go, the EU DSS library's
// CertificatePolicy enumeration with its ASN.1 arcs, TSP policy documents).
var (
	// EN 319 411-2 §5.3: itu-t(0) identified-organization(4) etsi(0)
	// qualified-certificate-policies(194112) policy-identifiers(1).
	OIDQCPNatural     = asn1.ObjectIdentifier{0, 4, 0, 194112, 1, 0} // QCP-n
	OIDQCPLegal       = asn1.ObjectIdentifier{0, 4, 0, 194112, 1, 1} // QCP-l
	OIDQCPNaturalQSCD = asn1.ObjectIdentifier{0, 4, 0, 194112, 1, 2} // QCP-n-qscd
	OIDQCPLegalQSCD   = asn1.ObjectIdentifier{0, 4, 0, 194112, 1, 3} // QCP-l-qscd
	OIDQCPWeb         = asn1.ObjectIdentifier{0, 4, 0, 194112, 1, 4} // QCP-w (QEVCP-w in zlint)
	OIDQNCPWeb        = asn1.ObjectIdentifier{0, 4, 0, 194112, 1, 5} // QNCP-w (zlint and pkilint agree)
	OIDQNCPWebGen     = asn1.ObjectIdentifier{0, 4, 0, 194112, 1, 6} // QNCP-w-gen

	// EN 319 411-1 §5.3: itu-t(0) identified-organization(4) etsi(0)
	// other-certificate-policies(2042) policy-identifiers(1). Arc 5 is
	// not used here (EVCP+ of the withdrawn TS 102 042); one public
	// linter numbers DVCP/OVCP/IVCP 5/6/7, but the DSS enumeration spells
	// the arcs dvcp(6) ovcp(7) ivcp(8), as TSP policies using them do.
	OIDNCP     = asn1.ObjectIdentifier{0, 4, 0, 2042, 1, 1}
	OIDNCPPlus = asn1.ObjectIdentifier{0, 4, 0, 2042, 1, 2}
	OIDLCP     = asn1.ObjectIdentifier{0, 4, 0, 2042, 1, 3}
	OIDEVCP    = asn1.ObjectIdentifier{0, 4, 0, 2042, 1, 4}
	OIDDVCP    = asn1.ObjectIdentifier{0, 4, 0, 2042, 1, 6}
	OIDOVCP    = asn1.ObjectIdentifier{0, 4, 0, 2042, 1, 7}
	OIDIVCP    = asn1.ObjectIdentifier{0, 4, 0, 2042, 1, 8}
)

// The CA/Browser Forum reserved policy identifiers (TLS BR §7.1.6.1) that
// EN 319 412-4 expects beside the ETSI one in a website certificate.
var (
	OIDCABFExtendedValidation = asn1.ObjectIdentifier{2, 23, 140, 1, 1}
	OIDCABFDomainValidated    = asn1.ObjectIdentifier{2, 23, 140, 1, 2, 1}
	OIDCABFOrganizationValid  = asn1.ObjectIdentifier{2, 23, 140, 1, 2, 2}
	OIDCABFIndividualValid    = asn1.ObjectIdentifier{2, 23, 140, 1, 2, 3}
)

// Extensions and QC statements.
var (
	// RFC 3739 §3.2.6: id-pe-qcStatements.
	OIDQCStatements = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 1, 3}
	// RFC 3739 §3.2.6.1: id-qcs-pkixQCSyntax-v2, the statement that
	// carries an EN 319 412-1 §5.1 semantics identifier.
	OIDQCSyntaxV2 = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 11, 2}

	// EN 319 412-5 Annex B: id-etsi-qcs = 0.4.0.1862.1.
	OIDQcCompliance      = asn1.ObjectIdentifier{0, 4, 0, 1862, 1, 1} // §4.2.1
	OIDQcLimitValue      = asn1.ObjectIdentifier{0, 4, 0, 1862, 1, 2} // §4.3.2
	OIDQcRetentionPeriod = asn1.ObjectIdentifier{0, 4, 0, 1862, 1, 3} // §4.3.3
	OIDQcSSCD            = asn1.ObjectIdentifier{0, 4, 0, 1862, 1, 4} // §4.2.2
	OIDQcPDS             = asn1.ObjectIdentifier{0, 4, 0, 1862, 1, 5} // §4.3.4
	OIDQcType            = asn1.ObjectIdentifier{0, 4, 0, 1862, 1, 6} // §4.2.3
	OIDQcTypeESign       = asn1.ObjectIdentifier{0, 4, 0, 1862, 1, 6, 1}
	OIDQcTypeESeal       = asn1.ObjectIdentifier{0, 4, 0, 1862, 1, 6, 2}
	OIDQcTypeWeb         = asn1.ObjectIdentifier{0, 4, 0, 1862, 1, 6, 3}
	OIDQcCCLegislation   = asn1.ObjectIdentifier{0, 4, 0, 1862, 1, 7} // §4.2.4
	OIDSemanticsNatural  = asn1.ObjectIdentifier{0, 4, 0, 194121, 1, 1}
	OIDSemanticsLegal    = asn1.ObjectIdentifier{0, 4, 0, 194121, 1, 2}
)

// Name attributes that crypto/x509 does not name (X.520).
var (
	OIDCommonName             = asn1.ObjectIdentifier{2, 5, 4, 3}
	OIDSurname                = asn1.ObjectIdentifier{2, 5, 4, 4}
	OIDSerialNumber           = asn1.ObjectIdentifier{2, 5, 4, 5}
	OIDCountryName            = asn1.ObjectIdentifier{2, 5, 4, 6}
	OIDOrganizationName       = asn1.ObjectIdentifier{2, 5, 4, 10}
	OIDGivenName              = asn1.ObjectIdentifier{2, 5, 4, 42}
	OIDPseudonym              = asn1.ObjectIdentifier{2, 5, 4, 65}
	OIDOrganizationIdentifier = asn1.ObjectIdentifier{2, 5, 4, 97}
)

// qualifiedPolicies are the EN 319 411-2 policies: a certificate under one
// of them is an EU qualified certificate.
var qualifiedPolicies = []asn1.ObjectIdentifier{OIDQCPNatural, OIDQCPLegal, OIDQCPNaturalQSCD, OIDQCPLegalQSCD, OIDQCPWeb, OIDQNCPWeb, OIDQNCPWebGen}

// IsQualifiedPolicy reports whether oid is one of the EN 319 411-2 QCP
// policies.
func IsQualifiedPolicy(oid asn1.ObjectIdentifier) bool {
	for _, q := range qualifiedPolicies {
		if q.Equal(oid) {
			return true
		}
	}
	return false
}

// policyName names the ETSI policies for messages; "" for any other.
func policyName(oid asn1.ObjectIdentifier) string {
	for _, p := range []struct {
		oid  asn1.ObjectIdentifier
		name string
	}{
		{OIDQCPNatural, "QCP-n"}, {OIDQCPLegal, "QCP-l"}, {OIDQCPNaturalQSCD, "QCP-n-qscd"},
		{OIDQCPLegalQSCD, "QCP-l-qscd"}, {OIDQCPWeb, "QCP-w"}, {OIDQNCPWeb, "QNCP-w"}, {OIDQNCPWebGen, "QNCP-w-gen"},
		{OIDNCP, "NCP"}, {OIDNCPPlus, "NCP+"}, {OIDLCP, "LCP"}, {OIDEVCP, "EVCP"},
		{OIDDVCP, "DVCP"}, {OIDOVCP, "OVCP"}, {OIDIVCP, "IVCP"},
	} {
		if p.oid.Equal(oid) {
			return p.name
		}
	}
	return ""
}
