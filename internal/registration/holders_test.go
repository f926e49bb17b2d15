package registration_test

import (
	"context"
	"testing"
	"time"

	"github.com/sceau/sceau/internal/ca"
	"github.com/sceau/sceau/internal/keys"
	"github.com/sceau/sceau/internal/registration"
	"github.com/sceau/sceau/internal/revocation"
	"github.com/sceau/sceau/internal/sceau"
	"github.com/sceau/sceau/internal/sceautest"
	"github.com/sceau/sceau/internal/store"
)

// TestINC2_HoldersOfTheRevokedCertificatesComeFromTheirDossiers: after a
// CA's certificates are revoked for a compromise, the holders to tell are
// the contacts of the dossiers of exactly those certificates; an earlier
// revocation, with another reason or in another second, is not this one's,
// and certificates issued without a dossier have no contact (both engines).
func TestINC2_HoldersOfTheRevokedCertificatesComeFromTheirDossiers(t *testing.T) {
	sceautest.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		ctx := context.Background()
		issue := func() string {
			t.Helper()
			iss, err := f.svc.Issue(ctx, ra2, f.validated().ID, registration.IssueRequest{CSR: f.csr("x")})
			if err != nil {
				t.Fatal(err)
			}
			return iss.Issued.Serial
		}
		early, later := issue(), issue()
		code := func(name string) int { c, _ := registrationReason(t, name); return c }
		// An earlier compromise-reason revocation of one certificate, a second before.
		if err := db.InTx(ctx, func(tx *store.Tx) error {
			_, err := f.h.Revocation.RevokeTx(ctx, tx, sceau.System("test"), early, code("keyCompromise"))
			return err
		}); err != nil {
			t.Fatal(err)
		}
		f.clock.Advance(2 * time.Second)
		if _, err := f.h.Authority.IssueCSR(ctx, sceau.System("test"), directRequest(f)); err != nil {
			t.Fatal(err)
		}
		var holders []registration.Holder
		if err := db.InTx(ctx, func(tx *store.Tx) error {
			n, err := f.h.Revocation.RevokeAll(ctx, tx, sceau.System("test"), "issuing", "cACompromise", "approval-1")
			if err != nil {
				return err
			}
			if n != 2 {
				t.Errorf("revoked %d, want the later dossier's and the direct one", n)
			}
			holders, err = registration.RevokedHolders(ctx, tx, "issuing", code("cACompromise"))
			return err
		}); err != nil {
			t.Fatal(err)
		}
		if len(holders) != 1 || holders[0].Serial != later || holders[0].Email != "marie@example.org" || holders[0].Name == "" {
			t.Fatalf("holders %+v, want the one of %s", holders, later)
		}
		// Any CA ("" as for a weak algorithm) finds the same; another CA none.
		if all, err := registration.RevokedHolders(ctx, db, "", code("cACompromise")); err != nil || len(all) != 1 {
			t.Fatalf("any CA: %+v, %v", all, err)
		}
		if none, err := registration.RevokedHolders(ctx, db, "root", code("cACompromise")); err != nil || len(none) != 0 {
			t.Fatalf("root: %+v, %v", none, err)
		}
	})
}

// directRequest is a certificate issued without a dossier (the admin API).
func directRequest(f *fixture) ca.Request {
	return ca.Request{CA: "issuing", Profile: "server", CSR: sceautest.CSR(f.t, sceautest.NewKey(f.t, keys.ECDSAP256), "www.example.org", "www.example.org")}
}

func registrationReason(t *testing.T, name string) (int, error) {
	t.Helper()
	c, err := revocation.ParseReason("test", name)
	if err != nil {
		t.Fatal(err)
	}
	return c, nil
}
