package cms

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	_ "crypto/sha256" // registers crypto.SHA256 for crypto.Hash.New
	_ "crypto/sha512" // registers crypto.SHA384 and crypto.SHA512
	"crypto/x509"
	"encoding/asn1"
	"fmt"
	"slices"
	"time"

	"golang.org/x/crypto/cryptobyte"
	casn1 "golang.org/x/crypto/cryptobyte/asn1"

	"github.com/sceau/sceau/internal/sceau"
)

// Object identifiers: RFC 5652 §14 (content types and attributes), RFC 6211
// (algorithm protection), RFC 5754 (SHA-2), RFC 5758 and RFC 8017
// (signatures), RFC 8410 (Ed25519).
var (
	oidData                = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 1}
	oidSignedData          = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 2}
	oidContentType         = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 3}
	oidMessageDigest       = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 4}
	oidSigningTime         = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 5}
	oidAlgorithmProtection = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 52}
	// RFC 2634 §5.4 and RFC 5035 §3: id-aa-signingCertificate(V2).
	oidSigningCertificate   = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 16, 2, 12}
	oidSigningCertificateV2 = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 16, 2, 47}

	oidSHA256 = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 1}
	oidSHA384 = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 2}
	oidSHA512 = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 3}

	oidECDSAWithSHA256  = asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3, 2}
	oidECDSAWithSHA384  = asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3, 3}
	oidECDSAWithSHA512  = asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3, 4}
	oidRSAEncryption    = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 1}
	oidSHA256WithRSA    = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 11}
	oidSHA384WithRSA    = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 12}
	oidSHA512WithRSA    = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 13}
	oidEd25519Signature = asn1.ObjectIdentifier{1, 3, 101, 112}
)

// ASN.1 tags beyond the universal ones.
var (
	tagExplicit0 = casn1.Tag(0).ContextSpecific().Constructed() // [0] EXPLICIT, [0] IMPLICIT SET OF
	tagImplicit1 = casn1.Tag(1).ContextSpecific().Constructed() // [1] IMPLICIT SET OF
	tagKeyID     = casn1.Tag(0).ContextSpecific()               // [0] IMPLICIT OCTET STRING
)

// asn1NULL is the DER of NULL, the parameters of the RSA algorithms.
var asn1NULL = []byte{0x05, 0x00}

// algorithm is an AlgorithmIdentifier; params is the raw DER of the
// parameters, nil when absent.
type algorithm struct {
	oid    asn1.ObjectIdentifier
	params []byte
}

// digests are the digest algorithms of RFC 5754 §2 this package accepts.
var digests = []struct {
	oid  asn1.ObjectIdentifier
	hash crypto.Hash
}{
	{oidSHA256, crypto.SHA256},
	{oidSHA384, crypto.SHA384},
	{oidSHA512, crypto.SHA512},
}

func digestAlgorithm(h crypto.Hash) algorithm {
	for _, d := range digests {
		if d.hash == h {
			// RFC 5754 §2: the parameters SHOULD be absent.
			return algorithm{oid: d.oid}
		}
	}
	panic(fmt.Sprintf("cms: no digest algorithm for %v", h)) // unreachable: callers pass a hash of the table
}

func digestHash(oid asn1.ObjectIdentifier) (crypto.Hash, bool) {
	for _, d := range digests {
		if d.oid.Equal(oid) {
			return d.hash, true
		}
	}
	return 0, false
}

// signatureAlgorithm is a signature algorithm VerifyDetached accepts: the
// key it needs and the digest it implies (0: any, for rsaEncryption, which
// OpenSSL writes in a SignerInfo for every RSA digest).
type signatureAlgorithm struct {
	oid  asn1.ObjectIdentifier
	key  x509.PublicKeyAlgorithm
	hash crypto.Hash
}

var signatureAlgorithms = []signatureAlgorithm{
	{oidECDSAWithSHA256, x509.ECDSA, crypto.SHA256},
	{oidECDSAWithSHA384, x509.ECDSA, crypto.SHA384},
	{oidECDSAWithSHA512, x509.ECDSA, crypto.SHA512},
	{oidRSAEncryption, x509.RSA, 0},
	{oidSHA256WithRSA, x509.RSA, crypto.SHA256},
	{oidSHA384WithRSA, x509.RSA, crypto.SHA384},
	{oidSHA512WithRSA, x509.RSA, crypto.SHA512},
	// RFC 8419 §3.1: with signed attributes, the message digest is SHA-512.
	{oidEd25519Signature, x509.Ed25519, crypto.SHA512},
}

