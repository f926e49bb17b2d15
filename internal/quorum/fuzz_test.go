package quorum

import (
	"encoding/json"
	"testing"
)

// A share file comes from outside (a holder's medium, then the admin API):
// whatever its bytes, reading and opening it never panics, and only the
// genuine file with its PIN gives the share back (KEY-2).
func FuzzKEY2_ShareFile(f *testing.F) {
	shares, err := Split([]byte("0123456789abcdef0123456789abcdef"), 2, 3, nil)
	if err != nil {
		f.Fatal(err)
	}
	sealed, err := Seal(shares[0], "ca-issuing", "alice", []byte("alice-pin-1234"))
	if err != nil {
		f.Fatal(err)
	}
	// A cheap KDF keeps the fuzzer fast; the checks are the same.
	sealed.Time, sealed.Memory, sealed.Threads = 1, 8*1024, 1
	sealed, err = reseal(sealed, shares[0], []byte("alice-pin-1234"))
	if err != nil {
		f.Fatal(err)
	}
	good, _ := json.Marshal(sealed)
	f.Add(good, []byte("alice-pin-1234"))
	f.Add([]byte(`{"version":1}`), []byte("x"))
	f.Add([]byte(`[]`), []byte(""))
	f.Fuzz(func(t *testing.T, b, pin []byte) {
		var sf ShareFile
		if json.Unmarshal(b, &sf) != nil {
			return
		}
		if sf.Memory > 16*1024 || sf.Time > 2 {
			return // a costly KDF: refused or slow by design, not a parser question
		}
		s, err := sf.Open("ca-issuing", "alice", pin)
		if err == nil && (string(b) != string(good) || string(pin) != "alice-pin-1234") && s.X != shares[0].X {
			t.Fatalf("an altered share file opened: share x=%d", s.X)
		}
	})
}

// reseal seals share again under the KDF parameters f carries.
func reseal(f *ShareFile, share Share, pin []byte) (*ShareFile, error) {
	aead, err := f.aead(pin)
	if err != nil {
		return nil, err
	}
	plain := append([]byte{share.X}, share.Y...)
	f.Ciphertext = aead.Seal(nil, f.Nonce, plain, f.additionalData())
	return f, nil
}

// A card share arrives from a holder's terminal over the admin API.
func FuzzKEY2_CardShare(f *testing.F) {
	shares, _ := Split([]byte("0123456789abcdef0123456789abcdef"), 2, 3, nil)
	good, _ := NewCardShare(shares[1], "ca-issuing", "bob").Marshal()
	f.Add(good)
	f.Add([]byte(`{}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		cs, err := ParseCardShare(b)
		if err != nil {
			return
		}
		defer cs.Wipe()
		_, _ = cs.Open("ca-issuing", "bob")
	})
}
