package cms

import (
	"bytes"
	"crypto"
	"crypto/x509"
	"encoding/asn1"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"math/big"
	"slices"
	"time"

	"golang.org/x/crypto/cryptobyte"
	casn1 "golang.org/x/crypto/cryptobyte/asn1"

	"github.com/sceau/sceau/internal/sceau"
)

// Signed is what a verified signature says.
type Signed struct {
	Signer       *x509.Certificate   // the certificate whose key made the signature
	Certificates []*x509.Certificate // every certificate the signature carries (signer included), in its order
	SigningTime  time.Time           // in UTC; zero when absent
}

// VerifyDetached checks sig, a detached CMS signature (RFC 5652 §5) of
// content: the DER of a ContentInfo holding a SignedData, or a PEM block of
// type "CMS" or "PKCS7" holding it.
//
// It finds the signer's certificate among those sig carries (by
// IssuerAndSerialNumber or SubjectKeyIdentifier), checks the signature over
// the signed attributes with its public key, that the contentType attribute
// is id-data, that the messageDigest attribute is the digest of content,
// and, when present, that the CMSAlgorithmProtection attribute (RFC 6211)
// names the algorithms used. It refuses a SignedData that holds its content
// (eContent), with no or several SignerInfos, or without signed attributes.
//
// It does NOT validate the chain, nor the signer's validity or key usage:
// the caller does, with x509.Certificate.Verify, Signed.Certificates as
// intermediates and its own roots. Every refusal is an error of kind
// sceau.Invalid, "cms: " and what is wrong; it never panics.
func VerifyDetached(sig, content []byte) (*Signed, error) {
	der, err := unwrapPEM(sig)
	if err != nil {
		return nil, err
	}
	sd, err := parseContentInfo(der)
	if err != nil {
		return nil, err
	}
	if !sd.eContentType.Equal(oidData) {
		return nil, invalid("the encapsulated content type is %s, not id-data", sd.eContentType)
	}
	if sd.eContent != nil {
		return nil, invalid("the signed data holds its content (eContent); a detached signature must not")
	}
	signer, attrs, hash, err := checkSignerInfo(sd, nil)
	if err != nil {
		return nil, err
	}
	if !attrs.contentType.Equal(oidData) {
		return nil, invalid("the content type attribute is %s, not id-data", attrs.contentType)
	}
	if !bytes.Equal(attrs.messageDigest, digest(hash, content)) {
		return nil, invalid("the content does not match the signature's message digest")
	}
	return &Signed{Signer: signer, Certificates: sd.certificates, SigningTime: attrs.signingTime}, nil
}

// checkSignerInfo finds the signer of sd among the certificates it carries
// and extra, parses the signed attributes and checks the signature over
// them; the caller checks what the attributes say of the content.
func checkSignerInfo(sd *signedData, extra []*x509.Certificate) (*x509.Certificate, *signedAttributes, crypto.Hash, error) {
	si := sd.signerInfo
	candidates := append(slices.Clip(sd.certificates), extra...)
	i := slices.IndexFunc(candidates, si.matches)
	if i < 0 {
		return nil, nil, 0, invalid("the signature does not carry the signer's certificate (%s)", si.describe())
	}
	signer := candidates[i]
	attrs, err := parseSignedAttributes(si.signedAttrs)
	if err != nil {
		return nil, nil, 0, err
	}
	hash, alg, err := checkAlgorithms(si, signer)
	if err != nil {
		return nil, nil, 0, err
	}
	if p := attrs.protection; p != nil {
		if !p.digest.equal(si.digestAlg) || !p.signature.equal(si.signatureAlg) {
			return nil, nil, 0, invalid("the CMSAlgorithmProtection attribute names other algorithms than the signer info (RFC 6211)")
		}
	}
	if err := signer.CheckSignature(alg, si.signedAttrs, si.signature); err != nil {
		return nil, nil, 0, sceau.E(sceau.Invalid, "cms", "the signature does not verify with the signer's public key", err)
	}
	return signer, attrs, hash, nil
}

func invalid(format string, args ...any) error {
	return sceau.Errorf(sceau.Invalid, "cms", format, args...)
}

