package etsi

import (
	"crypto/x509"
	"encoding/asn1"
	"fmt"
	"strings"
)

func (v *view) hasPolicy(oid asn1.ObjectIdentifier) bool {
	for _, o := range v.c.Policies {
		if o.EqualASN1OID(oid) {
			return true
		}
	}
	return false
}

// EN 319 412-2 §4.3.3: the policy tells relying parties which EN 319 411
// requirements the certificate was issued under; critical would break
// relying parties that do not process it (GEN-4.3.3-1).
func policyPresent(v *view, p Profile) []string {
	var out []string
	if !v.hasExt(oidCertPolicy) {
		return []string{"certificatePolicies: the extension is missing"}
	}
	if v.critical[oidCertPolicy.String()] {
		out = append(out, "certificatePolicies: the extension is critical")
	}
	if len(p.Policy) > 0 && !v.hasPolicy(p.Policy) {
		name := policyName(p.Policy)
		if name != "" {
			name = " (" + name + ")"
		}
		out = append(out, fmt.Sprintf("certificatePolicies: the profile's policy %s%s is missing", p.Policy, name))
	}
	return out
}

func hasScheme(urls []string, schemes ...string) bool {
	for _, u := range urls {
		for _, s := range schemes {
			if strings.HasPrefix(strings.ToLower(u), s+"://") {
				return true
			}
		}
	}
	return false
}

// EN 319 412-2 §4.3.11 (GEN-4.3.11-2, -4): without an OCSP responder a
// relying party can only learn the status from a CRL.
func crlDistributionPoints(v *view, _ Profile) []string {
	if !v.hasExt(oidCRLDP) {
		if !hasScheme(v.c.OCSPServer, "http", "https") {
			return []string{"cRLDistributionPoints: missing, and authorityInfoAccess names no OCSP responder"}
		}
		return nil
	}
	if !hasScheme(v.c.CRLDistributionPoints, "http", "ldap") {
		return []string{fmt.Sprintf("cRLDistributionPoints: no http or ldap URL in %q", v.c.CRLDistributionPoints)}
	}
	return nil
}

// EN 319 412-2 §4.4.1 (GEN-4.4.1-2, -3, -4, -6). GEN-4.4.1-8 (an OCSP
// responder when there is no CRL distribution point) is the mirror of
// GEN-4.3.11-2 and is reported once, by crlDistributionPoints.
func authorityInfoAccess(v *view, _ Profile) []string {
	if !v.hasExt(oidAIA) {
		return []string{"authorityInfoAccess: the extension is missing"}
	}
	var out []string
	if !hasScheme(v.c.IssuingCertificateURL, "http", "https") {
		out = append(out, "authorityInfoAccess: no http(s) caIssuers location")
	}
	if len(v.c.OCSPServer) > 0 && !hasScheme(v.c.OCSPServer, "http", "https") {
		out = append(out, fmt.Sprintf("authorityInfoAccess: OCSP locations %q, none http(s)", v.c.OCSPServer))
	}
	return out
}

// EN 319 412-4 §4.1: a website certificate follows the CA/B Forum BR
// profile (BR §7.1.2.7.12, subjectAltName). The sub-clause differs with
// the certificate type (WEB-4.1.3-4, WEB-4.1.4-2 in the versions public
// linters cite); only §4.1 could be confirmed for all of them.
func websiteSAN(v *view, _ Profile) []string {
	if !v.hasExt(oidSubjectAlt) {
		return []string{"subjectAltName: the extension is missing"}
	}
	if len(v.c.DNSNames) == 0 {
		return []string{"subjectAltName: no dNSName"}
	}
	return nil
}

// EN 319 412-4 §4.1, BR §7.1.2.7.10: a website certificate is for TLS
// servers.
func websiteEKU(v *view, _ Profile) []string {
	if !v.hasExt(oidExtKeyUsage) {
		return []string{"extKeyUsage: the extension is missing"}
	}
	for _, u := range v.c.ExtKeyUsage {
		if u == x509.ExtKeyUsageServerAuth {
			return nil
		}
	}
	return []string{"extKeyUsage: serverAuth is missing"}
}

// EN 319 412-4 §4.1, BR §7.1.6.1: the CA/B Forum reserved OID sits beside
// the ETSI one so browsers see the validation level.
func websiteCABFPolicy(v *view, _ Profile) []string {
	for _, o := range []asn1.ObjectIdentifier{OIDCABFDomainValidated, OIDCABFOrganizationValid, OIDCABFIndividualValid, OIDCABFExtendedValidation} {
		if v.hasPolicy(o) {
			return nil
		}
	}
	return []string{"certificatePolicies: no CA/B Forum reserved policy OID (2.23.140.1.1 or 2.23.140.1.2.x)"}
}
