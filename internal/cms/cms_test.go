package cms

import (
	"bytes"
	"crypto"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"encoding/asn1"
	"encoding/pem"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/cryptobyte"
	casn1 "golang.org/x/crypto/cryptobyte/asn1"

	"github.com/sceau/sceau/internal/sceau"
)

var manifest = []byte(`{"publication":"2026-12-07T10:00:00Z","files":[{"name":"root.crl","sha256":"00"}]}` + "\n")

// wantInvalid fails the test unless err is a sceau.Invalid error whose
// message starts with "cms: " and holds want.
func wantInvalid(t *testing.T, err error, want string) {
	t.Helper()
	if err == nil {
		t.Fatalf("got no error, want one with %q", want)
	}
	if k := sceau.KindOf(err); k != sceau.Invalid {
		t.Errorf("kind %v, want invalid: %v", k, err)
	}
	if !strings.HasPrefix(err.Error(), "cms: ") || !strings.Contains(err.Error(), want) {
		t.Errorf("error %q, want one starting with \"cms: \" and holding %q", err, want)
	}
}

func TestPUB2_DetachedSignatureRoundTrip(t *testing.T) {
	at := time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)
	for _, kind := range keyTypes {
		t.Run(kind, func(t *testing.T) {
			p := newPKI(t, kind)
			der, err := SignDetached(manifest, p.key, p.cert, []*x509.Certificate{p.intermediate, p.cert, p.intermediate}, at)
			if err != nil {
				t.Fatal(err)
			}
			got, err := VerifyDetached(der, manifest)
			if err != nil {
				t.Fatal(err)
			}
			if !got.Signer.Equal(p.cert) {
				t.Errorf("signer %q, want %q", got.Signer.Subject, p.cert.Subject)
			}
			if n := len(got.Certificates); n != 2 {
				t.Errorf("%d certificates, want the signer's and the intermediate, once each", n)
			}
			if !got.SigningTime.Equal(at) {
				t.Errorf("signing time %v, want %v", got.SigningTime, at)
			}
			// The caller validates the chain: the signature carries what it needs.
			roots, inter := x509.NewCertPool(), x509.NewCertPool()
			roots.AddCert(p.root)
			for _, c := range got.Certificates {
				inter.AddCert(c)
			}
			if _, err := got.Signer.Verify(x509.VerifyOptions{Roots: roots, Intermediates: inter, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}}); err != nil {
				t.Errorf("chain: %v", err)
			}
			// PEM, as `openssl cms -outform PEM` writes it.
			for _, typ := range []string{"CMS", "PKCS7"} {
				if _, err := VerifyDetached(pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), manifest); err != nil {
					t.Errorf("PEM %s: %v", typ, err)
				}
			}
		})
	}
}

// TestPUB2_SignatureAlgorithmsFollowTheKey checks the RFC 5753/5754/8419
// pairings in what SignDetached writes.
func TestPUB2_SignatureAlgorithmsFollowTheKey(t *testing.T) {
	want := map[string][2]asn1.ObjectIdentifier{
		"P-256":    {oidSHA256, oidECDSAWithSHA256},
		"P-384":    {oidSHA384, oidECDSAWithSHA384},
		"RSA-2048": {oidSHA256, oidSHA256WithRSA},
		"Ed25519":  {oidSHA512, oidEd25519Signature},
	}
	for _, kind := range keyTypes {
		p := newPKI(t, kind)
		sd, err := parseContentInfo(p.sign(t, manifest, time.Now()))
		if err != nil {
			t.Fatal(err)
		}
		si := sd.signerInfo
		if !si.digestAlg.oid.Equal(want[kind][0]) || !si.signatureAlg.oid.Equal(want[kind][1]) {
			t.Errorf("%s: digest %v signature %v, want %v", kind, si.digestAlg.oid, si.signatureAlg.oid, want[kind])
		}
		if wantNULL := kind == "RSA-2048"; bytes.Equal(si.signatureAlg.params, asn1NULL) != wantNULL || si.digestAlg.params != nil {
			t.Errorf("%s: parameters digest %x signature %x", kind, si.digestAlg.params, si.signatureAlg.params)
		}
	}
}