// unwrapPEM returns the DER of sig, a copy (the certificates parsed from it
// keep references to it), taken out of its PEM block if it has one.
func unwrapPEM(sig []byte) ([]byte, error) {
	trimmed := bytes.TrimLeft(sig, " \t\r\n")
	if !bytes.HasPrefix(trimmed, []byte("-----BEGIN ")) {
		return bytes.Clone(sig), nil
	}
	block, rest := pem.Decode(trimmed)
	if block == nil {
		return nil, invalid("malformed pem block")
	}
	if block.Type != "CMS" && block.Type != "PKCS7" {
		return nil, invalid(`a pem block of type %q, not "CMS" or "PKCS7"`, block.Type)
	}
	if len(bytes.TrimSpace(rest)) > 0 {
		return nil, invalid("data after the pem block")
	}
	return block.Bytes, nil
}

// signedData is the part of a SignedData that VerifyDetached and
// VerifyEncapsulated use.
type signedData struct {
	eContentType asn1.ObjectIdentifier
	eContent     []byte // nil when absent (detached); a DER OCTET STRING's contents otherwise
	certificates []*x509.Certificate
	signerInfo   *signerInfo
}

// parseContentInfo parses a ContentInfo holding a SignedData with one
// SignerInfo (RFC 5652 §3, §5.1); the caller checks its content type and
// whether it must hold its content.
func parseContentInfo(der []byte) (*signedData, error) {
	in := cryptobyte.String(der)
	var ci, explicit, sd cryptobyte.String
	var contentType asn1.ObjectIdentifier
	if !in.ReadASN1(&ci, casn1.SEQUENCE) || !ci.ReadASN1ObjectIdentifier(&contentType) {
		return nil, invalid("malformed content info")
	}
	if !in.Empty() {
		return nil, invalid("data after the content info")
	}
	if !contentType.Equal(oidSignedData) {
		return nil, invalid("the content info holds %s, not signed data", contentType)
	}
	if !ci.ReadASN1(&explicit, tagExplicit0) || !ci.Empty() ||
		!explicit.ReadASN1(&sd, casn1.SEQUENCE) || !explicit.Empty() {
		return nil, invalid("malformed content info")
	}

	var version int64
	if !sd.ReadASN1Integer(&version) {
		return nil, invalid("malformed signed data version")
	}
	if version != 1 && version != 3 && version != 4 && version != 5 {
		return nil, invalid("signed data version %d is not one of RFC 5652 (1, 3, 4, 5)", version)
	}
	var digestAlgs cryptobyte.String
	if !sd.ReadASN1(&digestAlgs, casn1.SET) {
		return nil, invalid("malformed signed data digest algorithms")
	}
	for !digestAlgs.Empty() {
		if _, ok := readAlgorithm(&digestAlgs); !ok {
			return nil, invalid("malformed signed data digest algorithms")
		}
	}

	var encap cryptobyte.String
	var eContentType asn1.ObjectIdentifier
	if !sd.ReadASN1(&encap, casn1.SEQUENCE) || !encap.ReadASN1ObjectIdentifier(&eContentType) {
		return nil, invalid("malformed encapsulated content info")
	}
	out := &signedData{eContentType: eContentType}
	if encap.PeekASN1Tag(tagExplicit0) {
		var explicit, content cryptobyte.String
		if !encap.ReadASN1(&explicit, tagExplicit0) || !explicit.ReadASN1(&content, casn1.OCTET_STRING) || !explicit.Empty() {
			return nil, invalid("malformed encapsulated content")
		}
		out.eContent = append([]byte{}, content...)
	}
	if !encap.Empty() {
		return nil, invalid("malformed encapsulated content info")
	}

	var certs cryptobyte.String
	var present bool
	if !sd.ReadOptionalASN1(&certs, &present, tagExplicit0) {
		return nil, invalid("malformed signed data certificates")
	}
	for n := 0; !certs.Empty(); n++ {
		var elem cryptobyte.String
		var tag casn1.Tag
		if !certs.ReadAnyASN1Element(&elem, &tag) {
			return nil, invalid("malformed signed data certificates")
		}
		if tag != casn1.SEQUENCE {
			continue // an attribute or other certificate (RFC 5652 §10.2.2): not ours to use
		}
		c, err := x509.ParseCertificate(elem)
		if err != nil {
			return nil, sceau.E(sceau.Invalid, "cms", fmt.Sprintf("certificate %d of the signature does not parse", n), err)
		}
		out.certificates = append(out.certificates, c)
	}
	if !sd.SkipOptionalASN1(tagImplicit1) {
		return nil, invalid("malformed signed data crls")
	}

	var infos cryptobyte.String
	if !sd.ReadASN1(&infos, casn1.SET) || !sd.Empty() {
		return nil, invalid("malformed signed data signer infos")
	}
	var elems []cryptobyte.String
	for !infos.Empty() {
		var e cryptobyte.String
		if !infos.ReadASN1(&e, casn1.SEQUENCE) {
			return nil, invalid("malformed signed data signer infos")
		}
		elems = append(elems, e)
	}
	switch len(elems) {
	case 0:
		return nil, invalid("the signed data has no signer info")
	case 1:
	default:
		return nil, invalid("the signed data has %d signer infos; one is expected", len(elems))
	}
	si, err := parseSignerInfo(elems[0])
	if err != nil {
		return nil, err
	}
	out.signerInfo = si
	return out, nil
}

