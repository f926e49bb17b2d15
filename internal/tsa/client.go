package tsa

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rand"
	"crypto/x509"
	"encoding/asn1"
	"fmt"
	"io"
	"math/big"
	"mime"
	"net/http"
	"strings"
	"time"

	"golang.org/x/crypto/cryptobyte"
	casn1 "golang.org/x/crypto/cryptobyte/asn1"

	"github.com/sceau/sceau/internal/sceau"
)

// maxReplyBytes bounds an external TSA's reply: a token with a chain of
// RSA-4096 certificates is a few KiB.
const maxReplyBytes = 1 << 20

// Client asks an external time-stamping authority (RFC 3161 §3.4, HTTP) and
// checks its tokens, so that the archive can be stamped by a third party
// instead of the installation's own unit.
type Client struct {
	// URL is where TimeStampReqs are posted. Required.
	URL string
	// Roots are the trust anchors of the TSA's certificate; every token is
	// verified against them (Verify) before Stamp returns it. Required.
	Roots *x509.CertPool
	// Intermediates help build the chain when the TSA's tokens do not
	// carry it.
	Intermediates []*x509.Certificate
	// Policy is sent as reqPolicy and required in the tokens; nil leaves
	// the choice to the TSA.
	Policy asn1.ObjectIdentifier
	// HTTP sends the requests; nil is a client with a 30 s timeout.
	HTTP *http.Client
	// Rand draws nonces; nil is crypto/rand.
	Rand io.Reader
}

// Stamp asks the TSA for a token over digest: a request with a fresh
// 128-bit nonce and certReq, posted to URL; the reply must be granted,
// and its token must verify against Roots with the request's nonce,
// message imprint and policy. A rejection or an unreachable TSA is an
// Unavailable error; a token that does not verify, an Invalid one.
func (c *Client) Stamp(ctx context.Context, digest []byte, hash crypto.Hash) ([]byte, error) {
	const op = "tsa: client"
	if c.Roots == nil || c.URL == "" {
		return nil, sceau.Errorf(sceau.Invalid, op, "the client needs a URL and the TSA's roots")
	}
	if err := checkImprint(hash, digest); err != nil {
		return nil, err
	}
	r := c.Rand
	if r == nil {
		r = rand.Reader
	}
	b := make([]byte, 16)
	if _, err := io.ReadFull(r, b); err != nil {
		return nil, sceau.E(sceau.Internal, op, "no nonce", err)
	}
	req := &Request{Hash: hash, Digest: digest, Policy: c.Policy, Nonce: new(big.Int).SetBytes(b), CertReq: true}
	der, err := req.Marshal()
	if err != nil {
		return nil, err
	}
	hr, err := http.NewRequestWithContext(ctx, http.MethodPost, c.URL, bytes.NewReader(der))
	if err != nil {
		return nil, sceau.E(sceau.Invalid, op, "bad TSA URL", err)
	}
	hr.Header.Set("Content-Type", QueryType)
	hr.Header.Set("Accept", ReplyType)
	hc := c.HTTP
	if hc == nil {
		hc = &http.Client{Timeout: 30 * time.Second}
	}
	resp, err := hc.Do(hr)
	if err != nil {
		return nil, sceau.E(sceau.Unavailable, op, "the TSA cannot be reached", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxReplyBytes+1))
	if err != nil {
		return nil, sceau.E(sceau.Unavailable, op, "the TSA's reply cannot be read", err)
	}
	if len(body) > maxReplyBytes {
		return nil, sceau.Errorf(sceau.Unavailable, op, "the TSA's reply is larger than %d bytes", maxReplyBytes)
	}
	if mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type")); mt != ReplyType {
		return nil, sceau.Errorf(sceau.Unavailable, op, "the TSA answered HTTP %d with %q, not a time-stamp reply: %s",
			resp.StatusCode, resp.Header.Get("Content-Type"), strings.TrimSpace(string(body[:min(len(body), 200)])))
	}
	reply, err := ParseResponse(body)
	if err != nil {
		return nil, sceau.E(sceau.Unavailable, op, "the TSA's reply", err)
	}
	if !reply.Granted() {
		return nil, sceau.Errorf(sceau.Unavailable, op, "the TSA refused the request (HTTP %d): %s", resp.StatusCode, reply.describe())
	}
	if _, err := Verify(reply.Token, digest, hash, VerifyOptions{Roots: c.Roots, Intermediates: c.Intermediates, Nonce: req.Nonce, Policy: c.Policy}); err != nil {
		return nil, sceau.E(sceau.Invalid, op, "the TSA's token is refused", err)
	}
	return reply.Token, nil
}