// TestPUB2_SignatureIsDER walks what SignDetached writes with encoding/asn1,
// an independent parser, and checks each SET OF is sorted and the signed
// attributes are the ones promised.
func TestPUB2_SignatureIsDER(t *testing.T) {
	p := newPKI(t, "P-256")
	der := p.sign(t, manifest, time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC))
	type signerInfo struct {
		Version     int
		SID         asn1.RawValue
		Digest      asn1.RawValue
		SignedAttrs asn1.RawValue `asn1:"tag:0"`
		SigAlg      asn1.RawValue
		Signature   []byte
	}
	var ci struct {
		Type    asn1.ObjectIdentifier
		Content struct {
			Version      int
			Digests      asn1.RawValue
			Encap        struct{ Type asn1.ObjectIdentifier }
			Certificates asn1.RawValue `asn1:"tag:0"`
			SignerInfos  []signerInfo  `asn1:"set"`
		} `asn1:"explicit,tag:0"`
	}
	if rest, err := asn1.Unmarshal(der, &ci); err != nil || len(rest) > 0 {
		t.Fatalf("encoding/asn1: %v (%d bytes left)", err, len(rest))
	}
	sd := ci.Content
	if sd.Version != 1 || len(sd.SignerInfos) != 1 || sd.SignerInfos[0].Version != 1 || !sd.Encap.Type.Equal(oidData) {
		t.Fatalf("signed data version %d, %d signer infos, encapsulated %v", sd.Version, len(sd.SignerInfos), sd.Encap.Type)
	}
	sorted := func(what string, set []byte) [][]byte {
		t.Helper()
		var elems [][]byte
		for rest := set; len(rest) > 0; {
			var v asn1.RawValue
			var err error
			if rest, err = asn1.Unmarshal(rest, &v); err != nil {
				t.Fatalf("%s: %v", what, err)
			}
			if n := len(elems); n > 0 && bytes.Compare(elems[n-1], v.FullBytes) > 0 {
				t.Errorf("%s: the SET OF is not sorted", what)
			}
			elems = append(elems, v.FullBytes)
		}
		return elems
	}
	if n := len(sorted("certificates", sd.Certificates.Bytes)); n != 2 {
		t.Errorf("%d certificates, want 2", n)
	}
	si := sd.SignerInfos[0]
	var types []string
	for _, a := range sorted("signed attributes", si.SignedAttrs.Bytes) {
		var attr struct {
			Type   asn1.ObjectIdentifier
			Values []asn1.RawValue `asn1:"set"`
		}
		if _, err := asn1.Unmarshal(a, &attr); err != nil || len(attr.Values) != 1 {
			t.Fatalf("attribute: %v, %d values", err, len(attr.Values))
		}
		types = append(types, attr.Type.String())
		if attr.Type.Equal(oidSigningTime) && attr.Values[0].Tag != asn1.TagUTCTime {
			t.Errorf("signing time tag %d, want UTCTime before 2050", attr.Values[0].Tag)
		}
	}
	if got := strings.Join(types, " "); got != "1.2.840.113549.1.9.3 1.2.840.113549.1.9.5 1.2.840.113549.1.9.4" {
		t.Errorf("signed attributes %s, want contentType, signingTime, messageDigest (DER order)", got)
	}
	// The signature is over the same bytes tagged SET.
	set := append([]byte{0x31}, si.SignedAttrs.FullBytes[1:]...)
	if err := p.cert.CheckSignature(x509.ECDSAWithSHA256, set, si.Signature); err != nil {
		t.Errorf("signature over the SET OF: %v", err)
	}
}

