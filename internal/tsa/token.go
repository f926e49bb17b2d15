package tsa

import (
	"bytes"
	"crypto"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"fmt"
	"math/big"
	"slices"
	"strings"
	"time"

	"golang.org/x/crypto/cryptobyte"
	casn1 "golang.org/x/crypto/cryptobyte/asn1"

	"github.com/sceau/sceau/internal/cms"
	"github.com/sceau/sceau/internal/sceau"
)

// oidTSTInfo is id-ct-TSTInfo (RFC 3161 §2.4.2), the content type of a
// token; oidExtKeyUsage the extension RFC 3161 §2.3 asks critical.
var (
	oidTSTInfo     = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 16, 1, 4}
	oidExtKeyUsage = asn1.ObjectIdentifier{2, 5, 29, 37}
)

// Context-specific tags of TSTInfo and Accuracy (IMPLICIT but tsa [0],
// which is EXPLICIT: a GeneralName is a CHOICE).
var (
	tagMillis     = casn1.Tag(0).ContextSpecific()
	tagMicros     = casn1.Tag(1).ContextSpecific()
	tagTSAName    = casn1.Tag(0).ContextSpecific().Constructed()
	tagExtensions = casn1.Tag(1).ContextSpecific().Constructed()
)

// Info is what a token says (TSTInfo, RFC 3161 §2.4.2) and who signed it.
type Info struct {
	Policy   asn1.ObjectIdentifier // the TSA policy under which the token was made
	Hash     crypto.Hash           // the message imprint's algorithm
	Digest   []byte                // the message imprint
	Serial   *big.Int              // unique per TSA
	GenTime  time.Time             // UTC
	Accuracy time.Duration         // 0 when the token gives none
	Ordering bool
	Nonce    *big.Int          // nil when absent
	Signer   *x509.Certificate // the unit's certificate
}

// marshalTSTInfo returns the DER of the TSTInfo of i (Signer and Ordering
// aside: the unit does not order).
func marshalTSTInfo(i *Info) ([]byte, error) {
	oid, ok := hashOID(i.Hash)
	if !ok {
		return nil, fmt.Errorf("no algorithm for %v", i.Hash)
	}
	var b cryptobyte.Builder
	b.AddASN1(casn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1Int64(1)
		b.AddASN1ObjectIdentifier(i.Policy)
		addImprint(b, oid, i.Digest)
		b.AddASN1BigInt(i.Serial)
		b.AddASN1(casn1.GeneralizedTime, func(b *cryptobyte.Builder) { b.AddBytes([]byte(formatGenTime(i.GenTime, i.Accuracy))) })
		if i.Accuracy > 0 {
			addAccuracy(b, i.Accuracy)
		}
		if i.Nonce != nil {
			b.AddASN1BigInt(i.Nonce)
		}
	})
	return b.Bytes()
}

// formatGenTime writes t as RFC 3161 §2.4.2 asks: GeneralizedTime in UTC,
// "Z", no trailing zeros in the fraction and no dot without one. The
// fraction goes as far as the accuracy needs (none for a second or more).
func formatGenTime(t time.Time, accuracy time.Duration) string {
	t = t.UTC()
	s := t.Format("20060102150405")
	var frac string
	switch {
	case accuracy <= 0 || accuracy >= time.Second:
	case accuracy >= time.Millisecond:
		frac = fmt.Sprintf("%03d", t.Nanosecond()/int(time.Millisecond))
	default:
		frac = fmt.Sprintf("%06d", t.Nanosecond()/int(time.Microsecond))
	}
	if frac = strings.TrimRight(frac, "0"); frac != "" {
		s += "." + frac
	}
	return s + "Z"
}

// parseGenTime reads what formatGenTime writes (any number of fraction
// digits), and refuses the other forms of GeneralizedTime.
func parseGenTime(s string) (time.Time, bool) {
	if len(s) < 15 || !strings.HasSuffix(s, "Z") {
		return time.Time{}, false
	}
	body := s[:len(s)-1]
	whole, frac, dotted := strings.Cut(body, ".")
	if len(whole) != 14 || strings.Trim(whole, "0123456789") != "" {
		return time.Time{}, false
	}
	if dotted && (frac == "" || len(frac) > 9 || strings.Trim(frac, "0123456789") != "" || strings.HasSuffix(frac, "0")) {
		return time.Time{}, false
	}
	t, err := time.Parse("20060102150405", whole)
	if err != nil {
		return time.Time{}, false
	}
	if dotted {
		ns := 0
		for i := range 9 {
			ns *= 10
			if i < len(frac) {
				ns += int(frac[i] - '0')
			}
		}
		t = t.Add(time.Duration(ns))
	}
	return t.UTC(), true
}

