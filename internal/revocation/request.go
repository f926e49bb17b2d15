package revocation

import (
	"crypto"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"fmt"
	"math/big"
)

// Request is a parsed OCSP request (RFC 6960 §4.1) for one certificate.
type Request struct {
	Hash     crypto.Hash
	NameHash []byte
	KeyHash  []byte
	Serial   *big.Int
	// Nonce is the raw extnValue of the RFC 8954 nonce extension, nil if absent.
	Nonce []byte
}

type ocspExtension struct{ pkix.Extension }

var oidNonce = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 48, 1, 2}

var hashOIDs = map[string]crypto.Hash{
	"1.3.14.3.2.26":          crypto.SHA1,
	"2.16.840.1.101.3.4.2.1": crypto.SHA256,
}

type asnOCSPRequest struct {
	TBS       asnTBSRequest
	Signature asn1.RawValue `asn1:"explicit,tag:0,optional"`
}

type asnTBSRequest struct {
	Version       int           `asn1:"explicit,tag:0,default:0,optional"`
	RequestorName asn1.RawValue `asn1:"explicit,tag:1,optional"`
	RequestList   []asnRequest
	Extensions    []pkix.Extension `asn1:"explicit,tag:2,optional"`
}

type asnRequest struct {
	Cert       asnCertID
	Extensions []pkix.Extension `asn1:"explicit,tag:0,optional"`
}

type asnCertID struct {
	HashAlgorithm pkix.AlgorithmIdentifier
	NameHash      []byte
	KeyHash       []byte
	Serial        *big.Int
}

// ErrMalformed marks a request that is not a valid OCSP request.
var ErrMalformed = errors.New("revocation: malformed OCSP request")

// ParseRequest reads a DER OCSP request. It accepts exactly one certificate
// per request, SHA-1 or SHA-256 CertIDs, and a nonce of 1 to 32 octets
// (RFC 8954 §2.1). Anything else is ErrMalformed.
func ParseRequest(der []byte) (*Request, error) {
	var r asnOCSPRequest
	rest, err := asn1.Unmarshal(der, &r)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	if len(rest) != 0 {
		return nil, fmt.Errorf("%w: trailing data", ErrMalformed)
	}
	if r.TBS.Version != 0 {
		return nil, fmt.Errorf("%w: version %d", ErrMalformed, r.TBS.Version)
	}
	if len(r.TBS.RequestList) != 1 {
		return nil, fmt.Errorf("%w: %d certificates asked (one per request is supported)", ErrMalformed, len(r.TBS.RequestList))
	}
	id := r.TBS.RequestList[0].Cert
	h, ok := hashOIDs[id.HashAlgorithm.Algorithm.String()]
	if !ok {
		return nil, fmt.Errorf("%w: CertID hash %s is not SHA-1 or SHA-256", ErrMalformed, id.HashAlgorithm.Algorithm)
	}
	if len(id.NameHash) != h.Size() || len(id.KeyHash) != h.Size() {
		return nil, fmt.Errorf("%w: CertID hashes have the wrong length", ErrMalformed)
	}
	if id.Serial == nil || id.Serial.Sign() <= 0 || id.Serial.BitLen() > 160 {
		return nil, fmt.Errorf("%w: serial number out of range", ErrMalformed)
	}
	req := &Request{Hash: h, NameHash: id.NameHash, KeyHash: id.KeyHash, Serial: id.Serial}
	seen := map[string]bool{}
	for _, e := range r.TBS.Extensions {
		// RFC 5280 §4.2: an extension appears at most once; RFC 6960 §4.4:
		// only non-critical unknown extensions may be ignored.
		if seen[e.Id.String()] {
			return nil, fmt.Errorf("%w: extension %s appears twice", ErrMalformed, e.Id)
		}
		seen[e.Id.String()] = true
		if !e.Id.Equal(oidNonce) {
			if e.Critical {
				return nil, fmt.Errorf("%w: unknown critical extension %s", ErrMalformed, e.Id)
			}
			continue
		}
		var nonce []byte
		if rest, err := asn1.Unmarshal(e.Value, &nonce); err != nil || len(rest) != 0 {
			return nil, fmt.Errorf("%w: nonce is not an OCTET STRING", ErrMalformed)
		}
		if len(nonce) < 1 || len(nonce) > 32 {
			return nil, fmt.Errorf("%w: nonce of %d octets (RFC 8954 allows 1 to 32)", ErrMalformed, len(nonce))
		}
		req.Nonce = e.Value
	}
	return req, nil
}