func TestPUB2_SigningTimeEncoding(t *testing.T) {
	paris := time.FixedZone("CET", 3600)
	for _, tc := range []struct {
		at   time.Time
		want []byte // the DER value in the signature; nil: no signingTime
	}{
		{time.Date(2049, 12, 31, 23, 59, 59, 0, time.UTC), []byte("\x17\x0d491231235959Z")},
		{time.Date(2050, 1, 1, 0, 0, 0, 0, time.UTC), []byte("\x18\x0f20500101000000Z")},
		{time.Date(1949, 12, 31, 23, 59, 59, 0, time.UTC), []byte("\x18\x0f19491231235959Z")},
		{time.Date(2026, 12, 7, 11, 0, 0, 999_000_000, paris), []byte("\x17\x0d261207100000Z")},
		{time.Time{}, nil},
	} {
		p := newPKI(t, "P-256")
		der := p.sign(t, manifest, tc.at)
		got, err := VerifyDetached(der, manifest)
		if err != nil {
			t.Fatal(err)
		}
		if tc.want == nil {
			if !got.SigningTime.IsZero() || bytes.Contains(der, oidDER(oidSigningTime)) {
				t.Errorf("zero time: signing time %v is written", got.SigningTime)
			}
			continue
		}
		if !bytes.Contains(der, tc.want) {
			t.Errorf("%v: no %q in the signature", tc.at, tc.want)
		}
		if want := tc.at.Truncate(time.Second); !got.SigningTime.Equal(want) || got.SigningTime.Location() != time.UTC {
			t.Errorf("signing time %v, want %v in UTC", got.SigningTime, want)
		}
	}
}

func TestPUB2_SignerMustHoldTheCertificateKey(t *testing.T) {
	p, other := newPKI(t, "P-256"), newPKI(t, "RSA-2048")
	_, err := SignDetached(manifest, other.key, p.cert, nil, time.Now())
	wantInvalid(t, err, "the signer's key is not the public key of certificate")
	_, err = SignDetached(manifest, p.key, nil, nil, time.Now())
	wantInvalid(t, err, "a signer and its certificate are required")
	_, err = SignDetached(manifest, p.key, p.cert, []*x509.Certificate{nil}, time.Now())
	wantInvalid(t, err, "chain certificate 0 is nil")
}

func TestPUB2_TamperedContentFailsVerification(t *testing.T) {
	p := newPKI(t, "P-256")
	der := p.sign(t, manifest, time.Now())
	for i := range manifest {
		changed := bytes.Clone(manifest)
		changed[i] ^= 0x01
		_, err := VerifyDetached(der, changed)
		wantInvalid(t, err, "the content does not match the signature's message digest")
	}
	_, err := VerifyDetached(der, nil)
	wantInvalid(t, err, "the content does not match the signature's message digest")
}

func TestPUB2_TamperedSignedAttributeFailsVerification(t *testing.T) {
	at := time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)
	for _, kind := range keyTypes {
		p := newPKI(t, kind)
		der := p.sign(t, manifest, at)
		i := bytes.Index(der, []byte("261207100000Z"))
		if i < 0 {
			t.Fatal("no signing time in the signature")
		}
		der[i+11] = '1' // one second later
		_, err := VerifyDetached(der, manifest)
		wantInvalid(t, err, "the signature does not verify with the signer's public key")
	}
}

func TestPUB2_TamperedSignatureFailsVerification(t *testing.T) {
	for _, kind := range keyTypes {
		p := newPKI(t, kind)
		der := p.sign(t, manifest, time.Now())
		der[len(der)-1] ^= 0x01 // the last byte of the signature value
		_, err := VerifyDetached(der, manifest)
		wantInvalid(t, err, "the signature does not verify with the signer's public key")
	}
}

