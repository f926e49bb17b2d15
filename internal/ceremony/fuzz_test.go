package ceremony

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"testing"
)

// Verification reads outside input (a transcript and a signature file
// handed over for checking): whatever the bytes, it never panics and
// accepts only the genuine pair.
func FuzzKEY8_Verify(f *testing.F) {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	fp, _, _ := KeyFingerprint(key.Public())
	tr := sampleTranscript()
	tr.Signer = &SignerRecord{Label: KeyLabel, Algorithm: AlgECDSAP256, Fingerprint: fp}
	good, _ := tr.Marshal()
	sig, _ := Sign(good, tr.ID, key)
	goodSig, _ := sig.Marshal()
	f.Add(good, goodSig)
	f.Add([]byte("{}"), []byte("{}"))
	f.Add(good, []byte(`{"format":"sceau-ceremony-signature-v1","public_key":"-----BEGIN PUBLIC KEY-----\nAA==\n-----END PUBLIC KEY-----\n"}`))
	f.Fuzz(func(t *testing.T, transcript, sigFile []byte) {
		s, err := ParseSignature(sigFile)
		if err != nil {
			return
		}
		v, err := Verify(transcript, s, []string{fp})
		if err == nil && (string(transcript) != string(good) || v.KeyFingerprint != fp) {
			t.Fatalf("accepted a transcript that was not signed")
		}
	})
}
