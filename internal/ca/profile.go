package ca

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/sceau/sceau/internal/etsi"
	"github.com/sceau/sceau/internal/keys"
	"github.com/sceau/sceau/internal/sceau"
)

// encipherment is what only an RSA key can do of the usages a profile
// lists: RFC 5480 §3 and RFC 8813 forbid keyEncipherment and
// dataEncipherment on EC keys, RFC 8410 §5 on Ed25519 keys.
const encipherment = x509.KeyUsageKeyEncipherment | x509.KeyUsageDataEncipherment

// keyUsageFor is the key usage of a certificate for pub under profile
// usage ku (CA-2): a profile lists what its purpose needs, and each key
// type keeps of it what it can do. keyAgreement is for EC keys only.
func keyUsageFor(ku x509.KeyUsage, pub crypto.PublicKey) x509.KeyUsage {
	switch pub.(type) {
	case *rsa.PublicKey:
		return ku &^ x509.KeyUsageKeyAgreement
	case *ecdsa.PublicKey:
		return ku &^ encipherment
	case ed25519.PublicKey:
		return ku &^ (encipherment | x509.KeyUsageKeyAgreement)
	}
	return ku
}

// notAfterFor is the last second of a validity that starts at notBefore:
// RFC 5280 §4.1.2.5 counts both ends, so a certificate of validity d ends
// at notBefore + d − 1 s, and a "200d" certificate lasts 200 days, not
// 200 days and a second (the CA/B Forum limits count the same way).
func notAfterFor(notBefore time.Time, d time.Duration) time.Time {
	return notBefore.Add(d - time.Second)
}

// TLSMaxValidity is the longest subscriber TLS certificate the CA/B Forum
// TLS Baseline Requirements (§6.3.2, ballot SC-081) allow for one issued at
// t: 398 days, then 200 days from 2026-03-15, 100 days from 2027-03-15 and
// 47 days from 2029-03-15.
func TLSMaxValidity(t time.Time) (time.Duration, time.Time) {
	const day = 24 * time.Hour
	steps := []struct {
		from time.Time
		max  time.Duration
	}{
		{time.Date(2029, 3, 15, 0, 0, 0, 0, time.UTC), 47 * day},
		{time.Date(2027, 3, 15, 0, 0, 0, 0, time.UTC), 100 * day},
		{time.Date(2026, 3, 15, 0, 0, 0, 0, time.UTC), 200 * day},
	}
	for _, s := range steps {
		if !t.Before(s.from) {
			return s.max, s.from
		}
	}
	return 398 * day, time.Time{}
}

// SMIMEMaxValidity is the longest multipurpose or strict S/MIME
// certificate (CA/B Forum S/MIME BR §6.3.2).
const SMIMEMaxValidity = 825 * 24 * time.Hour

// publicTLS says whether a profile issues certificates for the public web:
// it names the CA/B Forum TLS baseline among its lint sets.
func (p *Profile) publicTLS() bool { return slices.Contains(p.Lints, "cabf_br") }

var (
	oidAnyPolicy = asn1.ObjectIdentifier{2, 5, 29, 32, 0}
	// The CA/B Forum TLS BR reserved OIDs (§7.1.6.1).
	oidTLSDomainValidated       = asn1.ObjectIdentifier{2, 23, 140, 1, 2, 1}
	oidTLSOrganizationValidated = asn1.ObjectIdentifier{2, 23, 140, 1, 2, 2}
)

// policiesFor are the policies a certificate of profile p for subject gets:
// a public TLS profile that lists both the DV and the OV OID asserts the
// one the subject matches (TLS BR §7.1.2.7.1: an organization in the
// subject is OV, none is DV), so one profile serves both.
func policiesFor(p *Profile, subject pkix.Name) []Policy {
	if !p.publicTLS() {
		return p.Policies
	}
	drop := oidTLSOrganizationValidated
	if len(subject.Organization) > 0 {
		drop = oidTLSDomainValidated
	}
	return slices.DeleteFunc(slices.Clone(p.Policies), func(pol Policy) bool { return pol.OID.Equal(drop) })
}

