package ca

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"fmt"
	"math/big"
	"net"
	"slices"
	"strings"
	"time"

	"github.com/sceau/sceau/internal/audit"
	"github.com/sceau/sceau/internal/etsi"
	"github.com/sceau/sceau/internal/keys"
	"github.com/sceau/sceau/internal/sceau"
	"github.com/sceau/sceau/internal/store"
)

// MaxCSRBytes caps a PKCS#10 request; real ones are well under 4 KiB.
const MaxCSRBytes = 16 << 10

// Request asks a CA for a certificate. Exactly one of CSR and GenerateKey
// is set: a DER PKCS#10 request whose subject and names are used, or a key
// type to generate for the holder (then Subject and the name fields say who
// the certificate is for).
type Request struct {
	CA      string
	Profile string
	CSR     []byte
	// GenerateKey asks Sceau to make the holder's key (PKCS#12 delivery).
	GenerateKey keys.Type
	Subject     pkix.Name
	DNSNames    []string
	Emails      []string
	IPs         []net.IP
	// Validity, if not zero, asks for a lifetime up to the profile's maximum.
	Validity time.Duration
	// NamesGiven: Subject, DNSNames, Emails and IPs say who the certificate
	// is for, and the CSR gives only the key (proof of possession checked);
	// whatever names the CSR carries are ignored. CA-4: a certificate
	// issued from a registration dossier carries only what the validated
	// dossier holds.
	NamesGiven bool
	// Claim, when set, runs in the transaction that reserves the serial
	// (record before sign), before anything is signed: a registration
	// dossier records the serial and its state change there, so that a
	// dossier is issued at most once (CA-4). Its events are journaled with
	// the batch's. An error refuses the request and nothing is reserved.
	Claim func(ctx context.Context, tx *store.Tx, serial string) ([]audit.Event, error)
}

// subjectRequest is a checked request, ready to become a template.
type subjectRequest struct {
	pub      crypto.PublicKey
	subject  pkix.Name
	dnsNames []string
	emails   []string
	ips      []net.IP
}

// ParseCSR reads and checks a PKCS#10 request: size, DER, its signature.
func ParseCSR(der []byte) (*x509.CertificateRequest, error) {
	const op = "ca: csr"
	if len(der) == 0 {
		return nil, sceau.Errorf(sceau.Invalid, op, "the request is empty")
	}
	if len(der) > MaxCSRBytes {
		return nil, sceau.Errorf(sceau.Invalid, op, "the request is %d bytes, more than %d", len(der), MaxCSRBytes)
	}
	csr, err := x509.ParseCertificateRequest(der)
	if err != nil {
		return nil, sceau.E(sceau.Invalid, op, "not a DER PKCS#10 request", err)
	}
	if err := csr.CheckSignature(); err != nil {
		return nil, sceau.E(sceau.Invalid, op, "the request's signature does not verify (proof of possession fails)", err)
	}
	return csr, nil
}

// checkKey refuses subject keys the profile does not allow and weak keys.
func checkKey(pub crypto.PublicKey, p *Profile, issuer *CA) error {
	const op = "ca: subject key"
	t, err := keys.TypeOf(pub)
	if err != nil {
		return sceau.E(sceau.Invalid, op, strings.TrimPrefix(err.Error(), "keys: "), err)
	}
	if !slices.Contains(p.KeyTypes, t) {
		return sceau.Errorf(sceau.Invalid, op, "profile %q does not allow %s keys (allowed: %v)", p.Name, t, p.KeyTypes)
	}
	switch k := pub.(type) {
	case *rsa.PublicKey:
		if k.E != 65537 {
			return sceau.Errorf(sceau.Invalid, op, "RSA public exponent %d is refused (want 65537)", k.E)
		}
		if k.N.Bit(0) == 0 {
			return sceau.Errorf(sceau.Invalid, op, "RSA modulus is even")
		}
		m := new(big.Int)
		for _, p := range smallPrimes {
			if m.Mod(k.N, big.NewInt(p)).Sign() == 0 {
				return sceau.Errorf(sceau.Invalid, op, "RSA modulus has a small factor (%d)", p)
			}
		}
	case *ecdsa.PublicKey:
		// crypto/x509 refuses points off the curve when parsing.
	}
	if eq, ok := pub.(interface{ Equal(crypto.PublicKey) bool }); ok {
		for _, c := range issuer.Chain {
			if eq.Equal(c.PublicKey) {
				return sceau.Errorf(sceau.Invalid, op, "the subject key is a CA's key")
			}
		}
	}
	return nil
}

// smallPrimes are the odd primes below 1000: a modulus with one of them as
// a factor is broken or forged.
var smallPrimes = func() []int64 {
	var ps []int64
	for n := int64(3); n < 1000; n += 2 {
		prime := true
		for _, p := range ps {
			if p*p > n {
				break
			}
			if n%p == 0 {
				prime = false
				break
			}
		}
		if prime {
			ps = append(ps, n)
		}
	}
	return ps
}()

