package keys

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"fmt"
	"io"
	"slices"
	"strings"
)

// Type names a key algorithm and size as written in configuration.
type Type string

// The key types Sceau generates and accepts.
const (
	ECDSAP256 Type = "ecdsa-p256"
	ECDSAP384 Type = "ecdsa-p384"
	RSA2048   Type = "rsa-2048"
	RSA3072   Type = "rsa-3072"
	RSA4096   Type = "rsa-4096"
)

// Types lists every supported key type.
var Types = []Type{ECDSAP256, ECDSAP384, RSA2048, RSA3072, RSA4096}

// ParseType checks a configured key type.
func ParseType(s string) (Type, error) {
	t := Type(strings.ToLower(strings.TrimSpace(s)))
	if !slices.Contains(Types, t) {
		return "", fmt.Errorf("keys: unknown key type %q (want one of %v)", s, Types)
	}
	return t, nil
}

// Generate makes a new key pair of type t. rand nil means crypto/rand.
func (t Type) Generate(r io.Reader) (crypto.Signer, error) {
	if r == nil {
		r = rand.Reader
	}
	switch t {
	case ECDSAP256:
		return ecdsa.GenerateKey(elliptic.P256(), r)
	case ECDSAP384:
		return ecdsa.GenerateKey(elliptic.P384(), r)
	case RSA2048:
		return rsa.GenerateKey(r, 2048)
	case RSA3072:
		return rsa.GenerateKey(r, 3072)
	case RSA4096:
		return rsa.GenerateKey(r, 4096)
	}
	return nil, fmt.Errorf("keys: cannot generate key type %q", t)
}

// TypeOf returns the type of a public key, or an error naming what it is
// when Sceau does not support it (other curves, odd RSA sizes).
func TypeOf(pub crypto.PublicKey) (Type, error) {
	switch k := pub.(type) {
	case *ecdsa.PublicKey:
		switch k.Curve {
		case elliptic.P256():
			return ECDSAP256, nil
		case elliptic.P384():
			return ECDSAP384, nil
		}
		return "", fmt.Errorf("keys: ECDSA curve %s is not supported", k.Curve.Params().Name)
	case *rsa.PublicKey:
		switch k.N.BitLen() {
		case 2048:
			return RSA2048, nil
		case 3072:
			return RSA3072, nil
		case 4096:
			return RSA4096, nil
		}
		return "", fmt.Errorf("keys: RSA key of %d bits is not supported (want 2048, 3072 or 4096)", k.N.BitLen())
	}
	return "", fmt.Errorf("keys: public key type %T is not supported", pub)
}

// SignatureAlgorithm is the algorithm a key of type t signs certificates with.
func (t Type) SignatureAlgorithm() x509.SignatureAlgorithm {
	switch t {
	case ECDSAP256:
		return x509.ECDSAWithSHA256
	case ECDSAP384:
		return x509.ECDSAWithSHA384
	default:
		return x509.SHA256WithRSA
	}
}
