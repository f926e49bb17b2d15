package ceremony

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/sceau/sceau/internal/sceau"
)

// SignatureFormat names the version of transcript.sig.
const SignatureFormat = "sceau-ceremony-signature-v1"

// Signature algorithms of transcript keys.
const (
	AlgECDSAP256 = "ecdsa-p256-sha256" // ASN.1 DER ECDSA signature of SHA-256(transcript.json)
	AlgEd25519   = "ed25519-sha256"    // Ed25519 signature of SHA-256(transcript.json)
)

// Signature is transcript.sig: the signature of the SHA-256 of
// transcript.json, with the public key that made it. The public key in it
// is never trusted on its own: Verify compares its fingerprint with one
// given from outside. With OpenSSL, for an ECDSA key:
//
//	openssl dgst -sha256 -verify key.pem -signature sig.der transcript.json
type Signature struct {
	Format string `json:"format"`
	// TranscriptID and TranscriptSHA256 say which transcript was signed.
	TranscriptID     string `json:"transcript_id"`
	TranscriptSHA256 string `json:"transcript_sha256"`
	Algorithm        string `json:"algorithm"`
	// KeyFingerprint is the hex SHA-256 of the public key's DER SPKI.
	KeyFingerprint string `json:"key_fingerprint"`
	PublicKey      string `json:"public_key"` // PEM "PUBLIC KEY"
	Value          string `json:"signature"`  // base64
}

// Verification failures. Each names one way a transcript can be wrong.
var (
	ErrUnsigned        = errors.New("ceremony: the transcript is not signed")
	ErrMalformed       = errors.New("ceremony: the signature file is malformed")
	ErrEdited          = errors.New("ceremony: the transcript was changed after it was signed")
	ErrOtherTranscript = errors.New("ceremony: the signature is that of another transcript")
	ErrBadSignature    = errors.New("ceremony: the signature does not verify")
	ErrUntrustedKey    = errors.New("ceremony: the transcript was signed by a key that is not trusted")
	ErrSignerMismatch  = errors.New("ceremony: the transcript names another signing key than the one that signed it")
	ErrTextMismatch    = errors.New("ceremony: the readable transcript does not match the signed one")
	ErrOutputMismatch  = errors.New("ceremony: an exported file does not match the transcript")
)

// KeyFingerprint returns the hex SHA-256 of a public key's DER SPKI, and
// the SPKI.
func KeyFingerprint(pub crypto.PublicKey) (string, []byte, error) {
	spki, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return "", nil, err
	}
	sum := sha256.Sum256(spki)
	return hex.EncodeToString(sum[:]), spki, nil
}

// algorithmOf returns the transcript signature algorithm of a public key.
func algorithmOf(pub crypto.PublicKey) (string, error) {
	switch k := pub.(type) {
	case *ecdsa.PublicKey:
		if k.Curve == elliptic.P256() {
			return AlgECDSAP256, nil
		}
	case ed25519.PublicKey:
		return AlgEd25519, nil
	}
	return "", fmt.Errorf("ceremony: a transcript key must be ECDSA P-256 or Ed25519, not %T", pub)
}

// Sign signs transcript (the bytes of transcript.json) with signer.
func Sign(transcript []byte, id string, signer crypto.Signer) (*Signature, error) {
	const op = "ceremony: sign transcript"
	alg, err := algorithmOf(signer.Public())
	if err != nil {
		return nil, sceau.E(sceau.Invalid, op, "", err)
	}
	fp, spki, err := KeyFingerprint(signer.Public())
	if err != nil {
		return nil, sceau.E(sceau.Internal, op, "", err)
	}
	digest := sha256.Sum256(transcript)
	var opts crypto.SignerOpts = crypto.SHA256
	if alg == AlgEd25519 {
		opts = crypto.Hash(0) // Ed25519 signs the message: here the digest
	}
	sig, err := signer.Sign(rand.Reader, digest[:], opts)
	if err != nil {
		return nil, sceau.E(sceau.Unavailable, op, "the transcript key cannot sign", err)
	}
	return &Signature{Format: SignatureFormat, TranscriptID: id, TranscriptSHA256: hex.EncodeToString(digest[:]), Algorithm: alg,
		KeyFingerprint: fp, PublicKey: pemPublicKey(spki),
		Value: base64.StdEncoding.EncodeToString(sig)}, nil
}

// Marshal returns transcript.sig.
func (s *Signature) Marshal() ([]byte, error) {
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

func pemPublicKey(spki []byte) string {
	return string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: spki}))
}

// ParseSignature reads transcript.sig.
func ParseSignature(b []byte) (*Signature, error) {
	var s Signature
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&s); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	if s.Format != SignatureFormat {
		return nil, fmt.Errorf("%w: format %q is not %s", ErrMalformed, s.Format, SignatureFormat)
	}
	return &s, nil
}

