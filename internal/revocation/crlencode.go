package revocation

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// createCRL makes the same DER as x509.CreateRevocationList (CA-3: each
// CA's numbered CRL), faster on long lists: encoding/asn1 spends most of a million-entry CRL in
// reflection (issue 13: a CRL of 1M entries within 1.5× of the bare
// library call). The list's frame (version, algorithm, issuer, dates,
// extensions) is still built by the standard library, over no entries
// and signed with a throwaway key of the CA key's type, so that the CA key
// never signs anything but the CRL that is published; the entries are
// encoded here, spliced in, and the whole is signed once by the CA key and
// checked against the issuer's certificate, as the library does.
// TestCA3_CRLEncodingIsTheStandardLibrarys proves the bytes are the same.
func createCRL(tmpl *x509.RevocationList, issuer *x509.Certificate, key crypto.Signer) ([]byte, error) {
	frameKey, ok := throwawayLike(key.Public())
	if !ok || tmpl.SignatureAlgorithm != x509.UnknownSignatureAlgorithm || len(tmpl.RevokedCertificates) > 0 {
		return x509.CreateRevocationList(rand.Reader, tmpl, issuer, key)
	}
	entries, err := encodeEntries(tmpl.RevokedCertificateEntries)
	if errors.Is(err, errNotFast) {
		return x509.CreateRevocationList(rand.Reader, tmpl, issuer, key)
	}
	if err != nil {
		return nil, err
	}
	head := *tmpl
	head.RevokedCertificateEntries = nil
	frameDER, err := x509.CreateRevocationList(rand.Reader, &head, issuer, frameKey)
	if err != nil {
		return nil, err
	}
	frame, err := x509.ParseRevocationList(frameDER)
	if err != nil {
		return nil, fmt.Errorf("revocation: the CRL frame does not parse: %w", err)
	}
	opts, ok := signerOptsOf(frame.SignatureAlgorithm)
	if !ok {
		return x509.CreateRevocationList(rand.Reader, tmpl, issuer, key)
	}
	tbs, err := spliceEntries(frame.RawTBSRevocationList, entries)
	if err != nil {
		return nil, err
	}
	sig, err := crypto.SignMessage(key, rand.Reader, tbs, opts)
	if err != nil {
		return nil, err // the signer's own error: KEY-6 says a destroyed key so
	}
	if err := issuer.CheckSignature(frame.SignatureAlgorithm, tbs, sig); err != nil {
		return nil, fmt.Errorf("revocation: the CRL signature returned by the signer is invalid: %w", err)
	}
	algID, err := outerAlgorithm(frameDER)
	if err != nil {
		return nil, err
	}
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddBytes(tbs)
		b.AddBytes(algID)
		b.AddASN1BitString(sig)
	})
	return b.Bytes()
}

// errNotFast sends an entry list the encoder does not take to the library.
var errNotFast = errors.New("revocation: entries for the library's encoder")

// encodeEntries is the DER of revokedCertificates' elements, each
// SEQUENCE { serial, revocationDate, [reasonCode extension] } as RFC 5280
// §5.1 and the library write them: the time in UTCTime from 1950 to 2049
// and GeneralizedTime otherwise, to the second; reasonCode only when not 0
// (unspecified).
func encodeEntries(es []x509.RevocationListEntry) ([]byte, error) {
	out := make([]byte, 0, len(es)*48)
	var ser [32]byte
	var body [128]byte
	for i := range es {
		e := &es[i]
		if e.SerialNumber == nil {
			return nil, errors.New("x509: template contains entry with nil SerialNumber field")
		}
		if e.RevocationTime.IsZero() {
			return nil, errors.New("x509: template contains entry with zero RevocationTime field")
		}
		n := (e.SerialNumber.BitLen() + 7) / 8
		if e.SerialNumber.Sign() < 0 || n > len(ser)-1 || len(e.Extensions) > 0 || len(e.ExtraExtensions) > 0 ||
			e.ReasonCode < 0 || e.ReasonCode > 127 {
			return nil, errNotFast
		}
		s := body[:0]
		// INTEGER, positive: a leading zero when the high bit is set, and
		// one zero octet for 0.
		e.SerialNumber.FillBytes(ser[1 : 1+n])
		v := ser[1 : 1+n]
		if n == 0 || v[0]&0x80 != 0 {
			v = ser[:1+n]
			v[0] = 0
		}
		s = append(s, 0x02, byte(len(v)))
		s = append(s, v...)
		s = appendTime(s, e.RevocationTime.UTC())
		if e.ReasonCode != 0 {
			// SEQUENCE { SEQUENCE { id-ce-cRLReasons, OCTET STRING { ENUMERATED } } }
			s = append(s, 0x30, 0x0c, 0x30, 0x0a, 0x06, 0x03, 0x55, 0x1d, 0x15, 0x04, 0x03, 0x0a, 0x01, byte(e.ReasonCode))
		}
		out = append(out, 0x30, byte(len(s))) // under 128 octets: short length
		out = append(out, s...)
	}
	return out, nil
}