// checkNames applies the profile's rules on subject alternative names.
func checkNames(r *subjectRequest, p *Profile) error {
	const op = "ca: names"
	if len(r.dnsNames) > 0 && !p.AllowDNS {
		return sceau.Errorf(sceau.Invalid, op, "profile %q does not allow DNS names", p.Name)
	}
	if len(r.emails) > 0 && !p.AllowEmail {
		return sceau.Errorf(sceau.Invalid, op, "profile %q does not allow email addresses", p.Name)
	}
	if len(r.ips) > 0 && !p.AllowIP {
		return sceau.Errorf(sceau.Invalid, op, "profile %q does not allow IP addresses", p.Name)
	}
	n := len(r.dnsNames) + len(r.emails) + len(r.ips)
	if p.RequireSAN && n == 0 {
		return sceau.Errorf(sceau.Invalid, op, "profile %q requires a subject alternative name", p.Name)
	}
	if n > 100 {
		return sceau.Errorf(sceau.Invalid, op, "%d names is more than 100", n)
	}
	for _, d := range r.dnsNames {
		// CA-2: a dNSName is checked before anything is reserved or signed.
		if why := checkDNSName(d, true); why != "" {
			return sceau.Errorf(sceau.Invalid, op, "dNSName %q is not a valid DNS name: %s", d, why)
		}
	}
	for _, e := range r.emails {
		local, domain, ok := strings.Cut(e, "@")
		if !ok || local == "" || checkDNSName(domain, false) != "" || strings.ContainsAny(e, " <>\"") {
			return sceau.Errorf(sceau.Invalid, op, "%q is not a valid email address", e)
		}
	}
	if r.subject.CommonName == "" && n == 0 {
		return sceau.Errorf(sceau.Invalid, op, "the request names no subject: neither a common name nor an alternative name")
	}
	if len(r.subject.CommonName) > 64 {
		return sceau.Errorf(sceau.Invalid, op, "the common name is longer than 64 characters")
	}
	for _, c := range r.subject.Country {
		if len(c) != 2 {
			return sceau.Errorf(sceau.Invalid, op, "country %q is not a two-letter code", c)
		}
	}
	// An organization is named with its country (CA/B Forum TLS BR
	// §7.1.4.2.2 (d), EN 319 412-3 §4.2.1): "O=Example" alone names
	// nothing a relying party can look up.
	if len(r.subject.Organization) > 0 && len(r.subject.Country) == 0 {
		return sceau.Errorf(sceau.Invalid, op, "organizationName %q without countryName: a request that names an organization names its country (C)",
			r.subject.Organization[0])
	}
	return checkPublicTLSNames(r, p)
}

// checkDNSName returns why s is not a host name a certificate may carry,
// or "" when it is one. wildcard allows a "*" as the whole first label.
//
// CA-2: two forms that crypto/x509 and OpenSSL would otherwise match are
// refused here. A bare "*" (or "*" over a single label, like "*.com")
// would match every host of a top-level domain, or every host at all.
// A name that reads as an IP address ("127.0.0.1") belongs in an
// iPAddress SAN: as a dNSName, OpenSSL's -checkhost and other relying
// parties match it against the address, outside the profile's AllowIP
// rule. RFC 1123 §2.1 already rules out an all-numeric top-level label,
// which also catches shortened forms like "127.1".
func checkDNSName(s string, wildcard bool) string {
	if len(s) == 0 {
		return "it is empty"
	}
	if len(s) > 253 {
		return "it is longer than 253 characters"
	}
	if net.ParseIP(s) != nil {
		return "it is an IP address; put it in an iPAddress SAN"
	}
	labels := strings.Split(s, ".")
	if labels[0] == "*" {
		if !wildcard {
			return "a wildcard is not allowed here"
		}
		if len(labels) < 3 {
			return "a wildcard must stand left of at least two labels, as in *.example.com"
		}
		labels = labels[1:]
	}
	for _, l := range labels {
		if len(l) == 0 {
			return "it has an empty label"
		}
		if len(l) > 63 {
			return "a label is longer than 63 characters"
		}
		if l[0] == '-' || l[len(l)-1] == '-' {
			return fmt.Sprintf("label %q starts or ends with a hyphen", l)
		}
		for _, c := range l {
			if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
				return fmt.Sprintf("label %q holds %q; only a-z, 0-9 and - are allowed (a wildcard only as the whole first label)", l, c)
			}
		}
	}
	if strings.Trim(labels[len(labels)-1], "0123456789") == "" {
		return "its last label is all digits, as in an IP address; put an address in an iPAddress SAN"
	}
	return ""
}

// Subject attributes that pkix.Name has no field for, kept from a request:
// a natural person's name (X.520, EN 319 412-2 §4.2.4), a title, and a
// legal person's identifier (EN 319 412-1 §5.1.4).
var keptExtraAttributes = []asn1.ObjectIdentifier{etsi.OIDGivenName, etsi.OIDSurname, etsi.OIDPseudonym,
	{2, 5, 4, 12} /* title */, etsi.OIDOrganizationIdentifier}

// cleanSubject keeps the attributes Sceau puts in subject names, dropping
// anything else a request carried.
func cleanSubject(n pkix.Name) pkix.Name {
	out := pkix.Name{
		CommonName:         n.CommonName,
		Organization:       n.Organization,
		OrganizationalUnit: n.OrganizationalUnit,
		Country:            n.Country,
		Locality:           n.Locality,
		Province:           n.Province,
		SerialNumber:       n.SerialNumber,
	}
	// Names holds what a parsed request carried, ExtraNames what a request
	// built in Go asks for; either way each kept attribute is written once.
	for _, src := range [][]pkix.AttributeTypeAndValue{n.Names, n.ExtraNames} {
		for _, a := range src {
			if _, ok := a.Value.(string); !ok || !slices.ContainsFunc(keptExtraAttributes, a.Type.Equal) {
				continue
			}
			if slices.ContainsFunc(out.ExtraNames, func(b pkix.AttributeTypeAndValue) bool { return b.Type.Equal(a.Type) && b.Value == a.Value }) {
				continue
			}
			out.ExtraNames = append(out.ExtraNames, pkix.AttributeTypeAndValue{Type: a.Type, Value: a.Value})
		}
	}
	return out
}

func (r *Request) String() string {
	return fmt.Sprintf("ca=%s profile=%s", r.CA, r.Profile)
}
