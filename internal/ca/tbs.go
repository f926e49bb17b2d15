package ca

import (
	"crypto"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"math/bits"
	"time"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// Sceau encodes the to-be-signed certificate of an end-entity itself, so
// that it can be linted and recorded before any signature and then signed
// once by the CA key. crypto/x509 offers no TBS-only encoder: building the
// linted copy with x509.CreateCertificate costs a throwaway signature and
// its verification per certificate. The encoding follows crypto/x509's
// choices field for field (extension order, string types, time forms), and
// a test checks it byte for byte against x509.CreateCertificate.

var (
	oidKeyUsage         = asn1.ObjectIdentifier{2, 5, 29, 15}
	oidExtKeyUsage      = asn1.ObjectIdentifier{2, 5, 29, 37}
	oidBasicConstraints = asn1.ObjectIdentifier{2, 5, 29, 19}
	oidSubjectKeyID     = asn1.ObjectIdentifier{2, 5, 29, 14}
	oidAuthorityKeyID   = asn1.ObjectIdentifier{2, 5, 29, 35}
	oidAIA              = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 1, 1}
	oidAIAOCSP          = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 48, 1}
	oidAIACAIssuers     = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 48, 2}
	oidSAN              = asn1.ObjectIdentifier{2, 5, 29, 17}
	oidCRLDP            = asn1.ObjectIdentifier{2, 5, 29, 31}

	oidSigECDSAWithSHA256 = asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3, 2}
	oidSigECDSAWithSHA384 = asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3, 3}
	oidSigSHA256WithRSA   = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 11}
)

var extKeyUsageOIDs = map[x509.ExtKeyUsage]asn1.ObjectIdentifier{
	x509.ExtKeyUsageServerAuth:      {1, 3, 6, 1, 5, 5, 7, 3, 1},
	x509.ExtKeyUsageClientAuth:      {1, 3, 6, 1, 5, 5, 7, 3, 2},
	x509.ExtKeyUsageCodeSigning:     {1, 3, 6, 1, 5, 5, 7, 3, 3},
	x509.ExtKeyUsageEmailProtection: {1, 3, 6, 1, 5, 5, 7, 3, 4},
	x509.ExtKeyUsageTimeStamping:    {1, 3, 6, 1, 5, 5, 7, 3, 8},
	x509.ExtKeyUsageOCSPSigning:     {1, 3, 6, 1, 5, 5, 7, 3, 9},
}

var errUnsupportedTemplate = errors.New("ca: template needs crypto/x509's encoder")

// signatureAlgorithm returns the DER AlgorithmIdentifier and the digest of
// a signature algorithm Sceau signs end-entity certificates with.
func signatureAlgorithm(alg x509.SignatureAlgorithm) ([]byte, crypto.Hash, error) {
	var b cryptobyte.Builder
	var h crypto.Hash
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		switch alg {
		case x509.ECDSAWithSHA256:
			b.AddASN1ObjectIdentifier(oidSigECDSAWithSHA256)
			h = crypto.SHA256
		case x509.ECDSAWithSHA384:
			b.AddASN1ObjectIdentifier(oidSigECDSAWithSHA384)
			h = crypto.SHA384
		case x509.SHA256WithRSA:
			b.AddASN1ObjectIdentifier(oidSigSHA256WithRSA)
			b.AddASN1NULL()
			h = crypto.SHA256
		}
	})
	if h == 0 {
		return nil, 0, errUnsupportedTemplate
	}
	der, err := b.Bytes()
	return der, h, err
}