// CheckSpecs refuses, when the configuration loads, a hierarchy whose
// profiles could never issue a certificate that passes its own gate (CA-1,
// CA-2): each finding names the CA, the profile and the rule.
func CheckSpecs(specs []Spec, now time.Time) error {
	const op = "ca: profiles"
	var bad []string
	for _, s := range specs {
		bad = append(bad, checkCAPurposes(s)...)
		for i := range s.Profiles {
			p := &s.Profiles[i]
			where := fmt.Sprintf("CA %s, profile %s", s.ID, p.Name)
			bad = append(bad, p.Subject.problems(where)...)
			for _, l := range p.Lints {
				if _, ok := lintSourceNames[l]; !ok {
					bad = append(bad, fmt.Sprintf("%s: unknown lint set %q", where, l))
				}
			}
			// RFC 5280 §6.1.3 (d): a policy of the leaf that its CA does not
			// list is cut from the valid policy tree; with an explicit policy
			// the path fails (openssl verify -explicit_policy: error 43).
			for _, pol := range p.Policies {
				if !hasPolicy(s.Policies, pol.OID) {
					bad = append(bad, fmt.Sprintf("%s: policy %s is not among CA %s's policies (add it, or anyPolicy, to the CA: RFC 5280 §6.1.3)",
						where, pol.OID, s.ID))
				}
			}
			if p.KeyUsage&encipherment != 0 && !slices.ContainsFunc(p.KeyTypes, isRSA) && len(p.KeyTypes) > 0 {
				bad = append(bad, fmt.Sprintf("%s: keyEncipherment or dataEncipherment needs an RSA key type, and the profile allows none (RFC 5480 §3, RFC 8813)", where))
			}
			if p.publicTLS() {
				if !slices.Contains(p.ExtKeyUsage, x509.ExtKeyUsageServerAuth) {
					bad = append(bad, fmt.Sprintf("%s: a CA/B Forum TLS profile (lints cabf_br) needs the serverAuth extended key usage", where))
				}
				// Refused only above the ceiling of every date: the ceiling of
				// the day of issuance caps the rest (issue.go), so that a
				// configuration does not stop the CA on the day the ceiling
				// falls (TLSCeilingWarnings says it in the log beforehand).
				if max, since := TLSMaxValidity(time.Time{}); p.MaxValidity > max {
					bad = append(bad, fmt.Sprintf("%s: max_validity %s exceeds the %s allowed for a public TLS certificate (%s)",
						where, days(p.MaxValidity), days(max), tlsRule(since)))
				}
			}
			if p.ETSI != nil {
				bad = append(bad, checkETSIProfile(where, p)...)
			}
			// RFC 3161 §2.3: a time-stamping unit has that purpose alone.
			if slices.Contains(p.ExtKeyUsage, x509.ExtKeyUsageTimeStamping) && !timeStampingOnly(p.ExtKeyUsage) {
				bad = append(bad, fmt.Sprintf("%s: timeStamping must be the only extended key usage (RFC 3161 §2.3)", where))
			}
			// S/MIME BR §6.3.2: 825 days for the multipurpose and strict
			// generations (zlint has no lint for it).
			if slices.Contains(p.Lints, "cabf_smime") && p.MaxValidity > SMIMEMaxValidity {
				bad = append(bad, fmt.Sprintf("%s: max_validity %s exceeds the %s allowed for an S/MIME certificate (CA/B Forum S/MIME BR §6.3.2)",
					where, days(p.MaxValidity), days(SMIMEMaxValidity)))
			}
		}
	}
	if len(bad) > 0 {
		return sceau.Errorf(sceau.Invalid, op, "%s", strings.Join(bad, "; "))
	}
	return nil
}

// tlsRule cites the validity rule in force since since.
// forbiddenInTLSCA are the purposes a CA whose certificate has serverAuth
// must not also have (CA/B Forum TLS BR §7.1.2.10.6).
var forbiddenInTLSCA = []x509.ExtKeyUsage{x509.ExtKeyUsageEmailProtection, x509.ExtKeyUsageCodeSigning,
	x509.ExtKeyUsageTimeStamping, x509.ExtKeyUsageOCSPSigning, x509.ExtKeyUsageAny}

// checkCAPurposes checks a CA-level extendedKeyUsage (CA-1, CA-2): a TLS CA mixes in no
// forbidden purpose, and each profile's purposes are among the CA's, since
// relying parties (Go, NSS, Windows) refuse a leaf whose purpose its
// issuer does not have.
func checkCAPurposes(s Spec) []string {
	if len(s.ExtKeyUsage) == 0 && len(s.OtherExtKeyUsage) == 0 {
		return nil
	}
	var bad []string
	if slices.Contains(s.ExtKeyUsage, x509.ExtKeyUsageServerAuth) {
		for _, e := range s.ExtKeyUsage {
			if slices.Contains(forbiddenInTLSCA, e) {
				bad = append(bad, fmt.Sprintf("CA %s: ext_key_usage %s beside serverAuth (CA/B Forum TLS BR §7.1.2.10.6: a TLS CA has serverAuth and at most clientAuth)", s.ID, ekuName(e)))
			}
		}
		if len(s.OtherExtKeyUsage) > 0 {
			bad = append(bad, fmt.Sprintf("CA %s: ext_key_usage beside serverAuth names a purpose other than clientAuth (CA/B Forum TLS BR §7.1.2.10.6)", s.ID))
		}
	}
	for _, p := range s.Profiles {
		for _, e := range p.ExtKeyUsage {
			if !slices.Contains(s.ExtKeyUsage, e) {
				bad = append(bad, fmt.Sprintf("CA %s, profile %s: purpose %s is not among the CA's ext_key_usage: relying parties would refuse its certificates", s.ID, p.Name, ekuName(e)))
			}
		}
		for _, o := range p.OtherExtKeyUsage {
			if !slices.ContainsFunc(s.OtherExtKeyUsage, o.Equal) {
				bad = append(bad, fmt.Sprintf("CA %s, profile %s: purpose %s is not among the CA's ext_key_usage: relying parties would refuse its certificates", s.ID, p.Name, o))
			}
		}
	}
	return bad
}

