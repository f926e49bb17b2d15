package ca

import (
	"crypto/sha1"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

var (
	oidCertificatePolicies = asn1.ObjectIdentifier{2, 5, 29, 32}
	oidCPSQualifier        = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 2, 1}
	oidOCSPNoCheck         = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 48, 1, 5}
)

// policiesExtension encodes certificatePolicies with CPS URI qualifiers,
// which crypto/x509 cannot write (RFC 5280 §4.2.1.4).
func policiesExtension(policies []Policy) (pkix.Extension, error) {
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		for _, p := range policies {
			b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
				b.AddASN1ObjectIdentifier(p.OID)
				if p.CPSURI == "" {
					return
				}
				b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
					b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
						b.AddASN1ObjectIdentifier(oidCPSQualifier)
						b.AddASN1(cbasn1.IA5String, func(b *cryptobyte.Builder) { b.AddBytes([]byte(p.CPSURI)) })
					})
				})
			})
		}
	})
	der, err := b.Bytes()
	return pkix.Extension{Id: oidCertificatePolicies, Value: der}, err
}

// ocspNoCheck is id-pkix-ocsp-nocheck (RFC 6960 §4.2.2.2.1): a NULL value.
func ocspNoCheck() pkix.Extension {
	return pkix.Extension{Id: oidOCSPNoCheck, Value: []byte{0x05, 0x00}}
}

// subjectKeyID is RFC 5280 §4.2.1.2 method (1): SHA-1 of the public key bits.
func subjectKeyID(spki []byte) []byte {
	var info struct {
		Algorithm pkix.AlgorithmIdentifier
		PublicKey asn1.BitString
	}
	if _, err := asn1.Unmarshal(spki, &info); err != nil {
		return nil
	}
	sum := sha1.Sum(info.PublicKey.RightAlign())
	return sum[:]
}

func marshalSPKI(pub any) []byte {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return nil
	}
	return der
}