// encodeTBS encodes the tbsCertificate of an end-entity template issued by
// issuer, as x509.CreateCertificate would. It returns errUnsupportedTemplate
// for fields Sceau's profiles never set.
func encodeTBS(t *x509.Certificate, issuer *x509.Certificate, pub any) ([]byte, error) {
	if t.IsCA || len(t.URIs) > 0 || len(t.PermittedDNSDomains) > 0 || len(t.PolicyIdentifiers) > 0 || len(t.Policies) > 0 ||
		len(t.UnknownExtKeyUsage) > 0 || len(t.AuthorityKeyId) > 0 || len(t.RawSubject) > 0 {
		return nil, errUnsupportedTemplate
	}
	sigAlg, _, err := signatureAlgorithm(t.SignatureAlgorithm)
	if err != nil {
		return nil, err
	}
	spki, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return nil, err
	}
	subject, err := asn1.Marshal(t.Subject.ToRDNSequence())
	if err != nil {
		return nil, err
	}
	exts, err := endEntityExtensions(t, issuer, len(t.Subject.ToRDNSequence()) == 0)
	if err != nil {
		return nil, err
	}
	b := cryptobyte.NewBuilder(make([]byte, 0, 1024+len(spki)+len(subject)))
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1(cbasn1.Tag(0).ContextSpecific().Constructed(), func(b *cryptobyte.Builder) {
			b.AddASN1Int64(2) // v3
		})
		b.AddASN1BigInt(t.SerialNumber)
		b.AddBytes(sigAlg)
		b.AddBytes(issuer.RawSubject)
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
			addTime(b, t.NotBefore)
			addTime(b, t.NotAfter)
		})
		b.AddBytes(subject)
		b.AddBytes(spki)
		if len(exts) > 0 {
			b.AddASN1(cbasn1.Tag(3).ContextSpecific().Constructed(), func(b *cryptobyte.Builder) {
				b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
					for _, e := range exts {
						b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
							b.AddASN1ObjectIdentifier(e.Id)
							if e.Critical {
								b.AddASN1Boolean(true)
							}
							b.AddASN1OctetString(e.Value)
						})
					}
				})
			})
		}
	})
	return b.Bytes()
}

// addTime writes UTCTime before 2050 and GeneralizedTime after (RFC 5280 §4.1.2.5).
func addTime(b *cryptobyte.Builder, t time.Time) {
	t = t.UTC()
	if t.Year() >= 1950 && t.Year() < 2050 {
		b.AddASN1UTCTime(t)
		return
	}
	b.AddASN1GeneralizedTime(t)
}