// addAccuracy adds an Accuracy (seconds, millis, micros; absent parts are
// zero), rounded up to the microsecond.
func addAccuracy(b *cryptobyte.Builder, d time.Duration) {
	us := (d + time.Microsecond - 1) / time.Microsecond
	sec, ms, micro := int64(us/1e6), int64(us/1e3%1e3), int64(us%1e3)
	b.AddASN1(casn1.SEQUENCE, func(b *cryptobyte.Builder) {
		if sec > 0 {
			b.AddASN1Int64(sec)
		}
		if ms > 0 {
			b.AddASN1Int64WithTag(ms, tagMillis)
		}
		if micro > 0 {
			b.AddASN1Int64WithTag(micro, tagMicros)
		}
	})
}

func tokenInvalid(format string, args ...any) error {
	return sceau.Errorf(sceau.Invalid, "tsa", format, args...)
}

// parseTSTInfo parses the DER of a TSTInfo (RFC 3161 §2.4.2). It reads
// and ignores the tsa name; it refuses extensions it does not know, that
// is any marked critical.
func parseTSTInfo(der []byte) (*Info, error) {
	in := cryptobyte.String(der)
	var s cryptobyte.String
	if !in.ReadASN1(&s, casn1.SEQUENCE) || !in.Empty() {
		return nil, tokenInvalid("malformed TSTInfo")
	}
	var version int64
	if !s.ReadASN1Integer(&version) || version != 1 {
		return nil, tokenInvalid("TSTInfo version is not 1")
	}
	i := &Info{Serial: new(big.Int)}
	var imprint, alg, digest, gen cryptobyte.String
	var oid asn1.ObjectIdentifier
	if !s.ReadASN1ObjectIdentifier(&i.Policy) {
		return nil, tokenInvalid("malformed TSTInfo policy")
	}
	if !s.ReadASN1(&imprint, casn1.SEQUENCE) || !imprint.ReadASN1(&alg, casn1.SEQUENCE) || !alg.ReadASN1ObjectIdentifier(&oid) ||
		!imprint.ReadASN1(&digest, casn1.OCTET_STRING) || !imprint.Empty() {
		return nil, tokenInvalid("malformed TSTInfo message imprint")
	}
	for _, h := range hashes {
		if h.oid.Equal(oid) {
			i.Hash = h.hash
		}
	}
	if i.Hash == 0 {
		return nil, tokenInvalid("the token's message imprint algorithm %s is not SHA-256, SHA-384 or SHA-512", oid)
	}
	i.Digest = slices.Clone([]byte(digest))
	if !s.ReadASN1Integer(i.Serial) {
		return nil, tokenInvalid("malformed TSTInfo serial number")
	}
	var ok bool
	if !s.ReadASN1(&gen, casn1.GeneralizedTime) {
		return nil, tokenInvalid("malformed TSTInfo genTime")
	}
	if i.GenTime, ok = parseGenTime(string(gen)); !ok {
		return nil, tokenInvalid("the TSTInfo genTime %q is not a UTC GeneralizedTime of RFC 3161", string(gen))
	}
	if s.PeekASN1Tag(casn1.SEQUENCE) {
		if i.Accuracy, ok = readAccuracy(&s); !ok {
			return nil, tokenInvalid("malformed TSTInfo accuracy")
		}
	}
	if s.PeekASN1Tag(casn1.BOOLEAN) && !s.ReadASN1Boolean(&i.Ordering) {
		return nil, tokenInvalid("malformed TSTInfo ordering")
	}
	if s.PeekASN1Tag(casn1.INTEGER) {
		i.Nonce = new(big.Int)
		if !s.ReadASN1Integer(i.Nonce) {
			return nil, tokenInvalid("malformed TSTInfo nonce")
		}
	}
	if !s.SkipOptionalASN1(tagTSAName) {
		return nil, tokenInvalid("malformed TSTInfo tsa name")
	}
	if s.PeekASN1Tag(tagExtensions) {
		var exts cryptobyte.String
		if !s.ReadASN1(&exts, tagExtensions) {
			return nil, tokenInvalid("malformed TSTInfo extensions")
		}
		for !exts.Empty() {
			var ext cryptobyte.String
			var id asn1.ObjectIdentifier
			critical := false
			if !exts.ReadASN1(&ext, casn1.SEQUENCE) || !ext.ReadASN1ObjectIdentifier(&id) ||
				!ext.ReadOptionalASN1Boolean(&critical, casn1.BOOLEAN, false) {
				return nil, tokenInvalid("malformed TSTInfo extensions")
			}
			if critical {
				return nil, tokenInvalid("the token has a critical extension %s this verifier does not know", id)
			}
		}
	}
	if !s.Empty() {
		return nil, tokenInvalid("malformed TSTInfo: unexpected data after the known fields")
	}
	return i, nil
}

func readAccuracy(s *cryptobyte.String) (time.Duration, bool) {
	var acc cryptobyte.String
	if !s.ReadASN1(&acc, casn1.SEQUENCE) {
		return 0, false
	}
	var sec, ms, us int64
	if acc.PeekASN1Tag(casn1.INTEGER) && (!acc.ReadASN1Integer(&sec) || sec < 0 || sec > 1<<31) {
		return 0, false
	}
	if acc.PeekASN1Tag(tagMillis) && (!acc.ReadASN1Int64WithTag(&ms, tagMillis) || ms < 1 || ms > 999) {
		return 0, false
	}
	if acc.PeekASN1Tag(tagMicros) && (!acc.ReadASN1Int64WithTag(&us, tagMicros) || us < 1 || us > 999) {
		return 0, false
	}
	if !acc.Empty() {
		return 0, false
	}
	return time.Duration(sec)*time.Second + time.Duration(ms)*time.Millisecond + time.Duration(us)*time.Microsecond, true
}

