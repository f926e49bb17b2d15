package audit_test

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"testing"

	"github.com/sceau/sceau/internal/audit"
	"github.com/sceau/sceau/internal/sceau"
	"github.com/sceau/sceau/internal/store"
)

// newSigner returns a fresh ECDSA P-256 key, as the keystore generates
// for the audit signing key.
func newSigner(t testing.TB) crypto.Signer {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// checkpointer registers signer's key in db and returns a checkpointer
// signing with it.
func checkpointer(t testing.TB, db *store.DB, j *audit.Journal, signer crypto.Signer) *audit.Checkpointer {
	t.Helper()
	if _, _, err := audit.RegisterKey(context.Background(), db, j, sceau.System("test"), "audit-signing", signer.Public()); err != nil {
		t.Fatalf("RegisterKey: %v", err)
	}
	cp, err := audit.NewCheckpointer(db, signer, j)
	if err != nil {
		t.Fatal(err)
	}
	return cp
}
