package cms

import (
	"bytes"
	"crypto"
	"crypto/sha1" // RFC 2634 §5.4: the ESSCertID hash is SHA-1; only read, never written
	"crypto/x509"
	"encoding/asn1"
	"math/big"

	"golang.org/x/crypto/cryptobyte"
	casn1 "golang.org/x/crypto/cryptobyte/asn1"

	"github.com/sceau/sceau/internal/sceau"
)

// tagDirectoryName is the directoryName choice of a GeneralName ([4],
// explicit since Name is a CHOICE; RFC 5280 §4.2.1.6).
var tagDirectoryName = casn1.Tag(4).ContextSpecific().Constructed()

// EncapsulateOptions tune SignEncapsulated.
type EncapsulateOptions struct {
	// OmitCertificates leaves the certificates field out: the verifier
	// has the signer's certificate already (RFC 3161 §2.4.1: a request
	// without certReq gets a token without certificates).
	OmitCertificates bool
}

// Encapsulated is what a verified SignedData holding its content says.
type Encapsulated struct {
	Signed
	ContentType asn1.ObjectIdentifier // eContentType
	Content     []byte                // eContent
	// SignerBound is true when an ESS signingCertificate (RFC 2634) or
	// signingCertificateV2 (RFC 5035) attribute is present: its first
	// ESSCertID names Signer (VerifyEncapsulated refuses one that names
	// another certificate), so the certificate cannot be swapped for
	// another with the same key.
	SignerBound bool
}

