package ca

import (
	"net/netip"
	"strings"

	"golang.org/x/net/publicsuffix"

	"github.com/sceau/sceau/internal/sceau"
)

// reservedPrefixes are the IANA special-purpose address blocks (RFC 6890
// and its updates): private, loopback, link-local, shared, documentation,
// benchmarking, multicast and reserved space. None is a public address, so
// a public TLS certificate may not name one (CA/B Forum TLS BR §7.1.2.7.12,
// §4.2.2).
var reservedPrefixes = func() []netip.Prefix {
	var out []netip.Prefix
	for _, s := range []string{
		"0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16", "172.16.0.0/12",
		"192.0.0.0/24", "192.0.2.0/24", "192.88.99.0/24", "192.168.0.0/16", "198.18.0.0/15", "198.51.100.0/24",
		"203.0.113.0/24", "224.0.0.0/4", "240.0.0.0/4",
		"::/128", "::1/128", "::ffff:0:0/96", "64:ff9b::/96", "64:ff9b:1::/48", "100::/64", "2001::/23", "2001:db8::/32",
		"2002::/16", "3fff::/20", "fc00::/7", "fe80::/10", "ff00::/8",
	} {
		out = append(out, netip.MustParsePrefix(s))
	}
	return out
}()

// reservedAddress says whether ip lies in a special-purpose block.
func reservedAddress(ip netip.Addr) (netip.Prefix, bool) {
	ip = ip.Unmap()
	for _, p := range reservedPrefixes {
		if p.Contains(ip) {
			return p, true
		}
	}
	return netip.Prefix{}, false
}

// internalName says why a DNS name is not in the public DNS namespace, or
// "" when it is: its top-level domain must be one ICANN delegates, as the
// public suffix list records (CA/B Forum TLS BR §1.6.1 "Internal Name",
// §4.2.2). Names under .local, .internal, .test, .example, .invalid,
// .localhost, .lan, .corp or a single label fall here.
func internalName(name string) string {
	name = strings.TrimPrefix(strings.TrimSuffix(name, "."), "*.")
	if !strings.Contains(name, ".") {
		return "it is a single label, not a name in the public DNS"
	}
	suffix, icann := publicsuffix.PublicSuffix(name)
	if !icann && !strings.Contains(suffix, ".") {
		return "its top-level domain ." + suffix + " is not delegated by ICANN: it is an internal name"
	}
	if suffix == name {
		return "it is a public suffix itself, not a registrable name"
	}
	return ""
}

// checkPublicTLSNames refuses, in a public TLS profile, a reserved address
// or an internal name (CA-2; CA/B Forum TLS BR §4.2.2: a CA does not issue
// for either).
func checkPublicTLSNames(r *subjectRequest, p *Profile) error {
	if !p.publicTLS() {
		return nil
	}
	const op = "ca: names"
	for _, ip := range r.ips {
		a, ok := netip.AddrFromSlice(ip)
		if !ok {
			continue
		}
		if block, reserved := reservedAddress(a); reserved {
			return sceau.Errorf(sceau.Invalid, op, "iPAddress %s is in the reserved block %s: profile %q issues public TLS certificates (CA/B Forum TLS BR §4.2.2)",
				a, block, p.Name)
		}
	}
	for _, d := range r.dnsNames {
		if why := internalName(d); why != "" {
			return sceau.Errorf(sceau.Invalid, op, "dNSName %q: %s; profile %q issues public TLS certificates (CA/B Forum TLS BR §4.2.2)", d, why, p.Name)
		}
	}
	if cn := r.subject.CommonName; cn != "" && strings.Contains(cn, ".") {
		if why := internalName(cn); why != "" {
			return sceau.Errorf(sceau.Invalid, op, "commonName %q: %s; profile %q issues public TLS certificates (CA/B Forum TLS BR §4.2.2)", cn, why, p.Name)
		}
	}
	return nil
}