// x509Algorithm names the check of a signature by key over the digest h.
func x509Algorithm(key x509.PublicKeyAlgorithm, h crypto.Hash) x509.SignatureAlgorithm {
	switch {
	case key == x509.ECDSA && h == crypto.SHA256:
		return x509.ECDSAWithSHA256
	case key == x509.ECDSA && h == crypto.SHA384:
		return x509.ECDSAWithSHA384
	case key == x509.ECDSA && h == crypto.SHA512:
		return x509.ECDSAWithSHA512
	case key == x509.RSA && h == crypto.SHA256:
		return x509.SHA256WithRSA
	case key == x509.RSA && h == crypto.SHA384:
		return x509.SHA384WithRSA
	case key == x509.RSA && h == crypto.SHA512:
		return x509.SHA512WithRSA
	case key == x509.Ed25519 && h == crypto.SHA512:
		return x509.PureEd25519
	}
	return x509.UnknownSignatureAlgorithm
}

// signingProfile is how SignDetached signs with pub: the digest (RFC 5753
// §7.1.1 and RFC 5754 §3 pair it with the key) and the signature algorithm.
func signingProfile(pub crypto.PublicKey) (crypto.Hash, algorithm, error) {
	switch k := pub.(type) {
	case *ecdsa.PublicKey:
		// RFC 5758 §3.2: the parameters of ecdsa-with-SHA* are absent.
		switch k.Curve {
		case elliptic.P256():
			return crypto.SHA256, algorithm{oid: oidECDSAWithSHA256}, nil
		case elliptic.P384():
			return crypto.SHA384, algorithm{oid: oidECDSAWithSHA384}, nil
		case elliptic.P521():
			return crypto.SHA512, algorithm{oid: oidECDSAWithSHA512}, nil
		}
		return 0, algorithm{}, sceau.Errorf(sceau.Invalid, "cms: sign", "the ECDSA curve %s is not supported", k.Curve.Params().Name)
	case *rsa.PublicKey:
		// RFC 8017 A.2.4: the parameters of sha256WithRSAEncryption are NULL.
		return crypto.SHA256, algorithm{oid: oidSHA256WithRSA, params: asn1NULL}, nil
	case ed25519.PublicKey:
		// RFC 8410 §3: the parameters of id-Ed25519 are absent.
		return crypto.SHA512, algorithm{oid: oidEd25519Signature}, nil
	}
	return 0, algorithm{}, sceau.Errorf(sceau.Invalid, "cms: sign", "a %T key is not supported", pub)
}

// SignDetached returns the DER encoding of a ContentInfo holding a CMS
// SignedData (RFC 5652 §5) over content, detached: the encapsulated content
// is absent and its type is id-data.
//
// The one SignerInfo (version 1) names cert by IssuerAndSerialNumber and
// signs the attributes contentType (id-data), messageDigest and, unless
// signingTime is zero, signingTime (UTCTime from 1950 to 2049,
// GeneralizedTime otherwise, RFC 5652 §11.3; to the second, in UTC). The
// digest and signature follow the key: SHA-256 and ecdsa-with-SHA256 for
// P-256, SHA-384 and ecdsa-with-SHA384 for P-384, SHA-512 and
// ecdsa-with-SHA512 for P-521, SHA-256 and sha256WithRSAEncryption (PKCS#1
// v1.5) for RSA, SHA-512 and Ed25519 over the signed attributes for Ed25519
// (RFC 8419). The certificates field holds cert and chain, each once, in DER
// order (a SET OF is sorted); a verifier finds the signer by its identifier.
//
// signer must hold cert's key (an Invalid error otherwise). The signature is
// checked before it is returned, so a faulty token cannot publish a bad one.
func SignDetached(content []byte, signer crypto.Signer, cert *x509.Certificate, chain []*x509.Certificate, signingTime time.Time) ([]byte, error) {
	const op = "cms: sign"
	if signer == nil || cert == nil {
		return nil, sceau.Errorf(sceau.Invalid, op, "a signer and its certificate are required")
	}
	for i, c := range chain {
		if c == nil {
			return nil, sceau.Errorf(sceau.Invalid, op, "chain certificate %d is nil", i)
		}
	}
	pub, ok := signer.Public().(interface{ Equal(crypto.PublicKey) bool })
	if !ok || !pub.Equal(cert.PublicKey) {
		return nil, sceau.Errorf(sceau.Invalid, op, "the signer's key is not the public key of certificate %q", cert.Subject.String())
	}
	der, err := signDetached(content, signer, cert, chain, signingTime)
	if err != nil {
		return nil, err
	}
	if _, err := VerifyDetached(der, content); err != nil {
		return nil, sceau.E(sceau.Internal, op, "the signature just made does not verify", err)
	}
	return der, nil
}