// signerInfo is a parsed SignerInfo (RFC 5652 §5.3).
type signerInfo struct {
	issuer       []byte   // the DER Name of the IssuerAndSerialNumber sid…
	serial       *big.Int // …and its serial number
	keyID        []byte   // or the SubjectKeyIdentifier sid
	digestAlg    algorithm
	signedAttrs  []byte // the DER SET OF, tagged SET: the bytes signed
	signatureAlg algorithm
	signature    []byte
}

// parseSignerInfo parses the contents of a SignerInfo SEQUENCE.
func parseSignerInfo(s cryptobyte.String) (*signerInfo, error) {
	si := &signerInfo{}
	var version int64
	if !s.ReadASN1Integer(&version) {
		return nil, invalid("malformed signer info version")
	}
	switch {
	case s.PeekASN1Tag(casn1.SEQUENCE):
		var ias cryptobyte.String
		var issuer cryptobyte.String
		si.serial = new(big.Int)
		if !s.ReadASN1(&ias, casn1.SEQUENCE) || !ias.ReadASN1Element(&issuer, casn1.SEQUENCE) ||
			!ias.ReadASN1Integer(si.serial) || !ias.Empty() {
			return nil, invalid("malformed signer info issuer and serial number")
		}
		si.issuer = issuer
		if version != 1 {
			return nil, invalid("signer info version %d with an issuer and serial number; RFC 5652 §5.3 asks 1", version)
		}
	case s.PeekASN1Tag(tagKeyID):
		var keyID cryptobyte.String
		if !s.ReadASN1(&keyID, tagKeyID) {
			return nil, invalid("malformed signer info subject key identifier")
		}
		si.keyID = keyID
		if version != 3 {
			return nil, invalid("signer info version %d with a subject key identifier; RFC 5652 §5.3 asks 3", version)
		}
	default:
		return nil, invalid("malformed signer info signer identifier")
	}
	var ok bool
	if si.digestAlg, ok = readAlgorithm(&s); !ok {
		return nil, invalid("malformed signer info digest algorithm")
	}
	if !s.PeekASN1Tag(tagExplicit0) {
		return nil, invalid("the signer info has no signed attributes")
	}
	var attrs cryptobyte.String
	if !s.ReadASN1Element(&attrs, tagExplicit0) {
		return nil, invalid("malformed signer info signed attributes")
	}
	// RFC 5652 §5.4: the signature is over the attributes tagged SET.
	si.signedAttrs = slices.Clone([]byte(attrs))
	si.signedAttrs[0] = byte(casn1.SET)
	if si.signatureAlg, ok = readAlgorithm(&s); !ok {
		return nil, invalid("malformed signer info signature algorithm")
	}
	var sig cryptobyte.String
	if !s.ReadASN1(&sig, casn1.OCTET_STRING) {
		return nil, invalid("malformed signer info signature")
	}
	si.signature = sig
	if !s.SkipOptionalASN1(tagImplicit1) || !s.Empty() {
		return nil, invalid("malformed signer info unsigned attributes")
	}
	return si, nil
}

func (si *signerInfo) matches(c *x509.Certificate) bool {
	if si.keyID != nil {
		return len(c.SubjectKeyId) > 0 && bytes.Equal(c.SubjectKeyId, si.keyID)
	}
	return bytes.Equal(c.RawIssuer, si.issuer) && c.SerialNumber != nil && c.SerialNumber.Cmp(si.serial) == 0
}