// VerifyOptions say what a token must chain to and match.
type VerifyOptions struct {
	// Roots are the trust anchors of the unit's certificate. Required.
	Roots *x509.CertPool
	// Intermediates are certificates the token may not carry: the CAs
	// between the unit and a root and, for a token made without certReq,
	// the unit's certificate itself.
	Intermediates []*x509.Certificate
	// Nonce, when set, must be the token's (the request's nonce).
	Nonce *big.Int
	// Policy, when set, must be the token's (the request's reqPolicy).
	Policy asn1.ObjectIdentifier
}

// Verify checks token, an RFC 3161 time-stamp token (a ContentInfo holding
// a SignedData of a TSTInfo, DER or PEM), for the message imprint (hash,
// digest) and returns what it says.
//
// It checks the CMS signature and that the ESS signingCertificate(V2)
// attribute binds the signer's certificate (RFC 3161 §2.4.1); that this
// certificate has timeStamping as its only extended key usage, critical
// (§2.3), and chains to o.Roots with that usage at genTime; that the
// message imprint is (hash, digest); and o.Nonce and o.Policy when set.
// Every refusal is an error of kind sceau.Invalid whose message starts
// "tsa: "; it never panics.
func Verify(token, digest []byte, hash crypto.Hash, o VerifyOptions) (*Info, error) {
	if o.Roots == nil {
		return nil, sceau.Errorf(sceau.Invalid, "tsa", "verify: no roots given")
	}
	e, err := cms.VerifyEncapsulated(token, o.Intermediates)
	if err != nil {
		return nil, sceau.E(sceau.Invalid, "tsa", "the token's signature", err)
	}
	if !e.ContentType.Equal(oidTSTInfo) {
		return nil, tokenInvalid("the token holds %s, not a TSTInfo (id-ct-TSTInfo)", e.ContentType)
	}
	if !e.SignerBound {
		return nil, tokenInvalid("the token has no ESS signing certificate attribute (RFC 3161 §2.4.1)")
	}
	info, err := parseTSTInfo(e.Content)
	if err != nil {
		return nil, err
	}
	info.Signer = e.Signer
	if err := checkUnitCertificate(e.Signer); err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	for _, c := range append(slices.Clip(e.Certificates), o.Intermediates...) {
		pool.AddCert(c)
	}
	if _, err := e.Signer.Verify(x509.VerifyOptions{Roots: o.Roots, Intermediates: pool, CurrentTime: info.GenTime,
		KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageTimeStamping}}); err != nil {
		return nil, sceau.E(sceau.Invalid, "tsa", fmt.Sprintf("the unit's certificate %q does not chain to the roots for time-stamping at %s",
			e.Signer.Subject.String(), info.GenTime.Format(time.RFC3339)), err)
	}
	if info.Hash != hash || !bytes.Equal(info.Digest, digest) {
		return nil, tokenInvalid("the token is for another message imprint (%v %x), not %v %x", info.Hash, info.Digest, hash, digest)
	}
	if o.Nonce != nil && (info.Nonce == nil || info.Nonce.Cmp(o.Nonce) != 0) {
		return nil, tokenInvalid("the token's nonce is not the request's")
	}
	if o.Policy != nil && !info.Policy.Equal(o.Policy) {
		return nil, tokenInvalid("the token's policy %s is not the requested %s", info.Policy, o.Policy)
	}
	return info, nil
}

// checkUnitCertificate refuses a certificate a unit may not sign with:
// RFC 3161 §2.3 asks timeStamping as its only extended key usage, the
// extension critical; its key usage, if any, must allow digitalSignature.
func checkUnitCertificate(c *x509.Certificate) error {
	critical := slices.ContainsFunc(c.Extensions, func(e pkix.Extension) bool { return e.Id.Equal(oidExtKeyUsage) && e.Critical })
	if len(c.ExtKeyUsage) != 1 || c.ExtKeyUsage[0] != x509.ExtKeyUsageTimeStamping || len(c.UnknownExtKeyUsage) != 0 {
		return tokenInvalid("the certificate %q does not have timeStamping as its only extended key usage (RFC 3161 §2.3)", c.Subject.String())
	}
	if !critical {
		return tokenInvalid("the extended key usage of certificate %q is not critical (RFC 3161 §2.3)", c.Subject.String())
	}
	if c.KeyUsage != 0 && c.KeyUsage&x509.KeyUsageDigitalSignature == 0 {
		return tokenInvalid("the key usage of certificate %q does not allow digitalSignature", c.Subject.String())
	}
	return nil
}