// Response is a parsed TimeStampResp (RFC 3161 §2.4.2).
type Response struct {
	Status       int           // PKIStatus: 0 granted, 1 grantedWithMods, 2 rejection, …
	StatusString []string      // PKIFreeText, if any
	FailInfo     []FailureInfo // the bits of PKIFailureInfo that are set
	Token        []byte        // the DER of the token; nil when none
}

// Granted says whether the status grants a token (granted or
// grantedWithMods) and there is one.
func (r *Response) Granted() bool {
	return (r.Status == statusGranted || r.Status == statusGrantedWithMods) && r.Token != nil
}

func (r *Response) describe() string {
	names := map[int]string{0: "granted", 1: "grantedWithMods", 2: "rejection", 3: "waiting", 4: "revocationWarning", 5: "revocationNotification"}
	s, ok := names[r.Status]
	if !ok {
		s = fmt.Sprintf("status %d", r.Status)
	}
	for _, f := range r.FailInfo {
		s += ", " + f.String()
	}
	if len(r.StatusString) > 0 {
		s += ": " + strings.Join(r.StatusString, "; ")
	}
	return s
}

// ParseResponse parses the DER of a TimeStampResp. It does not verify the
// token (Verify does). It never panics; a refusal is an error of kind
// sceau.Invalid starting "tsa: ".
func ParseResponse(der []byte) (*Response, error) {
	in := cryptobyte.String(der)
	var resp, info cryptobyte.String
	if !in.ReadASN1(&resp, casn1.SEQUENCE) || !in.Empty() || !resp.ReadASN1(&info, casn1.SEQUENCE) {
		return nil, tokenInvalid("malformed TimeStampResp")
	}
	out := &Response{}
	var status int64
	if !info.ReadASN1Integer(&status) || status < 0 || status > 5 {
		return nil, tokenInvalid("malformed TimeStampResp status")
	}
	out.Status = int(status)
	if info.PeekASN1Tag(casn1.SEQUENCE) {
		var text cryptobyte.String
		if !info.ReadASN1(&text, casn1.SEQUENCE) {
			return nil, tokenInvalid("malformed TimeStampResp statusString")
		}
		for !text.Empty() {
			var s cryptobyte.String
			if !text.ReadASN1(&s, casn1.UTF8String) {
				return nil, tokenInvalid("malformed TimeStampResp statusString")
			}
			out.StatusString = append(out.StatusString, string(s))
		}
	}
	if info.PeekASN1Tag(casn1.BIT_STRING) {
		var bits asn1.BitString
		if !info.ReadASN1BitString(&bits) {
			return nil, tokenInvalid("malformed TimeStampResp failInfo")
		}
		for i := range min(bits.BitLength, 64) {
			if bits.At(i) == 1 {
				out.FailInfo = append(out.FailInfo, FailureInfo(i))
			}
		}
	}
	if !info.Empty() {
		return nil, tokenInvalid("malformed TimeStampResp status")
	}
	if !resp.Empty() {
		var token cryptobyte.String
		if !resp.ReadASN1Element(&token, casn1.SEQUENCE) || !resp.Empty() {
			return nil, tokenInvalid("malformed TimeStampResp token")
		}
		out.Token = append([]byte{}, token...)
	}
	return out, nil
}