func TestPUB2_SignatureByAnotherKeyFailsVerification(t *testing.T) {
	p := newPKI(t, "P-256")
	der, err := signDetached(manifest, testKey(t, "P-256", "another"), p.cert, nil, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	_, err = VerifyDetached(der, manifest)
	wantInvalid(t, err, "the signature does not verify with the signer's public key")
}

func TestPUB2_TruncatedSignatureIsRefused(t *testing.T) {
	p := newPKI(t, "P-256")
	der := p.sign(t, manifest, time.Now())
	for n := range len(der) {
		_, err := VerifyDetached(der[:n], manifest)
		if err == nil || sceau.KindOf(err) != sceau.Invalid || !strings.HasPrefix(err.Error(), "cms: ") {
			t.Fatalf("truncated to %d bytes: %v", n, err)
		}
	}
	_, err := VerifyDetached(append(bytes.Clone(der), 0), manifest)
	wantInvalid(t, err, "data after the content info")
}

func TestPUB2_GarbageIsRefused(t *testing.T) {
	p := newPKI(t, "P-256")
	for _, tc := range []struct {
		name string
		sig  []byte
		want string
	}{
		{"empty", nil, "malformed content info"},
		{"text", []byte("not a signature"), "malformed content info"},
		{"a certificate", p.cert.Raw, "malformed content info"},
		{"a pem certificate", pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: p.cert.Raw}), `a pem block of type "CERTIFICATE"`},
		{"a broken pem block", []byte("-----BEGIN CMS-----\n!!!\n-----END CMS-----\n"), "malformed pem block"},
		{"two pem blocks", bytes.Repeat(pem.EncodeToMemory(&pem.Block{Type: "CMS", Bytes: []byte{0x30, 0}}), 2), "data after the pem block"},
		{"an empty sequence", []byte{0x30, 0x00}, "malformed content info"},
		{"a huge length", []byte{0x30, 0x84, 0xff, 0xff, 0xff, 0xff, 0x06}, "malformed content info"},
		{"an indefinite length (BER)", []byte{0x30, 0x80, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x02, 0x00, 0x00}, "malformed content info"},
		{"data, not signed data", mustDER(func(b *cryptobyte.Builder) {
			b.AddASN1(casn1.SEQUENCE, func(b *cryptobyte.Builder) { b.AddASN1ObjectIdentifier(oidData) })
		}), "the content info holds 1.2.840.113549.1.7.1, not signed data"},
	} {
		_, err := VerifyDetached(tc.sig, manifest)
		t.Run(tc.name, func(t *testing.T) { wantInvalid(t, err, tc.want) })
	}
}

// forgery is a signature assembled from parts a test can spoil: forge signs
// attrs with signer whatever they say.
type forgery struct {
	prehash           crypto.Hash // the signer signs the attributes' digest with it, or them whole (0, Ed25519)
	signer            crypto.Signer
	attrs             []attribute
	noSignedAttrs     bool
	unsorted          bool // write attrs in their order, not DER's
	version           int64
	sid               []byte // the DER of the signer identifier
	digestAlg, sigAlg algorithm
	copies            int // of the SignerInfo
	sd                signedDataParts
}

