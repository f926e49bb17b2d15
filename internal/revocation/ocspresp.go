package revocation

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"fmt"
	"math/big"
	"time"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// responseTemplate is one single response to sign (RFC 6960 §4.2.1).
type responseTemplate struct {
	hash       crypto.Hash // CertID hash
	nameHash   []byte
	keyHash    []byte
	serial     *big.Int
	status     int // 0 good, 1 revoked, 2 unknown
	revokedAt  time.Time
	reason     int // -1: no reason extension
	thisUpdate time.Time
	nextUpdate time.Time
	producedAt time.Time
	// extensions go into responseExtensions (the nonce of RFC 8954 §2.1
	// belongs there; golang.org/x/crypto/ocsp puts extra extensions in the
	// single response, where clients do not look for it).
	extensions []pkix.Extension
}

var (
	oidOCSPBasic     = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 48, 1, 1}
	oidSHA1          = asn1.ObjectIdentifier{1, 3, 14, 3, 2, 26}
	oidSHA256        = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 1}
	oidECDSAWithSHA2 = asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3, 2}
	oidECDSAWithSHA3 = asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3, 3}
	oidRSAWithSHA256 = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 11}
)

// signResponse encodes and signs a successful OCSP response with a
// delegated responder (identified by key hash, its certificate included).
func signResponse(t *responseTemplate, responder *x509.Certificate, responderID []byte, key crypto.Signer) ([]byte, error) {
	hashOID := oidSHA1
	if t.hash == crypto.SHA256 {
		hashOID = oidSHA256
	}
	if len(responderID) == 0 {
		return nil, fmt.Errorf("revocation: no responder key hash")
	}
	tbs := cryptobyte.NewBuilder(make([]byte, 0, 256))
	tbs.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { // ResponseData
		b.AddASN1(cbasn1.Tag(2).ContextSpecific().Constructed(), func(b *cryptobyte.Builder) { // byKey
			b.AddASN1OctetString(responderID)
		})
		b.AddASN1GeneralizedTime(t.producedAt.UTC())
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { // responses
			b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { // SingleResponse
				b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { // CertID
					b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
						b.AddASN1ObjectIdentifier(hashOID)
						b.AddASN1NULL()
					})
					b.AddASN1OctetString(t.nameHash)
					b.AddASN1OctetString(t.keyHash)
					b.AddASN1BigInt(t.serial)
				})
				switch t.status {
				case 0:
					b.AddASN1(cbasn1.Tag(0).ContextSpecific(), func(b *cryptobyte.Builder) {})
				case 1:
					b.AddASN1(cbasn1.Tag(1).ContextSpecific().Constructed(), func(b *cryptobyte.Builder) {
						b.AddASN1GeneralizedTime(t.revokedAt.UTC())
						if t.reason > 0 {
							b.AddASN1(cbasn1.Tag(0).ContextSpecific().Constructed(), func(b *cryptobyte.Builder) {
								b.AddASN1Enum(int64(t.reason))
							})
						}
					})
				default:
					b.AddASN1(cbasn1.Tag(2).ContextSpecific(), func(b *cryptobyte.Builder) {})
				}
				b.AddASN1GeneralizedTime(t.thisUpdate.UTC())
				b.AddASN1(cbasn1.Tag(0).ContextSpecific().Constructed(), func(b *cryptobyte.Builder) {
					b.AddASN1GeneralizedTime(t.nextUpdate.UTC())
				})
			})
		})
		if len(t.extensions) > 0 {
			b.AddASN1(cbasn1.Tag(1).ContextSpecific().Constructed(), func(b *cryptobyte.Builder) {
				b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
					for _, e := range t.extensions {
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
	tbsDER, err := tbs.Bytes()
	if err != nil {
		return nil, err
	}

	var (
		sigOID asn1.ObjectIdentifier
		h      crypto.Hash
		rsaKey bool
	)
	switch pub := key.Public().(type) {
	case *ecdsa.PublicKey:
		if pub.Curve == elliptic.P384() {
			sigOID, h = oidECDSAWithSHA3, crypto.SHA384
		} else {
			sigOID, h = oidECDSAWithSHA2, crypto.SHA256
		}
	case *rsa.PublicKey:
		sigOID, h, rsaKey = oidRSAWithSHA256, crypto.SHA256, true
	default:
		return nil, fmt.Errorf("revocation: responder key %T is not supported", pub)
	}
	d := h.New()
	d.Write(tbsDER)
	sig, err := key.Sign(rand.Reader, d.Sum(nil), h)
	if err != nil {
		return nil, err
	}

	basic := cryptobyte.NewBuilder(make([]byte, 0, len(tbsDER)+len(responder.Raw)+128))
	basic.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddBytes(tbsDER)
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
			b.AddASN1ObjectIdentifier(sigOID)
			if rsaKey {
				b.AddASN1NULL()
			}
		})
		b.AddASN1BitString(sig)
		b.AddASN1(cbasn1.Tag(0).ContextSpecific().Constructed(), func(b *cryptobyte.Builder) {
			b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { b.AddBytes(responder.Raw) })
		})
	})
	basicDER, err := basic.Bytes()
	if err != nil {
		return nil, err
	}
	out := cryptobyte.NewBuilder(make([]byte, 0, len(basicDER)+32))
	out.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1Enum(0) // successful
		b.AddASN1(cbasn1.Tag(0).ContextSpecific().Constructed(), func(b *cryptobyte.Builder) {
			b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
				b.AddASN1ObjectIdentifier(oidOCSPBasic)
				b.AddASN1OctetString(basicDER)
			})
		})
	})
	return out.Bytes()
}
