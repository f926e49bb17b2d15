package quorum

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func TestKEY2_ShareFileOpensOnlyForItsKeyHolderAndPIN(t *testing.T) {
	shares, err := Split([]byte("the token user PIN 0123456789abcdef"), 2, 3, nil)
	if err != nil {
		t.Fatal(err)
	}
	pin := []byte("correct PIN 42")
	f, err := Seal(shares[1], "ca-issuing", "alice", pin)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "alice.share")
	if err := f.WriteFile(path); err != nil {
		t.Fatal(err)
	}
	if err := f.WriteFile(path); err == nil {
		t.Fatal("a share file was overwritten")
	}
	read, err := ReadShareFile(path)
	if err != nil {
		t.Fatal(err)
	}
	got, err := read.Open("ca-issuing", "alice", pin)
	if err != nil || got.X != shares[1].X || !bytes.Equal(got.Y, shares[1].Y) || got.SetID != shares[1].SetID {
		t.Fatalf("open: %+v %v", got, err)
	}
	cases := []struct {
		name        string
		key, holder string
		pin         []byte
		edit        func(*ShareFile)
		want        error
	}{
		{"wrong PIN", "ca-issuing", "alice", []byte("wrong PIN 4242"), nil, ErrWrongPIN},
		{"another key", "ca-root", "alice", pin, nil, ErrWrongKey},
		{"another holder", "ca-issuing", "bob", pin, nil, ErrWrongHolder},
		{"ciphertext edited", "ca-issuing", "alice", pin, func(f *ShareFile) { f.Ciphertext[3] ^= 1 }, ErrWrongPIN},
		{"threshold edited", "ca-issuing", "alice", pin, func(f *ShareFile) { f.Threshold = 1 }, ErrWrongPIN},
		{"relabelled for bob", "ca-issuing", "bob", pin, func(f *ShareFile) { f.Holder = "bob" }, ErrWrongPIN},
		{"bad nonce", "ca-issuing", "alice", pin, func(f *ShareFile) { f.Nonce = f.Nonce[:4] }, ErrDamagedCarrier},
		{"absurd KDF cost", "ca-issuing", "alice", pin, func(f *ShareFile) { f.Memory = 1 << 30 }, ErrDamagedCarrier},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			g, _ := ReadShareFile(path)
			if c.edit != nil {
				c.edit(g)
			}
			if _, err := g.Open(c.key, c.holder, c.pin); !errors.Is(err, c.want) {
				t.Fatalf("got %v, want %v", err, c.want)
			}
		})
	}
	if err := os.WriteFile(path+".bad", []byte(`{"version": 1, "ciph`), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadShareFile(path + ".bad"); !errors.Is(err, ErrDamagedCarrier) {
		t.Fatalf("truncated file: %v", err)
	}
	if _, err := Seal(shares[0], "ca-issuing", "alice", []byte("short")); err == nil {
		t.Fatal("a short PIN was accepted")
	}
}