// signDetached is SignDetached without its checks, so that tests can make
// a signature by a key other than the certificate's.
func signDetached(content []byte, signer crypto.Signer, cert *x509.Certificate, chain []*x509.Certificate, signingTime time.Time) ([]byte, error) {
	const op = "cms: sign"
	hash, sigAlg, err := signingProfile(cert.PublicKey)
	if err != nil {
		return nil, err
	}
	attrs := []attribute{
		{oidContentType, [][]byte{mustDER(func(b *cryptobyte.Builder) { b.AddASN1ObjectIdentifier(oidData) })}},
		{oidMessageDigest, [][]byte{mustDER(func(b *cryptobyte.Builder) { b.AddASN1OctetString(digest(hash, content)) })}},
	}
	if !signingTime.IsZero() {
		t, err := timeDER(signingTime)
		if err != nil {
			return nil, sceau.E(sceau.Invalid, op, "the signing time cannot be encoded", err)
		}
		attrs = append(attrs, attribute{oidSigningTime, [][]byte{t}})
	}
	si, err := signAttributes(op, signer, cert, hash, sigAlg, attrs)
	if err != nil {
		return nil, err
	}
	der, err := marshalContentInfo(signedDataParts{
		version:          1, // RFC 5652 §5.1: id-data, version 1 SignerInfos, X.509 certificates only
		digestAlgorithms: []algorithm{digestAlgorithm(hash)},
		certificates:     certificateSet(cert, chain),
		signerInfos:      [][]byte{si},
	})
	if err != nil {
		return nil, sceau.E(sceau.Internal, op, "", err)
	}
	return der, nil
}

// signAttributes signs attrs with signer and returns the SignerInfo naming
// cert.
func signAttributes(op string, signer crypto.Signer, cert *x509.Certificate, hash crypto.Hash, sigAlg algorithm, attrs []attribute) ([]byte, error) {
	signed, err := marshalAttributes(attrs)
	if err != nil {
		return nil, sceau.E(sceau.Internal, op, "", err)
	}
	// The signature is over the DER SET OF (RFC 5652 §5.4): hashed with the
	// digest for ECDSA and RSA, whole for Ed25519 (RFC 8419 §3.2).
	var sig []byte
	if _, ok := cert.PublicKey.(ed25519.PublicKey); ok {
		sig, err = signer.Sign(rand.Reader, signed, crypto.Hash(0))
	} else {
		sig, err = signer.Sign(rand.Reader, digest(hash, signed), hash)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	si, err := marshalSignerInfo(cert, digestAlgorithm(hash), signed, sigAlg, sig)
	if err != nil {
		return nil, sceau.E(sceau.Internal, op, "", err)
	}
	return si, nil
}

// certificateSet is cert and chain, each once.
func certificateSet(cert *x509.Certificate, chain []*x509.Certificate) [][]byte {
	certs := [][]byte{cert.Raw}
	for _, c := range chain {
		if !slices.ContainsFunc(certs, func(d []byte) bool { return bytes.Equal(d, c.Raw) }) {
			certs = append(certs, c.Raw)
		}
	}
	return certs
}

func digest(h crypto.Hash, data []byte) []byte {
	w := h.New()
	w.Write(data)
	return w.Sum(nil)
}

// timeDER encodes a signing time as RFC 5652 §11.3 asks: UTCTime from 1950
// through 2049, GeneralizedTime otherwise, in UTC ("Z"), whole seconds.
func timeDER(t time.Time) ([]byte, error) {
	t = t.UTC().Truncate(time.Second)
	var b cryptobyte.Builder
	if y := t.Year(); 1950 <= y && y < 2050 {
		b.AddASN1UTCTime(t)
	} else {
		b.AddASN1GeneralizedTime(t)
	}
	return b.Bytes()
}

// attribute is an Attribute (RFC 5652 §5.3); values holds the DER of each.
type attribute struct {
	oid    asn1.ObjectIdentifier
	values [][]byte
}

// marshalAttributes returns the DER of attrs as a SET OF Attribute, tagged
// SET: the bytes signed. The SignerInfo carries them tagged [0] instead.
func marshalAttributes(attrs []attribute) ([]byte, error) {
	encoded := make([][]byte, 0, len(attrs))
	for _, a := range attrs {
		var b cryptobyte.Builder
		b.AddASN1(casn1.SEQUENCE, func(b *cryptobyte.Builder) {
			b.AddASN1ObjectIdentifier(a.oid)
			addSetOf(b, casn1.SET, a.values)
		})
		der, err := b.Bytes()
		if err != nil {
			return nil, err
		}
		encoded = append(encoded, der)
	}
	var b cryptobyte.Builder
	addSetOf(&b, casn1.SET, encoded)
	return b.Bytes()
}

// addSetOf adds a SET OF (or an IMPLICIT one, under tag) of the DER elements,
// sorted as DER requires (X.690 §11.6).
func addSetOf(b *cryptobyte.Builder, tag casn1.Tag, elems [][]byte) {
	sorted := slices.Clone(elems)
	slices.SortFunc(sorted, bytes.Compare)
	b.AddASN1(tag, func(b *cryptobyte.Builder) {
		for _, e := range sorted {
			b.AddBytes(e)
		}
	})
}

func addAlgorithm(b *cryptobyte.Builder, a algorithm) {
	b.AddASN1(casn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1ObjectIdentifier(a.oid)
		b.AddBytes(a.params)
	})
}

