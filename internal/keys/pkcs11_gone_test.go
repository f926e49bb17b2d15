//go:build cgo

package keys_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sceau/sceau/internal/keys"
)

// A token that disappears under a signer: signing fails with an error that
// names the token and holds no PIN, and nothing signs in its place (KEY-1).
func TestKEY1_PKCS11TokenGoneFailsCleanly(t *testing.T) {
	s, _, pin := activeToken(t)
	k := generate(t, s, "ca-gone", keys.ECDSAP256)
	if err := signVerify(k); err != nil {
		t.Fatalf("before: %v", err)
	}
	conf := os.Getenv("SOFTHSM2_CONF")
	tokens := filepath.Join(filepath.Dir(conf), "tokens")
	if err := os.RemoveAll(tokens); err != nil {
		t.Fatal(err)
	}
	err := signVerify(k)
	t.Logf("after removal: %v", err)
	if err == nil {
		t.Fatal("a key whose token is gone still signed")
	}
	if strings.Contains(err.Error(), pin) {
		t.Fatalf("the error shows the PIN: %v", err)
	}
}
