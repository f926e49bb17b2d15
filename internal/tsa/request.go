package tsa

import (
	"crypto"
	_ "crypto/sha256" // registers crypto.SHA256
	_ "crypto/sha512" // registers crypto.SHA384 and crypto.SHA512
	"encoding/asn1"
	"errors"
	"fmt"
	"math/big"

	"golang.org/x/crypto/cryptobyte"
	casn1 "golang.org/x/crypto/cryptobyte/asn1"

	"github.com/sceau/sceau/internal/sceau"
)

// Object identifiers: RFC 5754 (SHA-2), and the digests a request may
// name that the unit refuses, to say which.
var (
	oidSHA256 = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 1}
	oidSHA384 = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 2}
	oidSHA512 = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 3}

	refusedDigests = map[string]string{
		"1.3.14.3.2.26":           "SHA-1",
		"1.2.840.113549.2.5":      "MD5",
		"2.16.840.1.101.3.4.2.4":  "SHA-224",
		"2.16.840.1.101.3.4.2.6":  "SHA-512/256",
		"2.16.840.1.101.3.4.2.8":  "SHA3-256",
		"2.16.840.1.101.3.4.2.9":  "SHA3-384",
		"2.16.840.1.101.3.4.2.10": "SHA3-512",
	}
)

// hashes are the message imprint algorithms the unit accepts.
var hashes = []struct {
	oid  asn1.ObjectIdentifier
	hash crypto.Hash
}{
	{oidSHA256, crypto.SHA256},
	{oidSHA384, crypto.SHA384},
	{oidSHA512, crypto.SHA512},
}

func hashOID(h crypto.Hash) (asn1.ObjectIdentifier, bool) {
	for _, x := range hashes {
		if x.hash == h {
			return x.oid, true
		}
	}
	return nil, false
}

// maxNonceBytes bounds a request's nonce: RFC 3161 asks a large random
// number; 64 bytes is ample and keeps a reply small.
const maxNonceBytes = 64

// Request is a TimeStampReq (RFC 3161 §2.4.1) the unit accepts.
type Request struct {
	Hash    crypto.Hash           // the message imprint's algorithm: SHA-256, SHA-384 or SHA-512
	Digest  []byte                // the message imprint's hashedMessage, Hash.Size() bytes
	Policy  asn1.ObjectIdentifier // reqPolicy; nil when absent (the unit's policy)
	Nonce   *big.Int              // nil when absent
	CertReq bool                  // the token must carry the unit's certificates
}

// FailureInfo is a bit of PKIFailureInfo (RFC 3161 §2.4.2): why a request
// is rejected. As an error, it is the cause of a refusal, so that
// errors.As finds what to answer.
type FailureInfo int

// The failure reasons of RFC 3161 §2.4.2.
const (
	BadAlg              FailureInfo = 0  // unrecognized or unsupported algorithm
	BadRequest          FailureInfo = 2  // transaction not permitted or supported
	BadDataFormat       FailureInfo = 5  // the data submitted has the wrong format
	TimeNotAvailable    FailureInfo = 14 // the TSA's time source is not available
	UnacceptedPolicy    FailureInfo = 15 // the requested policy is not supported
	UnacceptedExtension FailureInfo = 16 // the requested extension is not supported
	AddInfoNotAvailable FailureInfo = 17 // the additional information is not available
	SystemFailure       FailureInfo = 25 // the request cannot be handled due to system failure
)

var failureNames = map[FailureInfo]string{
	BadAlg: "badAlg", BadRequest: "badRequest", BadDataFormat: "badDataFormat", TimeNotAvailable: "timeNotAvailable",
	UnacceptedPolicy: "unacceptedPolicy", UnacceptedExtension: "unacceptedExtension", AddInfoNotAvailable: "addInfoNotAvailable",
	SystemFailure: "systemFailure",
}

func (f FailureInfo) String() string {
	if n, ok := failureNames[f]; ok {
		return n
	}
	return fmt.Sprintf("failInfo bit %d", int(f))
}

func (f FailureInfo) Error() string { return "failInfo " + f.String() }

// failureOf returns the reason err carries, SystemFailure when none.
func failureOf(err error) FailureInfo {
	var f FailureInfo
	if errors.As(err, &f) {
		return f
	}
	return SystemFailure
}

// refuse is an Invalid error for a request, carrying its failure reason.
func refuse(f FailureInfo, format string, args ...any) error {
	return sceau.E(sceau.Invalid, "tsa", fmt.Sprintf(format, args...), f)
}

// checkImprint refuses a hash the unit does not accept, or a digest of
// another length than the hash's.
func checkImprint(h crypto.Hash, digest []byte) error {
	if _, ok := hashOID(h); !ok {
		return refuse(BadAlg, "the message imprint's hash algorithm %v is not accepted: SHA-256, SHA-384 or SHA-512 are", h)
	}
	if len(digest) != h.Size() {
		return refuse(BadDataFormat, "the message imprint is %d bytes, a %v digest is %d", len(digest), h, h.Size())
	}
	return nil
}