func (si *signerInfo) describe() string {
	if si.keyID != nil {
		return "subject key identifier " + hex.EncodeToString(si.keyID)
	}
	return "serial number " + si.serial.Text(16)
}

// checkAlgorithms returns the digest of si and the x509 algorithm that
// checks its signature by signer, or why they are refused.
func checkAlgorithms(si *signerInfo, signer *x509.Certificate) (crypto.Hash, x509.SignatureAlgorithm, error) {
	hash, ok := digestHash(si.digestAlg.oid)
	if !ok {
		return 0, 0, invalid("the digest algorithm %s is not supported (SHA-256, SHA-384, SHA-512 are)", si.digestAlg.oid)
	}
	if !si.digestAlg.paramsAbsentOrNULL() {
		return 0, 0, invalid("the digest algorithm %s has parameters", si.digestAlg.oid)
	}
	i := slices.IndexFunc(signatureAlgorithms, func(a signatureAlgorithm) bool { return a.oid.Equal(si.signatureAlg.oid) })
	if i < 0 {
		return 0, 0, invalid("the signature algorithm %s is not supported", si.signatureAlg.oid)
	}
	sa := signatureAlgorithms[i]
	if !si.signatureAlg.paramsAbsentOrNULL() {
		return 0, 0, invalid("the signature algorithm %s has parameters", si.signatureAlg.oid)
	}
	if sa.key != signer.PublicKeyAlgorithm {
		return 0, 0, invalid("the signature algorithm %s does not fit the signer's %v key", si.signatureAlg.oid, signer.PublicKeyAlgorithm)
	}
	if sa.hash != 0 && sa.hash != hash {
		return 0, 0, invalid("the signature algorithm %s needs %v but the digest algorithm is %v", si.signatureAlg.oid, sa.hash, hash)
	}
	return hash, x509Algorithm(sa.key, hash), nil
}

// readAlgorithm reads an AlgorithmIdentifier, keeping its parameters raw.
func readAlgorithm(s *cryptobyte.String) (algorithm, bool) {
	var seq cryptobyte.String
	var a algorithm
	if !s.ReadASN1(&seq, casn1.SEQUENCE) || !seq.ReadASN1ObjectIdentifier(&a.oid) {
		return algorithm{}, false
	}
	if !seq.Empty() {
		var params cryptobyte.String
		var tag casn1.Tag
		if !seq.ReadAnyASN1Element(&params, &tag) || !seq.Empty() {
			return algorithm{}, false
		}
		a.params = params
	}
	return a, true
}

func (a algorithm) paramsAbsentOrNULL() bool {
	return len(a.params) == 0 || bytes.Equal(a.params, asn1NULL)
}

// equal compares two identifiers, absent parameters and NULL alike.
func (a algorithm) equal(b algorithm) bool {
	if !a.oid.Equal(b.oid) {
		return false
	}
	if a.paramsAbsentOrNULL() && b.paramsAbsentOrNULL() {
		return true
	}
	return bytes.Equal(a.params, b.params)
}

// signedAttributes are the signed attributes VerifyDetached reads; it
// ignores the others (smimeCapabilities and the like).
type signedAttributes struct {
	contentType   asn1.ObjectIdentifier
	messageDigest []byte
	signingTime   time.Time
	protection    *algorithmProtection
	// The DER of the ESS signingCertificate (RFC 2634 §5.4) and
	// signingCertificateV2 (RFC 5035 §3) values, nil when absent;
	// essBinding reads them.
	signingCert, signingCertV2 []byte
}

// algorithmProtection is a CMSAlgorithmProtection attribute (RFC 6211 §2).
type algorithmProtection struct {
	digest, signature algorithm
}

