package est

import (
	"encoding/asn1"
	"encoding/base64"
	"slices"

	"github.com/sceau/sceau/internal/ca"
	"github.com/sceau/sceau/internal/keys"
)

var (
	oidData             = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 1}
	oidSignedData       = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 2}
	oidExtensionRequest = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 14}
	oidECPublicKey      = asn1.ObjectIdentifier{1, 2, 840, 10045, 2, 1}
	oidRSAEncryption    = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 1}
	oidSecp256r1        = asn1.ObjectIdentifier{1, 2, 840, 10045, 3, 1, 7}
	oidSecp384r1        = asn1.ObjectIdentifier{1, 3, 132, 0, 34}
	oidECDSAWithSHA256  = asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3, 2}
	oidSHA256WithRSA    = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 11}
)

type encapContentInfo struct {
	ContentType asn1.ObjectIdentifier
}

type signedData struct {
	Version          int
	DigestAlgorithms asn1.RawValue
	EncapContentInfo encapContentInfo
	Certificates     asn1.RawValue
	SignerInfos      asn1.RawValue
}

type contentInfo struct {
	ContentType asn1.ObjectIdentifier
	Content     asn1.RawValue
}

// certsOnly is a degenerate CMS SignedData holding certificates and no
// signer, the "certs-only" answer of RFC 7030 §4.1.3 and §4.2.3
// (RFC 5652 §5; version 1, no digest algorithm, no signer info).
func certsOnly(certs ...[]byte) ([]byte, error) {
	emptySet := asn1.RawValue{Class: asn1.ClassUniversal, Tag: asn1.TagSet, IsCompound: true, Bytes: []byte{}}
	sd := signedData{Version: 1, DigestAlgorithms: emptySet, EncapContentInfo: encapContentInfo{ContentType: oidData},
		Certificates: asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: 0, IsCompound: true, Bytes: slices.Concat(certs...)},
		SignerInfos:  emptySet}
	inner, err := asn1.Marshal(sd)
	if err != nil {
		return nil, err
	}
	return asn1.Marshal(contentInfo{ContentType: oidSignedData,
		Content: asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: 0, IsCompound: true, Bytes: inner}})
}

// attribute is an Attribute of the CSR attributes (RFC 7030 §4.5.2).
type attribute struct {
	Type   asn1.ObjectIdentifier
	Values []asn1.ObjectIdentifier `asn1:"set"`
}

// csrAttrs is the CsrAttrs answer for a CA (RFC 7030 §4.5.2): the
// extension request, and the key algorithms and curves the CA's profiles
// accept with the signature algorithm that goes with them.
func csrAttrs(c *ca.CA) ([]byte, error) {
	var out []any
	out = append(out, oidExtensionRequest)
	seen := map[keys.Type]bool{}
	for _, p := range c.Spec.Profiles {
		types := p.KeyTypes
		if len(types) == 0 {
			types = []keys.Type{keys.ECDSAP256}
		}
		for _, t := range types {
			seen[t] = true
		}
	}
	if seen[keys.ECDSAP256] || seen[keys.ECDSAP384] {
		var curves []asn1.ObjectIdentifier
		if seen[keys.ECDSAP256] {
			curves = append(curves, oidSecp256r1)
		}
		if seen[keys.ECDSAP384] {
			curves = append(curves, oidSecp384r1)
		}
		out = append(out, attribute{Type: oidECPublicKey, Values: curves}, oidECDSAWithSHA256)
	}
	if seen[keys.RSA2048] || seen[keys.RSA3072] || seen[keys.RSA4096] {
		out = append(out, oidRSAEncryption, oidSHA256WithRSA)
	}
	var body []byte
	for _, v := range out {
		der, err := asn1.Marshal(v)
		if err != nil {
			return nil, err
		}
		body = append(body, der...)
	}
	return asn1.Marshal(asn1.RawValue{Class: asn1.ClassUniversal, Tag: asn1.TagSequence, IsCompound: true, Bytes: body})
}

// base64Lines is the base64 transfer encoding of an answer, in lines of
// 64 characters ended by a line feed, which base64 -d and openssl
// base64 -d read as they are (RFC 7030 §4, RFC 8951).
func base64Lines(der []byte) []byte {
	s := base64.StdEncoding.EncodeToString(der)
	var out []byte
	for len(s) > 64 {
		out = append(out, s[:64]...)
		out = append(out, '\n')
		s = s[64:]
	}
	out = append(out, s...)
	return append(out, '\n')
}
