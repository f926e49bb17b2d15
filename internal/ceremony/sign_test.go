package ceremony

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// signedTranscript returns a transcript signed by key, its JSON and signature.
func signedTranscript(t *testing.T, key crypto.Signer, id, location string) ([]byte, *Signature) {
	t.Helper()
	fp, _, err := KeyFingerprint(key.Public())
	if err != nil {
		t.Fatal(err)
	}
	alg, _ := algorithmOf(key.Public())
	tr := sampleTranscript()
	tr.ID, tr.Location = id, location
	tr.Signer = &SignerRecord{Label: KeyLabel, Algorithm: alg, Fingerprint: fp}
	b, err := tr.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	sig, err := Sign(b, id, key)
	if err != nil {
		t.Fatal(err)
	}
	return b, sig
}

func p256(t *testing.T) *ecdsa.PrivateKey {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func fingerprintOf(t *testing.T, k crypto.Signer) string {
	fp, _, err := KeyFingerprint(k.Public())
	if err != nil {
		t.Fatal(err)
	}
	return fp
}

// Every way of tampering with a signed transcript is detected, and named:
// an edited byte, a changed fingerprint with its hash updated, a signature
// swapped from another transcript, a signature value swapped, verification
// against another key, a transcript re-signed by another key (KEY-8).
func TestKEY8_TranscriptTamperingDetected(t *testing.T) {
	key, other := p256(t), p256(t)
	trusted := []string{fingerprintOf(t, key)}
	good, sig := signedTranscript(t, key, "20260314-0000000000000001", "Test site, room 1")
	if v, err := Verify(good, sig, trusted); err != nil || v.Transcript.ID != "20260314-0000000000000001" {
		t.Fatalf("the genuine transcript: %v", err)
	}
	otherJSON, otherSig := signedTranscript(t, key, "20260314-0000000000000002", "Test site, room 9")
	cert := sampleTranscript().CAs[0].CertSHA256

	tests := []struct {
		name    string
		json    func() []byte
		sig     func() *Signature
		trusted []string
		want    error
		msg     string
	}{
		{"one byte of the JSON edited", func() []byte {
			b := bytes.Clone(good)
			i := bytes.Index(b, []byte("room 1"))
			b[i+5] = '2'
			return b
		}, nil, trusted, ErrEdited, "edited after signing"},
		{"a fingerprint changed and the hash updated", func() []byte {
			return bytes.Replace(good, []byte(cert), []byte(strings.Repeat("0", 64)), 1)
		}, func() *Signature {
			s := *sig
			b := bytes.Replace(good, []byte(cert), []byte(strings.Repeat("0", 64)), 1)
			sum := sha256.Sum256(b)
			s.TranscriptSHA256 = hex.EncodeToString(sum[:])
			return &s
		}, trusted, ErrBadSignature, "does not verify"},
		{"the signature file of another transcript", nil, func() *Signature { return otherSig }, trusted, ErrOtherTranscript,
			"is that of transcript 20260314-0000000000000002"},
		{"the signature value of another transcript", nil, func() *Signature {
			s := *sig
			s.Value = otherSig.Value
			return &s
		}, trusted, ErrBadSignature, "does not verify"},
		{"verified with another key", nil, nil, []string{fingerprintOf(t, other)}, ErrUntrustedKey, "which is not trusted"},
		{"no trusted key", nil, nil, nil, ErrUntrustedKey, "no trusted key was given"},
		{"re-signed by another key", func() []byte { return otherJSON }, func() *Signature {
			s, err := Sign(otherJSON, "20260314-0000000000000002", other)
			if err != nil {
				t.Fatal(err)
			}
			return s
		}, trusted, ErrUntrustedKey, "which is not trusted"},
		{"a signer that is not the one named", func() []byte { return good }, func() *Signature {
			s, err := Sign(good, "20260314-0000000000000001", other)
			if err != nil {
				t.Fatal(err)
			}
			return s
		}, []string{fingerprintOf(t, other)}, ErrSignerMismatch, "does not name key"},
		{"a public key that does not match its fingerprint", nil, func() *Signature {
			s := *sig
			s.KeyFingerprint = strings.Repeat("1", 64)
			return &s
		}, trusted, ErrMalformed, "not the 1111"},
		{"no signature", nil, func() *Signature { return nil }, trusted, ErrUnsigned, "no signature"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			j, s := good, sig
			if tc.json != nil {
				j = tc.json()
			}
			if tc.sig != nil {
				s = tc.sig()
			}
			_, err := Verify(j, s, tc.trusted)
			if !errors.Is(err, tc.want) {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
			if !strings.Contains(err.Error(), tc.msg) {
				t.Errorf("message %q lacks %q", err, tc.msg)
			}
		})
	}
}

// On disk, the readable copy and the exported files are checked against
// the signed transcript too.
func TestKEY8_VerifyFilesChecksTextAndOutputs(t *testing.T) {
	key := p256(t)
	dir := t.TempDir()
	tr := sampleTranscript()
	fp := fingerprintOf(t, key)
	tr.Signer = &SignerRecord{Label: KeyLabel, Algorithm: AlgECDSAP256, Fingerprint: fp}
	pemFile := []byte("-----BEGIN CERTIFICATE-----\n…\n")
	tr.Outputs = []FileRecord{{File: "root.pem", SHA256: sum(pemFile)}, {File: "root.crl", SHA256: sum([]byte("crl"))}}
	b, _ := tr.Marshal()
	sig, _ := Sign(b, tr.ID, key)
	sb, _ := sig.Marshal()
	write := func(name string, data []byte) { os.WriteFile(filepath.Join(dir, name), data, 0o644) }
	write("transcript.json", b)
	write("transcript.sig", sb)
	write("transcript.txt", []byte(tr.Text()))
	write("root.pem", pemFile)
	jsonPath, sigPath := filepath.Join(dir, "transcript.json"), filepath.Join(dir, "transcript.sig")

	_, notes, err := VerifyFiles(jsonPath, sigPath, []string{fp})
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(notes, "\n"); !strings.Contains(got, "root.pem: SHA-256 as recorded") || !strings.Contains(got, "root.crl: absent") {
		t.Errorf("notes: %s", got)
	}
	write("transcript.txt", []byte(strings.Replace(tr.Text(), "Test site", "Other site", 1)))
	if _, _, err := VerifyFiles(jsonPath, sigPath, []string{fp}); !errors.Is(err, ErrTextMismatch) || !strings.Contains(err.Error(), "at line") {
		t.Errorf("edited text: %v", err)
	}
	write("transcript.txt", []byte(tr.Text()))
	write("root.pem", append(pemFile, '\n'))
	if _, _, err := VerifyFiles(jsonPath, sigPath, []string{fp}); !errors.Is(err, ErrOutputMismatch) {
		t.Errorf("edited certificate: %v", err)
	}
	os.Remove(sigPath)
	if _, _, err := VerifyFiles(jsonPath, sigPath, []string{fp}); !errors.Is(err, ErrUnsigned) {
		t.Errorf("no signature file: %v", err)
	}
}

// An Ed25519 transcript key works as well as ECDSA P-256; other keys are
// refused.
func TestKEY8_TranscriptKeyAlgorithms(t *testing.T) {
	_, ed, _ := ed25519.GenerateKey(rand.Reader)
	b, sig := signedTranscript(t, ed, "20260314-00000000000000ed", "here")
	if sig.Algorithm != AlgEd25519 {
		t.Fatalf("algorithm %s", sig.Algorithm)
	}
	if _, err := Verify(b, sig, []string{fingerprintOf(t, ed)}); err != nil {
		t.Fatal(err)
	}
	p384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if _, err := Sign(b, "x", p384); err == nil {
		t.Error("a P-384 key signed a transcript")
	}
	raw, _ := base64.StdEncoding.DecodeString(sig.Value)
	if len(raw) != ed25519.SignatureSize {
		t.Errorf("signature of %d bytes", len(raw))
	}
}

func TestKEY8_FingerprintsAreReadAsWrittenDown(t *testing.T) {
	fp := strings.Repeat("ab", 32)
	for _, in := range []string{fp, strings.ToUpper(fp), Grouped(fp), "AB:AB:" + strings.Repeat("ab", 30)} {
		if got, err := ParseFingerprint(in); err != nil || got != fp {
			t.Errorf("%q: %q %v", in, got, err)
		}
	}
	for _, in := range []string{"", "abcd", strings.Repeat("zz", 32)} {
		if _, err := ParseFingerprint(in); err == nil {
			t.Errorf("%q accepted", in)
		}
	}
}
