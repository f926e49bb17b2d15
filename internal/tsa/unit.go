package tsa

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/x509"
	"encoding/asn1"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"time"

	"golang.org/x/crypto/cryptobyte"
	casn1 "golang.org/x/crypto/cryptobyte/asn1"

	"github.com/sceau/sceau/internal/cms"
	"github.com/sceau/sceau/internal/sceau"
)

// Stamper gets a time-stamp token for a digest: the unit of this
// installation (Unit) or an external TSA (Client). The archive stamps each
// item and tree head through it (ARC-5).
type Stamper interface {
	// Stamp returns the DER of a token (a ContentInfo, RFC 3161 §2.4.2)
	// over digest, made with hash (SHA-256, SHA-384 or SHA-512). It carries
	// the unit's certificates.
	Stamp(ctx context.Context, digest []byte, hash crypto.Hash) ([]byte, error)
}

var (
	_ Stamper = (*Unit)(nil)
	_ Stamper = (*Client)(nil)
)

// UnitOptions configure a Unit.
type UnitOptions struct {
	// Signer holds the key of Chain[0]. Security: it signs every token;
	// it comes from the keystore and never leaves it.
	Signer crypto.Signer
	// Chain is the unit's certificate (timeStamping, the only extended key
	// usage, critical), then its issuers; the root may be left out.
	Chain []*x509.Certificate
	// Policy is the TSA policy OID put in every token. Required.
	Policy asn1.ObjectIdentifier
	// Accuracy is how far genTime may be from UTC; 0 puts none in the
	// tokens. Below a second genTime gets the fraction it needs.
	Accuracy time.Duration
	// Clock gives genTime; nil is the real clock.
	Clock sceau.Clock
	// Guard is asked before each signature: an error refuses the request
	// with timeNotAvailable (SYS-4: the node passes its clock guard). Nil
	// asks nothing.
	Guard func() error
	// Rand draws serial numbers; nil is crypto/rand.
	Rand io.Reader
	// Log receives the failures a client only sees as systemFailure; nil
	// discards.
	Log *slog.Logger
}

// Unit is an RFC 3161 time-stamping unit. Safe for concurrent use.
type Unit struct {
	o UnitOptions
}