// endEntityExtensions builds the extensions in crypto/x509's order, then
// the template's extra extensions.
func endEntityExtensions(t *x509.Certificate, issuer *x509.Certificate, subjectEmpty bool) ([]pkix.Extension, error) {
	var exts []pkix.Extension
	exts = make([]pkix.Extension, 0, 8+len(t.ExtraExtensions))
	add := func(id asn1.ObjectIdentifier, critical bool, build func(b *cryptobyte.Builder)) error {
		b := cryptobyte.NewBuilder(make([]byte, 0, 128))
		build(b)
		v, err := b.Bytes()
		if err != nil {
			return err
		}
		exts = append(exts, pkix.Extension{Id: id, Critical: critical, Value: v})
		return nil
	}
	var err error
	if t.KeyUsage != 0 {
		err = add(oidKeyUsage, true, func(b *cryptobyte.Builder) { addKeyUsage(b, t.KeyUsage) })
	}
	if err == nil && len(t.ExtKeyUsage) > 0 {
		for _, u := range t.ExtKeyUsage {
			if _, ok := extKeyUsageOIDs[u]; !ok {
				return nil, errUnsupportedTemplate
			}
		}
		err = add(oidExtKeyUsage, false, func(b *cryptobyte.Builder) {
			b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
				for _, u := range t.ExtKeyUsage {
					b.AddASN1ObjectIdentifier(extKeyUsageOIDs[u])
				}
			})
		})
	}
	if err == nil && t.BasicConstraintsValid {
		// An end entity: cA FALSE is the default, no pathLen: an empty SEQUENCE.
		err = add(oidBasicConstraints, true, func(b *cryptobyte.Builder) { b.AddASN1(cbasn1.SEQUENCE, func(*cryptobyte.Builder) {}) })
	}
	if err == nil && len(t.SubjectKeyId) > 0 {
		err = add(oidSubjectKeyID, false, func(b *cryptobyte.Builder) { b.AddASN1OctetString(t.SubjectKeyId) })
	}
	if err == nil && len(issuer.SubjectKeyId) > 0 {
		err = add(oidAuthorityKeyID, false, func(b *cryptobyte.Builder) {
			b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
				b.AddASN1(cbasn1.Tag(0).ContextSpecific(), func(b *cryptobyte.Builder) { b.AddBytes(issuer.SubjectKeyId) })
			})
		})
	}
	if err == nil && (len(t.OCSPServer) > 0 || len(t.IssuingCertificateURL) > 0) {
		err = add(oidAIA, false, func(b *cryptobyte.Builder) {
			b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
				for _, u := range t.OCSPServer {
					addAccessDescription(b, oidAIAOCSP, u)
				}
				for _, u := range t.IssuingCertificateURL {
					addAccessDescription(b, oidAIACAIssuers, u)
				}
			})
		})
	}
	if err == nil && (len(t.DNSNames) > 0 || len(t.EmailAddresses) > 0 || len(t.IPAddresses) > 0) {
		err = add(oidSAN, subjectEmpty, func(b *cryptobyte.Builder) {
			b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
				for _, n := range t.DNSNames {
					b.AddASN1(cbasn1.Tag(2).ContextSpecific(), func(b *cryptobyte.Builder) { b.AddBytes([]byte(n)) })
				}
				for _, e := range t.EmailAddresses {
					b.AddASN1(cbasn1.Tag(1).ContextSpecific(), func(b *cryptobyte.Builder) { b.AddBytes([]byte(e)) })
				}
				for _, ip := range t.IPAddresses {
					raw := []byte(ip)
					if ip4 := ip.To4(); ip4 != nil {
						raw = ip4
					}
					b.AddASN1(cbasn1.Tag(7).ContextSpecific(), func(b *cryptobyte.Builder) { b.AddBytes(raw) })
				}
			})
		})
	}
	if err == nil && len(t.CRLDistributionPoints) > 0 {
		err = add(oidCRLDP, false, func(b *cryptobyte.Builder) {
			b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
				for _, u := range t.CRLDistributionPoints {
					b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { // DistributionPoint
						b.AddASN1(cbasn1.Tag(0).ContextSpecific().Constructed(), func(b *cryptobyte.Builder) { // distributionPoint
							b.AddASN1(cbasn1.Tag(0).ContextSpecific().Constructed(), func(b *cryptobyte.Builder) { // fullName
								b.AddASN1(cbasn1.Tag(6).ContextSpecific(), func(b *cryptobyte.Builder) { b.AddBytes([]byte(u)) })
							})
						})
					})
				}
			})
		})
	}
	if err != nil {
		return nil, err
	}
	for _, e := range t.ExtraExtensions {
		for _, have := range exts {
			if have.Id.Equal(e.Id) {
				return nil, errUnsupportedTemplate // crypto/x509 would replace it; Sceau never does this
			}
		}
		exts = append(exts, e)
	}
	return exts, nil
}

func addAccessDescription(b *cryptobyte.Builder, method asn1.ObjectIdentifier, uri string) {
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1ObjectIdentifier(method)
		b.AddASN1(cbasn1.Tag(6).ContextSpecific(), func(b *cryptobyte.Builder) { b.AddBytes([]byte(uri)) })
	})
}

// addKeyUsage writes the KeyUsage BIT STRING with trailing zero bits
// removed (DER), bit 0 being digitalSignature.
func addKeyUsage(b *cryptobyte.Builder, ku x509.KeyUsage) {
	var a [2]byte
	a[0] = bits.Reverse8(byte(ku))
	a[1] = bits.Reverse8(byte(ku >> 8))
	n := 1
	if a[1] != 0 {
		n = 2
	}
	octets := a[:n]
	unused := bits.TrailingZeros8(octets[n-1])
	if octets[n-1] == 0 {
		unused = 0
	}
	b.AddASN1(cbasn1.BIT_STRING, func(b *cryptobyte.Builder) {
		b.AddUint8(uint8(unused))
		b.AddBytes(octets)
	})
}

// certificateDER assembles a certificate from its parts.
func certificateDER(tbs, sigAlg, sig []byte) ([]byte, error) {
	b := cryptobyte.NewBuilder(make([]byte, 0, len(tbs)+len(sigAlg)+len(sig)+16))
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddBytes(tbs)
		b.AddBytes(sigAlg)
		b.AddASN1BitString(sig)
	})
	return b.Bytes()
}