// ParseRequest parses the DER of a TimeStampReq (RFC 3161 §2.4.1):
// version 1, a message imprint of SHA-256, SHA-384 or SHA-512 with a
// digest of its length, and the optional reqPolicy, nonce and certReq.
// It refuses extensions (the unit supports none), trailing data, and any
// other version or algorithm; every refusal is an error of kind
// sceau.Invalid, "tsa: " and what is wrong, whose cause is the
// FailureInfo to answer. It never panics.
func ParseRequest(der []byte) (*Request, error) {
	in := cryptobyte.String(der)
	var req cryptobyte.String
	if !in.ReadASN1(&req, casn1.SEQUENCE) {
		return nil, refuse(BadDataFormat, "the request is not a DER TimeStampReq")
	}
	if !in.Empty() {
		return nil, refuse(BadDataFormat, "data after the TimeStampReq")
	}
	var version int64
	if !req.ReadASN1Integer(&version) {
		return nil, refuse(BadDataFormat, "malformed TimeStampReq version")
	}
	if version != 1 {
		return nil, refuse(BadRequest, "TimeStampReq version %d; RFC 3161 knows version 1", version)
	}
	out := &Request{}
	var imprint, alg, digest cryptobyte.String
	var oid asn1.ObjectIdentifier
	if !req.ReadASN1(&imprint, casn1.SEQUENCE) || !imprint.ReadASN1(&alg, casn1.SEQUENCE) || !alg.ReadASN1ObjectIdentifier(&oid) {
		return nil, refuse(BadDataFormat, "malformed message imprint")
	}
	if !alg.Empty() {
		var params cryptobyte.String
		if !alg.ReadASN1(&params, casn1.NULL) || len(params) != 0 || !alg.Empty() {
			return nil, refuse(BadAlg, "the message imprint's hash algorithm %s has parameters", oid)
		}
	}
	if !imprint.ReadASN1(&digest, casn1.OCTET_STRING) || !imprint.Empty() {
		return nil, refuse(BadDataFormat, "malformed message imprint")
	}
	known := false
	for _, h := range hashes {
		if h.oid.Equal(oid) {
			out.Hash, known = h.hash, true
		}
	}
	if !known {
		if name, ok := refusedDigests[oid.String()]; ok {
			return nil, refuse(BadAlg, "the message imprint's hash algorithm %s (%s) is not accepted: SHA-256, SHA-384 or SHA-512 are", name, oid)
		}
		return nil, refuse(BadAlg, "the message imprint's hash algorithm %s is not accepted: SHA-256, SHA-384 or SHA-512 are", oid)
	}
	out.Digest = append([]byte{}, digest...)
	if err := checkImprint(out.Hash, out.Digest); err != nil {
		return nil, err
	}
	if req.PeekASN1Tag(casn1.OBJECT_IDENTIFIER) {
		if !req.ReadASN1ObjectIdentifier(&out.Policy) {
			return nil, refuse(BadDataFormat, "malformed reqPolicy")
		}
	}
	if req.PeekASN1Tag(casn1.INTEGER) {
		var elem cryptobyte.String
		if !req.ReadASN1Element(&elem, casn1.INTEGER) {
			return nil, refuse(BadDataFormat, "malformed nonce")
		}
		if len(elem) > 2+maxNonceBytes { // tag, one length byte, contents
			return nil, refuse(BadDataFormat, "the nonce is longer than %d bytes", maxNonceBytes)
		}
		out.Nonce = new(big.Int)
		if !elem.ReadASN1Integer(out.Nonce) {
			return nil, refuse(BadDataFormat, "malformed nonce")
		}
	}
	if req.PeekASN1Tag(casn1.BOOLEAN) {
		// DEFAULT FALSE: DER omits FALSE, but some clients write it; both
		// mean the same.
		if !req.ReadASN1Boolean(&out.CertReq) {
			return nil, refuse(BadDataFormat, "malformed certReq")
		}
	}
	if req.PeekASN1Tag(casn1.Tag(0).ContextSpecific().Constructed()) {
		return nil, refuse(UnacceptedExtension, "the request has extensions; this unit supports none")
	}
	if !req.Empty() {
		return nil, refuse(BadDataFormat, "malformed TimeStampReq: unexpected data after the known fields")
	}
	return out, nil
}

// Marshal returns the DER of r as a TimeStampReq, version 1. It refuses a
// hash or a digest ParseRequest would refuse.
func (r *Request) Marshal() ([]byte, error) {
	if err := checkImprint(r.Hash, r.Digest); err != nil {
		return nil, err
	}
	oid, _ := hashOID(r.Hash)
	var b cryptobyte.Builder
	b.AddASN1(casn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1Int64(1)
		addImprint(b, oid, r.Digest)
		if r.Policy != nil {
			b.AddASN1ObjectIdentifier(r.Policy)
		}
		if r.Nonce != nil {
			b.AddASN1BigInt(r.Nonce)
		}
		if r.CertReq {
			b.AddASN1Boolean(true)
		}
	})
	der, err := b.Bytes()
	if err != nil {
		return nil, sceau.E(sceau.Invalid, "tsa", "the request cannot be encoded", err)
	}
	return der, nil
}

// addImprint adds a MessageImprint. RFC 5754 §2: the parameters of the SHA-2
// algorithms SHOULD be absent (openssl writes NULL; both are read).
func addImprint(b *cryptobyte.Builder, oid asn1.ObjectIdentifier, digest []byte) {
	b.AddASN1(casn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1(casn1.SEQUENCE, func(b *cryptobyte.Builder) { b.AddASN1ObjectIdentifier(oid) })
		b.AddASN1OctetString(digest)
	})
}