// NewUnit checks o and returns the unit: the signer must hold the key of
// Chain[0], whose certificate must be fit for time-stamping (RFC 3161
// §2.3), and the policy must be set.
func NewUnit(o UnitOptions) (*Unit, error) {
	const op = "tsa: unit"
	if o.Signer == nil || len(o.Chain) == 0 || o.Chain[0] == nil {
		return nil, sceau.Errorf(sceau.Invalid, op, "a signer and its certificate are required")
	}
	for i, c := range o.Chain {
		if c == nil {
			return nil, sceau.Errorf(sceau.Invalid, op, "chain certificate %d is nil", i)
		}
	}
	pub, ok := o.Signer.Public().(interface{ Equal(crypto.PublicKey) bool })
	if !ok || !pub.Equal(o.Chain[0].PublicKey) {
		return nil, sceau.Errorf(sceau.Invalid, op, "the signer's key is not the public key of certificate %q", o.Chain[0].Subject.String())
	}
	if err := checkUnitCertificate(o.Chain[0]); err != nil {
		return nil, err
	}
	if len(o.Policy) < 2 {
		return nil, sceau.Errorf(sceau.Invalid, op, "a TSA policy OID is required")
	}
	if o.Accuracy < 0 {
		return nil, sceau.Errorf(sceau.Invalid, op, "the accuracy %s is negative", o.Accuracy)
	}
	o.Clock = sceau.ClockOr(o.Clock)
	if o.Rand == nil {
		o.Rand = rand.Reader
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	return &Unit{o: o}, nil
}

// Certificate is the unit's certificate.
func (u *Unit) Certificate() *x509.Certificate { return u.o.Chain[0] }

// Chain is the unit's certificate and its issuers, as given.
func (u *Unit) Chain() []*x509.Certificate { return append([]*x509.Certificate(nil), u.o.Chain...) }

// Policy is the unit's TSA policy.
func (u *Unit) Policy() asn1.ObjectIdentifier { return u.o.Policy }

// Stamp returns a token over digest (the unit's own use: the archive). It
// carries the unit's certificates and no nonce. A refusal by Guard is an
// Unavailable error wrapping the guard's.
func (u *Unit) Stamp(ctx context.Context, digest []byte, hash crypto.Hash) ([]byte, error) {
	if err := checkImprint(hash, digest); err != nil {
		return nil, err
	}
	token, _, err := u.Issue(ctx, &Request{Hash: hash, Digest: digest, CertReq: true})
	return token, err
}

// Issue makes the token that answers req: a TSTInfo with the unit's policy
// (req.Policy must be it, or absent), req's imprint and nonce, a fresh
// 128-bit random serial number and genTime from the clock, signed with
// the ESS signingCertificateV2 of the unit's certificate, which the token
// carries when req.CertReq. It refuses when Guard errs (timeNotAvailable,
// kind Unavailable) or the certificate is not valid at genTime.
func (u *Unit) Issue(ctx context.Context, req *Request) ([]byte, *Info, error) {
	const op = "tsa: stamp"
	if err := ctx.Err(); err != nil {
		return nil, nil, sceau.E(sceau.Unavailable, op, "", err)
	}
	if err := checkImprint(req.Hash, req.Digest); err != nil {
		return nil, nil, err
	}
	if req.Policy != nil && !req.Policy.Equal(u.o.Policy) {
		return nil, nil, refuse(UnacceptedPolicy, "the requested policy %s is not this unit's (%s)", req.Policy, u.o.Policy)
	}
	// SYS-4: no token on a clock that is not trusted.
	if u.o.Guard != nil {
		if err := u.o.Guard(); err != nil {
			return nil, nil, sceau.E(sceau.Unavailable, op, "the time source is not available", failure{TimeNotAvailable, err})
		}
	}
	now := u.o.Clock.Now().UTC()
	cert := u.o.Chain[0]
	if now.Before(cert.NotBefore) || now.After(cert.NotAfter) {
		return nil, nil, sceau.Errorf(sceau.Unavailable, op, "the unit's certificate is not valid at %s (%s to %s)",
			now.Format(time.RFC3339), cert.NotBefore.Format(time.RFC3339), cert.NotAfter.Format(time.RFC3339))
	}
	serial, err := u.serial()
	if err != nil {
		return nil, nil, sceau.E(sceau.Internal, op, "no serial number", err)
	}
	info := &Info{Policy: u.o.Policy, Hash: req.Hash, Digest: append([]byte(nil), req.Digest...), Serial: serial,
		GenTime: now, Accuracy: u.o.Accuracy, Nonce: req.Nonce, Signer: cert}
	tst, err := marshalTSTInfo(info)
	if err != nil {
		return nil, nil, sceau.E(sceau.Internal, op, "", err)
	}
	token, err := cms.SignEncapsulated(oidTSTInfo, tst, u.o.Signer, cert, u.o.Chain[1:], cms.EncapsulateOptions{OmitCertificates: !req.CertReq})
	if err != nil {
		return nil, nil, sceau.E(sceau.Unavailable, op, "the unit's key cannot sign", err)
	}
	// What is returned is what the token says, to the fraction written.
	info.GenTime, _ = parseGenTime(formatGenTime(now, u.o.Accuracy))
	return token, info, nil
}

// serial draws 128 random bits, never zero.
func (u *Unit) serial() (*big.Int, error) {
	b := make([]byte, 16)
	for {
		if _, err := io.ReadFull(u.o.Rand, b); err != nil {
			return nil, err
		}
		if s := new(big.Int).SetBytes(b); s.Sign() > 0 {
			return s, nil
		}
	}
}

// Respond answers der, a TimeStampReq, with the DER of a TimeStampResp:
// granted with the token, or a rejection with the reason (failInfo) and a
// statusString saying what is wrong. The error is nil when granted, and
// otherwise the refusal: of kind Invalid for the request's fault,
// Unavailable when the time or the key is not (the response is then still
// a TimeStampResp to send).
func (u *Unit) Respond(ctx context.Context, der []byte) ([]byte, error) {
	req, err := ParseRequest(der)
	if err == nil {
		var token []byte
		if token, _, err = u.Issue(ctx, req); err == nil {
			return marshalResponse(statusGranted, "", 0, token), nil
		}
	}
	if f := failureOf(err); f == SystemFailure {
		u.o.Log.Error("tsa: a request could not be answered", "err", err)
	}
	return Rejection(err), err
}

// PKIStatus values (RFC 3161 §2.4.2).
const (
	statusGranted         = 0
	statusGrantedWithMods = 1
	statusRejection       = 2
)

// Rejection returns the DER of a TimeStampResp that rejects a request for
// err: failInfo is the FailureInfo err carries (systemFailure when none),
// statusString its message as a client may see it (sceau.Message).
func Rejection(err error) []byte {
	return marshalResponse(statusRejection, sceau.Message(err), failureOf(err), nil)
}

// failure is a cause that is both a FailureInfo and another error (the
// guard's), for errors.Is and errors.As on each.
type failure struct {
	info FailureInfo
	err  error
}

func (f failure) Error() string   { return f.err.Error() }
func (f failure) Unwrap() []error { return []error{f.info, f.err} }

// marshalResponse returns the DER of a TimeStampResp; failInfo is only
// written for a rejection.
func marshalResponse(status int64, text string, f FailureInfo, token []byte) []byte {
	var b cryptobyte.Builder
	b.AddASN1(casn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1(casn1.SEQUENCE, func(b *cryptobyte.Builder) { // PKIStatusInfo
			b.AddASN1Int64(status)
			if text != "" {
				b.AddASN1(casn1.SEQUENCE, func(b *cryptobyte.Builder) { // PKIFreeText
					b.AddASN1(casn1.UTF8String, func(b *cryptobyte.Builder) { b.AddBytes([]byte(text)) })
				})
			}
			if status == statusRejection {
				b.AddASN1(casn1.BIT_STRING, func(b *cryptobyte.Builder) { b.AddBytes(failureBits(f)) })
			}
		})
		if token != nil {
			b.AddBytes(token)
		}
	})
	der, err := b.Bytes()
	if err != nil {
		panic(fmt.Sprintf("tsa: %v", err)) // unreachable: the token is DER already, the rest is constant
	}
	return der
}

// failureBits is the DER of the named BIT STRING with bit f set (X.690
// §11.2.2: trailing zero bits removed), with its leading unused-bits byte.
func failureBits(f FailureInfo) []byte {
	n := int(f)/8 + 1
	out := make([]byte, 1+n)
	out[0] = byte(7 - int(f)%8)
	out[1+int(f)/8] = 0x80 >> (int(f) % 8)
	return out
}