// ParseFingerprint reads a key fingerprint as written down: 64 hex digits,
// in any case, with or without spaces or colons.
func ParseFingerprint(s string) (string, error) {
	clean := strings.Map(func(r rune) rune {
		if r == ' ' || r == ':' || r == '\t' || r == '-' {
			return -1
		}
		return r
	}, strings.ToLower(s))
	if b, err := hex.DecodeString(clean); err != nil || len(b) != sha256.Size {
		return "", sceau.Errorf(sceau.Invalid, "ceremony: fingerprint", "%q is not a SHA-256 fingerprint (64 hex digits)", s)
	}
	return clean, nil
}

// Verified is what a successful verification established.
type Verified struct {
	Transcript     *Transcript
	SHA256         string
	KeyFingerprint string
}

// Verify checks transcript (the bytes of transcript.json) against sig and
// the trusted key fingerprints: the transcript is the one signed, byte for
// byte; the signature verifies; the signing key is trusted; the
// transcript names that key as its signer. The error says precisely what
// is wrong and wraps one of the Err values.
func Verify(transcript []byte, sig *Signature, trusted []string) (*Verified, error) {
	const op = "ceremony: verify"
	fail := func(sentinel error, format string, args ...any) (*Verified, error) {
		return nil, sceau.E(sceau.Invalid, op, fmt.Sprintf(format, args...), sentinel)
	}
	if sig == nil {
		return fail(ErrUnsigned, "there is no signature")
	}
	// The key: well formed and consistent with its stated fingerprint.
	blk, _ := pem.Decode([]byte(sig.PublicKey))
	if blk == nil || blk.Type != "PUBLIC KEY" {
		return fail(ErrMalformed, "the public key in the signature file is not a PEM public key")
	}
	pub, err := x509.ParsePKIXPublicKey(blk.Bytes)
	if err != nil {
		return fail(ErrMalformed, "the public key in the signature file cannot be parsed: %v", err)
	}
	sum := sha256.Sum256(blk.Bytes)
	keyFP := hex.EncodeToString(sum[:])
	if keyFP != sig.KeyFingerprint {
		return fail(ErrMalformed, "the signature file's public key has fingerprint %s, not the %s it states", keyFP, sig.KeyFingerprint)
	}
	alg, err := algorithmOf(pub)
	if err != nil || alg != sig.Algorithm {
		return fail(ErrMalformed, "the signature file states algorithm %q for a key of type %T", sig.Algorithm, pub)
	}
	value, err := base64.StdEncoding.DecodeString(sig.Value)
	if err != nil {
		return fail(ErrMalformed, "the signature value is not base64")
	}

	// The transcript: the very bytes that were signed.
	digest := sha256.Sum256(transcript)
	got := hex.EncodeToString(digest[:])
	if got != sig.TranscriptSHA256 {
		t, perr := ParseTranscript(transcript)
		if perr == nil && sig.TranscriptID != "" && t.ID != sig.TranscriptID {
			return fail(ErrOtherTranscript, "the signature file is that of transcript %s (SHA-256 %s), but the transcript is %s (SHA-256 %s)",
				sig.TranscriptID, sig.TranscriptSHA256, t.ID, got)
		}
		return fail(ErrEdited, "transcript.json has SHA-256 %s, but the signed transcript had %s: it was edited after signing", got, sig.TranscriptSHA256)
	}
	if !verifySignature(pub, digest[:], value) {
		return fail(ErrBadSignature, "the signature of transcript %s by key %s does not verify: the signature was replaced or damaged", sig.TranscriptID, Grouped(keyFP))
	}
	// Trust comes from outside: the fingerprint the witness wrote down, or
	// the installation's recorded transcript keys.
	if !slices.Contains(trusted, keyFP) {
		want := "no trusted key was given"
		if len(trusted) > 0 {
			var g []string
			for _, t := range trusted {
				g = append(g, Grouped(t))
			}
			want = "trusted: " + strings.Join(g, "; ")
		}
		return fail(ErrUntrustedKey, "the transcript was signed by key %s, which is not trusted (%s)", Grouped(keyFP), want)
	}
	t, err := ParseTranscript(transcript)
	if err != nil {
		return fail(ErrMalformed, "the signed transcript cannot be read: %v", err)
	}
	if t.ID != sig.TranscriptID {
		return fail(ErrOtherTranscript, "the signature file names transcript %s, the transcript is %s", sig.TranscriptID, t.ID)
	}
	if t.Signer == nil || t.Signer.Fingerprint != keyFP {
		return fail(ErrSignerMismatch, "the transcript does not name key %s as its signer", Grouped(keyFP))
	}
	return &Verified{Transcript: t, SHA256: got, KeyFingerprint: keyFP}, nil
}

func verifySignature(pub crypto.PublicKey, digest, sig []byte) bool {
	switch k := pub.(type) {
	case *ecdsa.PublicKey:
		return ecdsa.VerifyASN1(k, digest, sig)
	case ed25519.PublicKey:
		return ed25519.Verify(k, digest, sig)
	}
	return false
}