func forge(t testing.TB, p *pki, content []byte, edit func(*forgery)) []byte {
	t.Helper()
	hash, sigAlg, err := signingProfile(p.cert.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	f := &forgery{
		prehash: hash, signer: p.key, version: 1, digestAlg: digestAlgorithm(hash), sigAlg: sigAlg, copies: 1,
		attrs: []attribute{
			{oidContentType, [][]byte{oidDER(oidData)}},
			{oidMessageDigest, [][]byte{octetsDER(digest(hash, content))}},
		},
		sid: mustDER(func(b *cryptobyte.Builder) {
			b.AddASN1(casn1.SEQUENCE, func(b *cryptobyte.Builder) {
				b.AddBytes(p.cert.RawIssuer)
				b.AddASN1BigInt(p.cert.SerialNumber)
			})
		}),
		sd: signedDataParts{version: 1, digestAlgorithms: []algorithm{digestAlgorithm(hash)}, certificates: [][]byte{p.cert.Raw, p.intermediate.Raw}},
	}
	if _, ok := p.key.(ed25519.PrivateKey); ok {
		f.prehash = 0
	}
	if edit != nil {
		edit(f)
	}
	signed, err := marshalAttributes(f.attrs)
	if err != nil {
		t.Fatal(err)
	}
	if f.unsorted {
		var elems []byte
		for _, a := range f.attrs {
			one, err := marshalAttributes([]attribute{a})
			if err != nil {
				t.Fatal(err)
			}
			elems = append(elems, one[2:]...) // the attribute, out of its one-element SET (short length)
		}
		signed = mustDER(func(b *cryptobyte.Builder) { b.AddASN1(casn1.SET, func(b *cryptobyte.Builder) { b.AddBytes(elems) }) })
	}
	var sig []byte
	if f.prehash == 0 {
		sig, err = f.signer.Sign(rand.Reader, signed, crypto.Hash(0))
	} else {
		sig, err = f.signer.Sign(rand.Reader, digest(f.prehash, signed), f.prehash)
	}
	if err != nil {
		t.Fatal(err)
	}
	si := mustDER(func(b *cryptobyte.Builder) {
		b.AddASN1(casn1.SEQUENCE, func(b *cryptobyte.Builder) {
			b.AddASN1Int64(f.version)
			b.AddBytes(f.sid)
			addAlgorithm(b, f.digestAlg)
			if !f.noSignedAttrs {
				b.AddBytes(implicitSignedAttributes(signed))
			}
			addAlgorithm(b, f.sigAlg)
			b.AddASN1OctetString(sig)
		})
	})
	for range f.copies {
		f.sd.signerInfos = append(f.sd.signerInfos, si)
	}
	der, err := marshalContentInfo(f.sd)
	if err != nil {
		t.Fatal(err)
	}
	return der
}

func oidDER(oid asn1.ObjectIdentifier) []byte {
	return mustDER(func(b *cryptobyte.Builder) { b.AddASN1ObjectIdentifier(oid) })
}

func octetsDER(v []byte) []byte {
	return mustDER(func(b *cryptobyte.Builder) { b.AddASN1OctetString(v) })
}

// protection is a CMSAlgorithmProtection attribute naming digest and sig.
func protection(digest, sig algorithm) attribute {
	return attribute{oidAlgorithmProtection, [][]byte{mustDER(func(b *cryptobyte.Builder) {
		b.AddASN1(casn1.SEQUENCE, func(b *cryptobyte.Builder) {
			addAlgorithm(b, digest)
			b.AddASN1(tagImplicit1, func(b *cryptobyte.Builder) {
				b.AddASN1ObjectIdentifier(sig.oid)
				b.AddBytes(sig.params)
			})
		})
	})}}
}

// TestPUB2_ForgedVariantsVerify checks the forge harness itself, and the
// variants that are allowed: a subject key identifier, the algorithm
// protection attribute, attributes the verifier does not know.
func TestPUB2_ForgedVariantsVerify(t *testing.T) {
	p := newPKI(t, "P-256")
	for _, tc := range []struct {
		name string
		edit func(*forgery)
	}{
		{"as made", nil},
		{"subject key identifier", func(f *forgery) {
			f.version, f.sd.version = 3, 3
			f.sid = mustDER(func(b *cryptobyte.Builder) {
				b.AddASN1(tagKeyID, func(b *cryptobyte.Builder) { b.AddBytes(p.cert.SubjectKeyId) })
			})
		}},
		{"algorithm protection", func(f *forgery) { f.attrs = append(f.attrs, protection(f.digestAlg, f.sigAlg)) }},
		{"an unknown attribute", func(f *forgery) {
			f.attrs = append(f.attrs, attribute{asn1.ObjectIdentifier{1, 2, 3}, [][]byte{{0x05, 0x00}, {0x02, 0x01, 0x01}}})
		}},
		{"NULL digest parameters", func(f *forgery) { f.digestAlg.params = asn1NULL }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := VerifyDetached(forge(t, p, manifest, tc.edit), manifest); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestPUB2_MalformedSignedDataIsRefused(t *testing.T) {
	p, ed := newPKI(t, "P-256"), newPKI(t, "Ed25519")
	for _, tc := range []struct {
		name string
		pki  *pki
		edit func(*forgery)
		want string
	}{
		{"eContent present", p, func(f *forgery) { f.sd.eContent = manifest }, "the signed data holds its content (eContent); a detached signature must not"},
		{"no signer info", p, func(f *forgery) { f.copies = 0 }, "the signed data has no signer info"},
		{"two signer infos", p, func(f *forgery) { f.copies = 2 }, "the signed data has 2 signer infos; one is expected"},
		{"no signed attributes", p, func(f *forgery) { f.noSignedAttrs = true }, "the signer info has no signed attributes"},
		{"no certificates", p, func(f *forgery) { f.sd.certificates = nil }, "the signature does not carry the signer's certificate"},
		{"not the signer's certificate", p, func(f *forgery) { f.sd.certificates = [][]byte{p.intermediate.Raw} }, "the signature does not carry the signer's certificate (serial number "},
		{"a broken certificate", p, func(f *forgery) { f.sd.certificates = [][]byte{{0x30, 0x03, 0x02, 0x01, 0x01}} }, "certificate 0 of the signature does not parse"},
		{"signed data version 2", p, func(f *forgery) { f.sd.version = 2 }, "signed data version 2 is not one of RFC 5652"},
		{"version 3 with issuer and serial", p, func(f *forgery) { f.version = 3 }, "signer info version 3 with an issuer and serial number"},
		{"version 1 with a key identifier", p, func(f *forgery) {
			f.sid = mustDER(func(b *cryptobyte.Builder) {
				b.AddASN1(tagKeyID, func(b *cryptobyte.Builder) { b.AddBytes(p.cert.SubjectKeyId) })
			})
		}, "signer info version 1 with a subject key identifier"},
		{"content type other than data", p, func(f *forgery) {
			f.attrs[0].values = [][]byte{oidDER(oidSignedData)}
		}, "the content type attribute is 1.2.840.113549.1.7.2, not id-data"},
		{"no content type", p, func(f *forgery) { f.attrs = f.attrs[1:] }, "the signed attributes have no content type"},
		{"no message digest", p, func(f *forgery) { f.attrs = f.attrs[:1] }, "the signed attributes have no message digest"},
		{"signed attributes out of order", p, func(f *forgery) {
			f.unsorted = true
			f.attrs[0], f.attrs[1] = f.attrs[1], f.attrs[0]
		}, "the signed attributes are not in DER order (RFC 5652 §5.3)"},
		{"two message digests", p, func(f *forgery) { f.attrs = append(f.attrs, f.attrs[1]) }, "the message digest attribute appears twice"},
		{"a message digest with two values", p, func(f *forgery) {
			f.attrs[1].values = append(f.attrs[1].values, octetsDER([]byte("other")))
		}, "the message digest attribute must have exactly one value"},
		{"a message digest of the wrong type", p, func(f *forgery) { f.attrs[1].values = [][]byte{oidDER(oidData)} }, "malformed message digest attribute"},
		{"a signing time with fractions", p, func(f *forgery) {
			f.attrs = append(f.attrs, attribute{oidSigningTime, [][]byte{[]byte("\x18\x1120261207100000.5Z")}})
		}, "malformed signing time attribute"},
		{"sha-1", p, func(f *forgery) { f.digestAlg.oid = asn1.ObjectIdentifier{1, 3, 14, 3, 2, 26} }, "the digest algorithm 1.3.14.3.2.26 is not supported"},
		{"digest parameters", p, func(f *forgery) { f.digestAlg.params = []byte{0x02, 0x01, 0x00} }, "the digest algorithm 2.16.840.1.101.3.4.2.1 has parameters"},
		{"signature and digest disagree", p, func(f *forgery) { f.sigAlg.oid = oidECDSAWithSHA384 }, "the signature algorithm 1.2.840.10045.4.3.3 needs SHA-384 but the digest algorithm is SHA-256"},
		{"rsa signature for an ecdsa key", p, func(f *forgery) { f.sigAlg = algorithm{oidSHA256WithRSA, asn1NULL} }, "the signature algorithm 1.2.840.113549.1.1.11 does not fit the signer's ECDSA key"},
		{"an unknown signature algorithm", p, func(f *forgery) { f.sigAlg.oid = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 10} }, "the signature algorithm 1.2.840.113549.1.1.10 is not supported"},
		{"ed25519 with sha-256", ed, func(f *forgery) {
			f.digestAlg = digestAlgorithm(crypto.SHA256)
			f.attrs[1].values = [][]byte{octetsDER(digest(crypto.SHA256, manifest))}
		}, "the signature algorithm 1.3.101.112 needs SHA-512 but the digest algorithm is SHA-256"},
		{"algorithm protection disagrees", p, func(f *forgery) {
			f.attrs = append(f.attrs, protection(digestAlgorithm(crypto.SHA384), f.sigAlg))
		}, "the CMSAlgorithmProtection attribute names other algorithms than the signer info"},
		{"algorithm protection with a mac", p, func(f *forgery) {
			f.attrs = append(f.attrs, attribute{oidAlgorithmProtection, [][]byte{mustDER(func(b *cryptobyte.Builder) {
				b.AddASN1(casn1.SEQUENCE, func(b *cryptobyte.Builder) {
					addAlgorithm(b, f.digestAlg)
					b.AddASN1(casn1.Tag(2).ContextSpecific().Constructed(), func(b *cryptobyte.Builder) { b.AddASN1ObjectIdentifier(oidSHA256) })
				})
			})}})
		}, "malformed algorithm protection attribute"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := VerifyDetached(forge(t, tc.pki, manifest, tc.edit), manifest)
			wantInvalid(t, err, tc.want)
		})
	}
}
