package keys_test

import (
	"crypto"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sceau/sceau/internal/keys"
	"github.com/sceau/sceau/internal/sceau"
)

var secret = []byte("correct horse battery staple 2026")

func sign(t *testing.T, s crypto.Signer) error {
	t.Helper()
	d := sha256.Sum256([]byte("hello"))
	_, err := s.Sign(rand.Reader, d[:], crypto.SHA256)
	return err
}

func TestKEY5_DeactivatedStoreSignsNothing(t *testing.T) {
	dir := t.TempDir()
	ks := keys.OpenSoftStore(dir)
	if err := ks.Init(secret); err != nil {
		t.Fatal(err)
	}
	s, err := ks.Generate("ca-test", keys.ECDSAP256)
	if err != nil {
		t.Fatal(err)
	}
	if err := sign(t, s); err != nil {
		t.Fatalf("active store: %v", err)
	}
	ks.Deactivate()
	if err := sign(t, s); !errors.Is(err, keys.ErrNotActivated) {
		t.Fatalf("after Deactivate: %v, want ErrNotActivated", err)
	}
	// A restarted process (a new store value) signs nothing until activated.
	ks2 := keys.OpenSoftStore(dir)
	s2, err := ks2.Signer("ca-test")
	if err != nil {
		t.Fatalf("the public half is readable before activation: %v", err)
	}
	if err := sign(t, s2); !errors.Is(err, keys.ErrNotActivated) {
		t.Fatalf("fresh process: %v, want ErrNotActivated", err)
	}
	if err := ks2.Activate(secret); err != nil {
		t.Fatal(err)
	}
	if err := sign(t, s2); err != nil {
		t.Fatalf("after activation, the same signer signs: %v", err)
	}
	ks2.Deactivate()
	if err := sign(t, s2); !errors.Is(err, keys.ErrNotActivated) {
		t.Fatalf("after a second deactivation: %v", err)
	}
	if err := ks2.Activate(secret); err != nil {
		t.Fatal(err)
	}
	if !s2.Public().(interface{ Equal(crypto.PublicKey) bool }).Equal(s.Public()) {
		t.Fatal("reloaded key differs")
	}
}

func TestKEY4_KeystoreRefusesWrongSecretAndEditedFiles(t *testing.T) {
	dir := t.TempDir()
	ks := keys.OpenSoftStore(dir)
	if err := ks.Init(secret); err != nil {
		t.Fatal(err)
	}
	if _, err := ks.Generate("ca-x", keys.RSA2048); err != nil {
		t.Fatal(err)
	}
	if err := keys.OpenSoftStore(dir).Activate([]byte("wrong secret, long enough anyway")); sceau.KindOf(err) != sceau.Denied {
		t.Fatalf("wrong secret: %v, want Denied", err)
	}
	// The key file holds no clear key material and fails when edited.
	path := filepath.Join(dir, "ca-x.key")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(b), "PRIVATE KEY") {
		t.Fatal("key file holds a clear private key")
	}
	i := strings.Index(string(b), `"ciphertext": "`) + len(`"ciphertext": "`) + 10
	if b[i] == 'A' {
		b[i] = 'B'
	} else {
		b[i] = 'A'
	}
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	ks2 := keys.OpenSoftStore(dir)
	if err := ks2.Activate(secret); err != nil {
		t.Fatal(err)
	}
	if _, err := ks2.Signer("ca-x"); err == nil || !strings.Contains(err.Error(), "fails authentication") {
		t.Fatalf("edited key file: %v", err)
	}
	// Never overwrite a key, never accept a path as a label.
	if _, err := ks2.Generate("ca-x", keys.ECDSAP256); sceau.KindOf(err) != sceau.Conflict {
		t.Fatalf("overwrite: %v", err)
	}
	if _, err := ks2.Generate("../escape", keys.ECDSAP256); sceau.KindOf(err) != sceau.Invalid {
		t.Fatalf("path label: %v", err)
	}
	if err := keys.OpenSoftStore(dir).Init(secret); sceau.KindOf(err) != sceau.Conflict {
		t.Fatalf("re-init: %v", err)
	}
}
