package sceautest

import (
	"crypto/x509"
	"encoding/asn1"
	"time"

	"github.com/sceau/sceau/internal/ca"
	"github.com/sceau/sceau/internal/etsi"
	"github.com/sceau/sceau/internal/keys"
)

// RegistrationSpecs are Specs with a qualified natural person profile
// (QCP-n, EN 319 412-2) on the issuing CA, which takes anyPolicy for it.
func RegistrationSpecs() []ca.Spec {
	specs := Specs()
	specs[1].Policies = append(specs[1].Policies, ca.Policy{OID: asn1.ObjectIdentifier{2, 5, 29, 32, 0}})
	specs[1].Profiles = append(specs[1].Profiles, ca.Profile{Name: "qualified-person", KeyUsage: x509.KeyUsageContentCommitment,
		Policies: []ca.Policy{{OID: etsi.OIDQCPNatural}, {OID: TestPolicyOID}}, KeyTypes: []keys.Type{keys.ECDSAP256, keys.RSA2048},
		Validity: 365 * 24 * time.Hour, MaxValidity: 3 * 365 * 24 * time.Hour, Lints: []string{"rfc5280", "etsi"},
		ETSI: &etsi.Profile{Kind: etsi.NaturalPerson, Usage: etsi.Signature, Qualified: true, Policy: etsi.OIDQCPNatural,
			SerialNumberSemantics: true, RetentionYears: 10,
			PDS: []etsi.PDSLocation{{URL: "https://pki.example.fr/pds/en.html", Language: "en"}, {URL: "https://pki.example.fr/pds/fr.html", Language: "fr"}}}})
	return specs
}