// appendTime appends the DER time of t (UTC) as encoding/asn1 writes a
// time.Time.
func appendTime(b []byte, t time.Time) []byte {
	y, mo, d := t.Date()
	h, mi, s := t.Clock()
	if y < 1950 || y >= 2050 {
		b = append(b, 0x18, 15)
		b = append2(b, y/100)
	} else {
		b = append(b, 0x17, 13)
	}
	for _, v := range [...]int{y % 100, int(mo), d, h, mi, s} {
		b = append2(b, v)
	}
	return append(b, 'Z')
}

func append2(b []byte, v int) []byte { return append(b, byte('0'+v/10%10), byte('0'+v%10)) }

// spliceEntries puts the entries into a TBSCertList that has none, after
// nextUpdate and before the extensions.
func spliceEntries(tbs, entries []byte) ([]byte, error) {
	in := cryptobyte.String(tbs)
	var body cryptobyte.String
	if !in.ReadASN1(&body, cbasn1.SEQUENCE) || !in.Empty() {
		return nil, errors.New("revocation: the CRL frame is not a SEQUENCE")
	}
	start := len(body)
	var skip cryptobyte.String
	if !body.ReadASN1Element(&skip, cbasn1.INTEGER) || !body.ReadASN1Element(&skip, cbasn1.SEQUENCE) ||
		!body.ReadASN1Element(&skip, cbasn1.SEQUENCE) || !readTime(&body) || !readTime(&body) {
		return nil, errors.New("revocation: the CRL frame lacks its version, algorithm, issuer or dates")
	}
	if body.PeekASN1Tag(cbasn1.SEQUENCE) {
		return nil, errors.New("revocation: the CRL frame has entries already")
	}
	raw := []byte(tbs[len(tbs)-start:])
	head, rest := raw[:start-len(body)], raw[start-len(body):]
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddBytes(head)
		if len(entries) > 0 {
			b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { b.AddBytes(entries) })
		}
		b.AddBytes(rest)
	})
	return b.Bytes()
}

func readTime(s *cryptobyte.String) bool {
	var t cryptobyte.String
	switch {
	case s.PeekASN1Tag(cbasn1.UTCTime):
		return s.ReadASN1Element(&t, cbasn1.UTCTime)
	case s.PeekASN1Tag(cbasn1.GeneralizedTime):
		return s.ReadASN1Element(&t, cbasn1.GeneralizedTime)
	}
	return false
}

// outerAlgorithm is the signatureAlgorithm element of a CertificateList.
func outerAlgorithm(der []byte) ([]byte, error) {
	in := cryptobyte.String(der)
	var list, tbs, alg cryptobyte.String
	if !in.ReadASN1(&list, cbasn1.SEQUENCE) || !list.ReadASN1Element(&tbs, cbasn1.SEQUENCE) ||
		!list.ReadASN1Element(&alg, cbasn1.SEQUENCE) {
		return nil, errors.New("revocation: the CRL frame has no signature algorithm")
	}
	return alg, nil
}

// signerOptsOf are the options the library signs with for alg.
func signerOptsOf(alg x509.SignatureAlgorithm) (crypto.SignerOpts, bool) {
	switch alg {
	case x509.ECDSAWithSHA256, x509.SHA256WithRSA:
		return crypto.SHA256, true
	case x509.ECDSAWithSHA384, x509.SHA384WithRSA:
		return crypto.SHA384, true
	case x509.ECDSAWithSHA512, x509.SHA512WithRSA:
		return crypto.SHA512, true
	case x509.PureEd25519:
		return crypto.Hash(0), true
	}
	return nil, false
}

var (
	rsaFrameOnce sync.Once
	rsaFrameKey  *rsa.PrivateKey
)

// throwawayLike is a fresh key of pub's type (and curve), whose only use
// is to let the library build a CRL frame with the CA key's algorithm.
func throwawayLike(pub crypto.PublicKey) (crypto.Signer, bool) {
	var r io.Reader = rand.Reader
	switch p := pub.(type) {
	case *ecdsa.PublicKey:
		k, err := ecdsa.GenerateKey(p.Curve, r)
		return k, err == nil
	case ed25519.PublicKey:
		_, k, err := ed25519.GenerateKey(r)
		return k, err == nil
	case *rsa.PublicKey:
		// The library signs with SHA-256 and PKCS #1 v1.5 whatever the
		// size: one 2048-bit key per process serves every RSA CA.
		rsaFrameOnce.Do(func() { rsaFrameKey, _ = rsa.GenerateKey(r, 2048) })
		return rsaFrameKey, rsaFrameKey != nil
	}
	return nil, false
}