// marshalSignerInfo returns a version 1 SignerInfo naming cert by issuer and
// serial number; signed is the DER SET OF the signed attributes.
func marshalSignerInfo(cert *x509.Certificate, digestAlg algorithm, signed []byte, sigAlg algorithm, sig []byte) ([]byte, error) {
	var b cryptobyte.Builder
	b.AddASN1(casn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1Int64(1)
		b.AddASN1(casn1.SEQUENCE, func(b *cryptobyte.Builder) {
			b.AddBytes(cert.RawIssuer)
			b.AddASN1BigInt(cert.SerialNumber)
		})
		addAlgorithm(b, digestAlg)
		b.AddBytes(implicitSignedAttributes(signed))
		addAlgorithm(b, sigAlg)
		b.AddASN1OctetString(sig)
	})
	return b.Bytes()
}

// implicitSignedAttributes retags the DER SET OF signed attributes [0]
// IMPLICIT, as the SignerInfo carries them (RFC 5652 §5.3). Both tags are one
// byte, so the length and contents stay as they are.
func implicitSignedAttributes(set []byte) []byte {
	out := slices.Clone(set)
	out[0] = byte(tagExplicit0)
	return out
}

// signedDataParts is what marshalContentInfo assembles: eContentType is
// id-data when nil; eContent is absent when nil (a detached signature).
type signedDataParts struct {
	version          int64
	digestAlgorithms []algorithm
	eContentType     asn1.ObjectIdentifier
	eContent         []byte
	certificates     [][]byte
	signerInfos      [][]byte
}

// marshalContentInfo returns the DER of a ContentInfo holding p as SignedData.
func marshalContentInfo(p signedDataParts) ([]byte, error) {
	digestAlgs := make([][]byte, 0, len(p.digestAlgorithms))
	for _, a := range p.digestAlgorithms {
		var b cryptobyte.Builder
		addAlgorithm(&b, a)
		der, err := b.Bytes()
		if err != nil {
			return nil, err
		}
		digestAlgs = append(digestAlgs, der)
	}
	var b cryptobyte.Builder
	b.AddASN1(casn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1ObjectIdentifier(oidSignedData)
		b.AddASN1(tagExplicit0, func(b *cryptobyte.Builder) {
			b.AddASN1(casn1.SEQUENCE, func(b *cryptobyte.Builder) {
				b.AddASN1Int64(p.version)
				addSetOf(b, casn1.SET, digestAlgs)
				b.AddASN1(casn1.SEQUENCE, func(b *cryptobyte.Builder) {
					if p.eContentType != nil {
						b.AddASN1ObjectIdentifier(p.eContentType)
					} else {
						b.AddASN1ObjectIdentifier(oidData)
					}
					if p.eContent != nil {
						b.AddASN1(tagExplicit0, func(b *cryptobyte.Builder) { b.AddASN1OctetString(p.eContent) })
					}
				})
				if len(p.certificates) > 0 {
					addSetOf(b, tagExplicit0, p.certificates)
				}
				addSetOf(b, casn1.SET, p.signerInfos)
			})
		})
	})
	return b.Bytes()
}

// mustDER encodes a value that cannot fail to encode (a valid OID, an
// octet string).
func mustDER(f cryptobyte.BuilderContinuation) []byte {
	var b cryptobyte.Builder
	f(&b)
	der, err := b.Bytes()
	if err != nil {
		panic(fmt.Sprintf("cms: %v", err)) // unreachable: constant input
	}
	return der
}