// SignEncapsulated returns the DER of a ContentInfo holding a CMS
// SignedData (RFC 5652 §5) that carries content (eContent) of type
// contentType, as an RFC 3161 time-stamp token does (id-ct-TSTInfo).
//
// The signed attributes are contentType (contentType), messageDigest and
// the ESS signingCertificateV2 (RFC 5035 §3) holding one ESSCertIDv2 of
// cert: its SHA-256 hash and its IssuerSerial. No signingTime: the content
// says the time if it must. Digest and signature follow the key as in
// SignDetached; the SignedData is version 3 unless contentType is id-data
// (RFC 5652 §5.1). The certificates field holds cert and chain, each once,
// unless o.OmitCertificates.
//
// signer must hold cert's key (an Invalid error otherwise). The signature is
// checked before it is returned.
func SignEncapsulated(contentType asn1.ObjectIdentifier, content []byte, signer crypto.Signer, cert *x509.Certificate, chain []*x509.Certificate, o EncapsulateOptions) ([]byte, error) {
	const op = "cms: sign"
	if signer == nil || cert == nil {
		return nil, sceau.Errorf(sceau.Invalid, op, "a signer and its certificate are required")
	}
	if len(contentType) < 2 {
		return nil, sceau.Errorf(sceau.Invalid, op, "a content type is required")
	}
	if content == nil {
		content = []byte{}
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
	hash, sigAlg, err := signingProfile(cert.PublicKey)
	if err != nil {
		return nil, err
	}
	ess, err := signingCertificateV2(cert)
	if err != nil {
		return nil, sceau.E(sceau.Internal, op, "", err)
	}
	var ct cryptobyte.Builder
	ct.AddASN1ObjectIdentifier(contentType)
	ctDER, err := ct.Bytes()
	if err != nil {
		return nil, sceau.Errorf(sceau.Invalid, op, "the content type %s cannot be encoded", contentType)
	}
	attrs := []attribute{
		{oidContentType, [][]byte{ctDER}},
		{oidMessageDigest, [][]byte{mustDER(func(b *cryptobyte.Builder) { b.AddASN1OctetString(digest(hash, content)) })}},
		{oidSigningCertificateV2, [][]byte{ess}},
	}
	si, err := signAttributes(op, signer, cert, hash, sigAlg, attrs)
	if err != nil {
		return nil, err
	}
	parts := signedDataParts{
		version:          3,
		digestAlgorithms: []algorithm{digestAlgorithm(hash)},
		eContentType:     contentType,
		eContent:         content,
		signerInfos:      [][]byte{si},
	}
	if contentType.Equal(oidData) {
		parts.version = 1
	}
	if !o.OmitCertificates {
		parts.certificates = certificateSet(cert, chain)
	}
	der, err := marshalContentInfo(parts)
	if err != nil {
		return nil, sceau.E(sceau.Internal, op, "", err)
	}
	e, err := VerifyEncapsulated(der, []*x509.Certificate{cert})
	if err != nil || !e.SignerBound || !e.Signer.Equal(cert) || !bytes.Equal(e.Content, content) {
		return nil, sceau.E(sceau.Internal, op, "the signature just made does not verify", err)
	}
	return der, nil
}

// signingCertificateV2 returns the DER of a SigningCertificateV2 (RFC 5035
// §3) naming cert: its SHA-256 hash (the default algorithm, so omitted in
// DER) and IssuerSerial, without policies.
func signingCertificateV2(cert *x509.Certificate) ([]byte, error) {
	var b cryptobyte.Builder
	b.AddASN1(casn1.SEQUENCE, func(b *cryptobyte.Builder) { // SigningCertificateV2
		b.AddASN1(casn1.SEQUENCE, func(b *cryptobyte.Builder) { // certs
			b.AddASN1(casn1.SEQUENCE, func(b *cryptobyte.Builder) { // ESSCertIDv2
				b.AddASN1OctetString(digest(crypto.SHA256, cert.Raw))
				b.AddASN1(casn1.SEQUENCE, func(b *cryptobyte.Builder) { // IssuerSerial
					b.AddASN1(casn1.SEQUENCE, func(b *cryptobyte.Builder) { // GeneralNames
						b.AddASN1(tagDirectoryName, func(b *cryptobyte.Builder) { b.AddBytes(cert.RawIssuer) })
					})
					b.AddASN1BigInt(cert.SerialNumber)
				})
			})
		})
	})
	return b.Bytes()
}

// VerifyEncapsulated checks sig, a CMS SignedData (RFC 5652 §5) holding its
// content: the DER of a ContentInfo, or a PEM block of type "CMS" or
// "PKCS7" holding it, and returns the content with its type.
//
// It finds the signer's certificate among those sig carries and certs (a
// token made without certificates), checks the signature over the signed
// attributes, that the contentType attribute is the eContentType, that the
// messageDigest attribute is the digest of the eContent, the
// CMSAlgorithmProtection attribute when present (RFC 6211), and that an ESS
// signingCertificate or signingCertificateV2 attribute, when present, names
// the signer's certificate first (Encapsulated.SignerBound). It refuses a
// detached signature, and a SignedData with no or several SignerInfos.
//
// Like VerifyDetached it checks the signature, not trust. Every refusal is
// an error of kind sceau.Invalid, "cms: " and what is wrong; it never
// panics.
func VerifyEncapsulated(sig []byte, certs []*x509.Certificate) (*Encapsulated, error) {
	der, err := unwrapPEM(sig)
	if err != nil {
		return nil, err
	}
	sd, err := parseContentInfo(der)
	if err != nil {
		return nil, err
	}
	if sd.eContent == nil {
		return nil, invalid("the signed data does not hold its content (eContent is absent)")
	}
	for i, c := range certs {
		if c == nil {
			return nil, invalid("certificate %d given to the verification is nil", i)
		}
	}
	signer, attrs, hash, err := checkSignerInfo(sd, certs)
	if err != nil {
		return nil, err
	}
	if !attrs.contentType.Equal(sd.eContentType) {
		return nil, invalid("the content type attribute is %s, not the encapsulated content type %s", attrs.contentType, sd.eContentType)
	}
	if !bytes.Equal(attrs.messageDigest, digest(hash, sd.eContent)) {
		return nil, invalid("the encapsulated content does not match the signature's message digest")
	}
	bound, err := essBinding(attrs, signer)
	if err != nil {
		return nil, err
	}
	return &Encapsulated{
		Signed:      Signed{Signer: signer, Certificates: sd.certificates, SigningTime: attrs.signingTime},
		ContentType: sd.eContentType, Content: sd.eContent, SignerBound: bound,
	}, nil
}

// essBinding checks the ESS signing certificate attributes against signer:
// false when there is none; an error when one names another certificate.
func essBinding(attrs *signedAttributes, signer *x509.Certificate) (bool, error) {
	if attrs.signingCertV2 != nil {
		if err := checkESSCertID(attrs.signingCertV2, true, signer); err != nil {
			return false, err
		}
	}
	if attrs.signingCert != nil {
		if err := checkESSCertID(attrs.signingCert, false, signer); err != nil {
			return false, err
		}
	}
	return attrs.signingCertV2 != nil || attrs.signingCert != nil, nil
}

// checkESSCertID reads a SigningCertificate (v2: SigningCertificateV2) and
// checks that its first ESSCertID is of signer (RFC 5035 §3: the first
// identifies the signer's certificate; the others may be ignored).
func checkESSCertID(value []byte, v2 bool, signer *x509.Certificate) error {
	name := "signing certificate"
	if v2 {
		name = "signing certificate v2"
	}
	s := cryptobyte.String(value)
	var sc, ids, id cryptobyte.String
	if !s.ReadASN1(&sc, casn1.SEQUENCE) || !s.Empty() || !sc.ReadASN1(&ids, casn1.SEQUENCE) ||
		!sc.SkipOptionalASN1(casn1.SEQUENCE) || !sc.Empty() || !ids.ReadASN1(&id, casn1.SEQUENCE) {
		return invalid("malformed %s attribute", name)
	}
	hash := crypto.SHA1
	if v2 {
		hash = crypto.SHA256 // RFC 5035 §4: DEFAULT {algorithm id-sha256}
		if id.PeekASN1Tag(casn1.SEQUENCE) {
			alg, ok := readAlgorithm(&id)
			if !ok {
				return invalid("malformed %s attribute", name)
			}
			if hash, ok = digestHash(alg.oid); !ok || !alg.paramsAbsentOrNULL() {
				return invalid("the %s attribute hashes with %s, not SHA-256, SHA-384 or SHA-512", name, alg.oid)
			}
		}
	}
	var certHash cryptobyte.String
	if !id.ReadASN1(&certHash, casn1.OCTET_STRING) {
		return invalid("malformed %s attribute", name)
	}
	var want []byte
	if hash == crypto.SHA1 {
		h := sha1.Sum(signer.Raw)
		want = h[:]
	} else {
		want = digest(hash, signer.Raw)
	}
	if !bytes.Equal(certHash, want) {
		return invalid("the %s attribute names another certificate than the signer's", name)
	}
	if id.Empty() {
		return nil
	}
	var issuerSerial, names cryptobyte.String
	serial := new(big.Int)
	if !id.ReadASN1(&issuerSerial, casn1.SEQUENCE) || !id.Empty() ||
		!issuerSerial.ReadASN1(&names, casn1.SEQUENCE) || !issuerSerial.ReadASN1Integer(serial) || !issuerSerial.Empty() {
		return invalid("malformed %s attribute issuer serial", name)
	}
	if signer.SerialNumber == nil || serial.Cmp(signer.SerialNumber) != 0 {
		return invalid("the %s attribute names serial number %s, not the signer's", name, serial.Text(16))
	}
	found := false
	for !names.Empty() {
		var gn cryptobyte.String
		var tag casn1.Tag
		if !names.ReadAnyASN1(&gn, &tag) {
			return invalid("malformed %s attribute issuer serial", name)
		}
		if tag == tagDirectoryName && bytes.Equal(gn, signer.RawIssuer) {
			found = true
		}
	}
	if !found {
		return invalid("the %s attribute names another issuer than the signer's", name)
	}
	return nil
}