// parseSignedAttributes parses set, the DER SET OF Attribute. RFC 5652
// §11 gives contentType, messageDigest and signingTime one value each and
// allows one instance of each; RFC 6211 §2 the same for the protection.
// RFC 5652 §5.3 asks the set in DER, so sorted: openssl re-encodes it
// before checking the signature and would refuse what is not.
func parseSignedAttributes(set []byte) (*signedAttributes, error) {
	s := cryptobyte.String(set)
	var attrs cryptobyte.String
	if !s.ReadASN1(&attrs, casn1.SET) || !s.Empty() {
		return nil, invalid("malformed signed attributes")
	}
	out := &signedAttributes{}
	var seen []asn1.ObjectIdentifier
	var previous []byte
	for !attrs.Empty() {
		var elem, attr, values cryptobyte.String
		var oid asn1.ObjectIdentifier
		if !attrs.ReadASN1Element(&elem, casn1.SEQUENCE) {
			return nil, invalid("malformed signed attribute")
		}
		if bytes.Compare(previous, elem) > 0 {
			return nil, invalid("the signed attributes are not in DER order (RFC 5652 §5.3)")
		}
		previous = elem
		if !elem.ReadASN1(&attr, casn1.SEQUENCE) || !attr.ReadASN1ObjectIdentifier(&oid) ||
			!attr.ReadASN1(&values, casn1.SET) || !attr.Empty() {
			return nil, invalid("malformed signed attribute")
		}
		name, known := attributeName(oid)
		if !known {
			continue
		}
		if slices.ContainsFunc(seen, oid.Equal) {
			return nil, invalid("the %s attribute appears twice", name)
		}
		seen = append(seen, oid)
		var value cryptobyte.String
		if !values.ReadAnyASN1Element(&value, new(casn1.Tag)) || !values.Empty() {
			return nil, invalid("the %s attribute must have exactly one value", name)
		}
		var ok bool
		switch name {
		case "content type":
			ok = value.ReadASN1ObjectIdentifier(&out.contentType)
		case "message digest":
			var d cryptobyte.String
			ok = value.ReadASN1(&d, casn1.OCTET_STRING)
			out.messageDigest = d
		case "signing time":
			if value.PeekASN1Tag(casn1.UTCTime) {
				ok = value.ReadASN1UTCTime(&out.signingTime)
			} else {
				ok = value.ReadASN1GeneralizedTime(&out.signingTime)
			}
			out.signingTime = out.signingTime.UTC()
		case "algorithm protection":
			out.protection, ok = readAlgorithmProtection(&value)
		case "signing certificate":
			out.signingCert, value, ok = slices.Clone([]byte(value)), nil, true
		case "signing certificate v2":
			out.signingCertV2, value, ok = slices.Clone([]byte(value)), nil, true
		}
		if !ok || !value.Empty() {
			return nil, invalid("malformed %s attribute", name)
		}
	}
	switch {
	case out.contentType == nil:
		return nil, invalid("the signed attributes have no content type")
	case out.messageDigest == nil:
		return nil, invalid("the signed attributes have no message digest")
	}
	return out, nil
}

func attributeName(oid asn1.ObjectIdentifier) (string, bool) {
	switch {
	case oid.Equal(oidContentType):
		return "content type", true
	case oid.Equal(oidMessageDigest):
		return "message digest", true
	case oid.Equal(oidSigningTime):
		return "signing time", true
	case oid.Equal(oidAlgorithmProtection):
		return "algorithm protection", true
	case oid.Equal(oidSigningCertificate):
		return "signing certificate", true
	case oid.Equal(oidSigningCertificateV2):
		return "signing certificate v2", true
	}
	return "", false
}

// readAlgorithmProtection reads a CMSAlgorithmProtection (RFC 6211 §2,
// IMPLICIT tags): a digest algorithm, then [1] the signature algorithm; a
// [2] MAC algorithm has no place in a signature.
func readAlgorithmProtection(s *cryptobyte.String) (*algorithmProtection, bool) {
	var seq, sig cryptobyte.String
	p := &algorithmProtection{}
	var ok bool
	if !s.ReadASN1(&seq, casn1.SEQUENCE) {
		return nil, false
	}
	if p.digest, ok = readAlgorithm(&seq); !ok {
		return nil, false
	}
	if !seq.ReadASN1(&sig, tagImplicit1) || !seq.Empty() || !sig.ReadASN1ObjectIdentifier(&p.signature.oid) {
		return nil, false
	}
	if !sig.Empty() {
		var tag casn1.Tag
		var params cryptobyte.String
		if !sig.ReadAnyASN1Element(&params, &tag) || !sig.Empty() {
			return nil, false
		}
		p.signature.params = params
	}
	return p, true
}