// ekuName is the configuration name of an extended key usage.
func ekuName(e x509.ExtKeyUsage) string {
	for name, v := range ExtKeyUsageNames {
		if v == e {
			return name
		}
	}
	if e == x509.ExtKeyUsageAny {
		return "anyExtendedKeyUsage"
	}
	return fmt.Sprint(int(e))
}

// TLSCeilingWarnings names the public TLS profiles whose validity or
// max_validity exceeds the CA/B Forum ceiling at now or within soon: their
// certificates are capped at the ceiling of the day of issuance, and the
// operator should lower the configuration to match (TLS BR §6.3.2).
func TLSCeilingWarnings(specs []Spec, now time.Time, soon time.Duration) []string {
	var out []string
	for _, s := range specs {
		for _, p := range s.Profiles {
			if !p.publicTLS() {
				continue
			}
			for _, at := range []time.Time{now, now.Add(soon)} {
				max, since := TLSMaxValidity(at)
				if p.Validity < max && p.MaxValidity <= max {
					continue
				}
				when := "now"
				if at.After(now) {
					when = "from " + since.Format(time.DateOnly)
				}
				out = append(out, fmt.Sprintf("CA %s, profile %s: validity %s, max_validity %s; %s a public TLS certificate lasts at most %s (%s): "+
					"certificates without a requested validity get %s, longer requests are refused; lower the profile to match",
					s.ID, p.Name, days(p.Validity), days(p.MaxValidity), when, days(max), tlsRule(since), days(max-24*time.Hour)))
				break
			}
		}
	}
	return out
}

func tlsRule(since time.Time) string {
	if since.IsZero() {
		return "CA/B Forum TLS BR §6.3.2"
	}
	return "CA/B Forum TLS BR §6.3.2, since " + since.Format(time.DateOnly)
}

func hasPolicy(ps []Policy, oid asn1.ObjectIdentifier) bool {
	return slices.ContainsFunc(ps, func(p Policy) bool { return p.OID.Equal(oid) || p.OID.Equal(oidAnyPolicy) })
}

func isRSA(t keys.Type) bool { return strings.HasPrefix(string(t), "rsa") }

func days(d time.Duration) string {
	if d%(24*time.Hour) == 0 {
		return fmt.Sprintf("%dd", d/(24*time.Hour))
	}
	return d.String()
}

// checkETSIProfile refuses an eIDAS profile whose certificates could never
// pass the EN 319 412 clause rules (internal/etsi).
func checkETSIProfile(where string, p *Profile) []string {
	var bad []string
	if err := p.ETSI.Validate(); err != nil {
		bad = append(bad, fmt.Sprintf("%s: %s", where, strings.ReplaceAll(err.Error(), "\n", "; ")))
	}
	if p.ETSI.Policy != nil && !slices.ContainsFunc(p.Policies, func(pol Policy) bool { return pol.OID.Equal(p.ETSI.Policy) }) {
		bad = append(bad, fmt.Sprintf("%s: the ETSI policy %s is not among the profile's policies (EN 319 412-2 §4.3.3)", where, p.ETSI.Policy))
	}
	commits := p.KeyUsage&x509.KeyUsageContentCommitment != 0
	switch p.ETSI.Usage {
	case etsi.Signature:
		if !commits {
			bad = append(bad, fmt.Sprintf("%s: a signature or seal profile needs contentCommitment in key_usage (EN 319 412-2 §4.3.2)", where))
		}
	case etsi.Authentication:
		if commits {
			bad = append(bad, fmt.Sprintf("%s: an authentication profile must not have contentCommitment (EN 319 412-2 §4.3.2)", where))
		}
	}
	return bad
}

// extKeyUsageExtension encodes the purposes, critical when timeStamping
// is the only one (RFC 3161 §2.3).
func extKeyUsageExtension(known []x509.ExtKeyUsage, other []asn1.ObjectIdentifier) (pkix.Extension, error) {
	var oids []asn1.ObjectIdentifier
	for _, u := range known {
		oid, ok := extKeyUsageOIDs[u]
		if !ok {
			return pkix.Extension{}, fmt.Errorf("extended key usage %d has no OID here", u)
		}
		oids = append(oids, oid)
	}
	oids = append(oids, other...)
	v, err := asn1.Marshal(oids)
	return pkix.Extension{Id: oidExtKeyUsage, Critical: timeStampingOnly(known) && len(other) == 0, Value: v}, err
}

func timeStampingOnly(ekus []x509.ExtKeyUsage) bool {
	return len(ekus) == 1 && ekus[0] == x509.ExtKeyUsageTimeStamping
}
