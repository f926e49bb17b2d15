package acme

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"slices"

	jose "github.com/go-jose/go-jose/v4"
)

// The JWS algorithms accepted for account keys.
var accountAlgs = []jose.SignatureAlgorithm{jose.ES256, jose.RS256, jose.EdDSA}

func algNames() []string {
	out := make([]string, len(accountAlgs))
	for i, a := range accountAlgs {
		out[i] = string(a)
	}
	return out
}

// flattened is a JWS in the flattened JSON serialization (RFC 8555 §6.2).
type flattened struct {
	Protected string `json:"protected"`
	Payload   string `json:"payload"`
	Signature string `json:"signature"`
}

// header is the protected header of an ACME JWS.
type header struct {
	Alg   string           `json:"alg"`
	Nonce string           `json:"nonce"`
	URL   string           `json:"url"`
	KID   string           `json:"kid"`
	JWK   *jose.JSONWebKey `json:"jwk"`
}

// signed is a verified ACME request.
type signed struct {
	dir     Directory
	hdr     header
	payload []byte
	key     *jose.JSONWebKey // the key that verified it
	account *Account         // kid requests
	raw     []byte
}

// keyRule says which of kid and jwk a resource takes (RFC 8555 §6.2).
type keyRule int

const (
	needKID keyRule = iota
	needJWK
	eitherKey
)

// readBody reads a capped application/jose+json body.
func (s *Service) readBody(w http.ResponseWriter, r *http.Request) ([]byte, *problem) {
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/jose+json" {
		return nil, prob(probMalformed, http.StatusUnsupportedMediaType, "the body must be application/jose+json")
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, s.opts.MaxBody))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, prob(probMalformed, http.StatusRequestEntityTooLarge, fmt.Sprintf("the body is larger than %d bytes", s.opts.MaxBody))
		}
		return nil, malformed("the body could not be read")
	}
	return body, nil
}

// parseJWS decodes a flattened JWS and its protected header, checking the
// algorithm against algs.
func parseJWS(body []byte, algs []jose.SignatureAlgorithm) (*flattened, *header, *problem) {
	var f flattened
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(&f); err != nil || f.Protected == "" || f.Signature == "" {
		return nil, nil, malformed("the body is not a flattened JWS")
	}
	raw, err := base64.RawURLEncoding.DecodeString(f.Protected)
	if err != nil {
		return nil, nil, malformed("the protected header is not base64url")
	}
	var h header
	if err := json.Unmarshal(raw, &h); err != nil {
		return nil, nil, malformed("the protected header is not JSON")
	}
	if !slices.Contains(algs, jose.SignatureAlgorithm(h.Alg)) {
		p := prob(probBadSignatureAlg, http.StatusBadRequest, fmt.Sprintf("the JWS algorithm %q is not accepted", h.Alg))
		for _, a := range algs {
			p.Algorithms = append(p.Algorithms, string(a))
		}
		return nil, nil, p
	}
	return &f, &h, nil
}

// verifyWith checks the JWS signature with key and returns the payload.
func verifyWith(body []byte, alg string, key any) ([]byte, *problem) {
	jws, err := jose.ParseSigned(string(body), []jose.SignatureAlgorithm{jose.SignatureAlgorithm(alg)})
	if err != nil || len(jws.Signatures) != 1 {
		return nil, malformed("the JWS cannot be parsed")
	}
	payload, err := jws.Verify(key)
	if err != nil {
		return nil, malformed("JWS verification error: the signature does not verify")
	}
	return payload, nil
}

// checkKey refuses account keys Sceau does not accept.
func checkKey(k *jose.JSONWebKey) *problem {
	if k == nil || !k.Valid() || !k.IsPublic() {
		return prob(probBadPublicKey, http.StatusBadRequest, "the jwk is not a valid public key")
	}
	switch pub := k.Key.(type) {
	case *rsa.PublicKey:
		if pub.N.BitLen() < 2048 || pub.N.BitLen() > 8192 {
			return prob(probBadPublicKey, http.StatusBadRequest, "RSA account keys are 2048 to 8192 bits")
		}
	case *ecdsa.PublicKey:
		if pub.Curve != elliptic.P256() && pub.Curve != elliptic.P384() {
			return prob(probBadPublicKey, http.StatusBadRequest, "EC account keys are on P-256 or P-384")
		}
	case ed25519.PublicKey:
	default:
		return prob(probBadPublicKey, http.StatusBadRequest, "the key type is not accepted")
	}
	return nil
}

func thumbprint(k *jose.JSONWebKey) (string, error) {
	t, err := k.Thumbprint(crypto.SHA256)
	if err != nil {
		return "", err
	}
	return b64(t), nil
}

// verify checks an ACME POST: body size and type, algorithm, nonce, url,
// the kid/jwk rule, the account (kid) and the signature (RFC 8555 §6).
func (s *Service) verify(ctx context.Context, w http.ResponseWriter, r *http.Request, dir Directory, rule keyRule) (*signed, *problem) {
	body, p := s.readBody(w, r)
	if p != nil {
		return nil, p
	}
	_, h, p := parseJWS(body, accountAlgs)
	if p != nil {
		return nil, p
	}
	if h.Nonce == "" {
		return nil, prob(probBadNonce, http.StatusBadRequest, "the JWS has no nonce")
	}
	if !s.nonces.use(h.Nonce) {
		return nil, prob(probBadNonce, http.StatusBadRequest, "the nonce is unknown, used already or expired")
	}
	if want := s.requestURL(r); h.URL != want {
		return nil, unauthorized(fmt.Sprintf("the JWS url header %q is not the request's URL %q", h.URL, want))
	}
	if (h.KID == "") == (h.JWK == nil) {
		return nil, malformed("the JWS has exactly one of kid and jwk")
	}
	req := &signed{dir: dir, hdr: *h, raw: body}
	switch {
	case h.JWK != nil && rule == needKID:
		return nil, malformed("this resource takes a kid, not a jwk")
	case h.KID != "" && rule == needJWK:
		return nil, malformed("this resource takes a jwk, not a kid")
	case h.JWK != nil:
		if p := checkKey(h.JWK); p != nil {
			return nil, p
		}
		req.key = h.JWK
	default:
		acct, p := s.accountByKID(ctx, r, dir, h.KID)
		if p != nil {
			return nil, p
		}
		req.account, req.key = acct, acct.key
	}
	payload, p := verifyWith(body, h.Alg, req.key)
	if p != nil {
		return nil, p
	}
	req.payload = payload
	return req, nil
}

// postAsGet tells whether the request has the empty payload of a
// POST-as-GET.
func (r *signed) postAsGet() bool { return len(r.payload) == 0 }

// decode decodes the payload into v.
func (r *signed) decode(v any) *problem {
	if err := json.Unmarshal(r.payload, v); err != nil {
		return malformed("the payload is not the expected JSON object")
	}
	return nil
}
