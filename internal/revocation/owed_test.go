package revocation_test

import (
	"crypto/x509"
	"math/big"
	"testing"
	"time"

	"github.com/sceau/sceau/internal/revocation"
	"github.com/sceau/sceau/internal/sceautest"
	"github.com/sceau/sceau/internal/store"
)

// TestCA3_RevocationAcknowledgedBeforeACrashReachesTheCRLAtTheNextPass is
// issue 11's first defect: a revocation is acknowledged, the process dies
// before the CRL it triggers is issued (the kick lives in memory only: here
// nothing kicks), and the CRL is still fresh. The first scheduler pass of
// the restarted process — at start — must issue a CRL that lists the
// serial, not wait for crl.refresh (12 h). A pass with nothing owed issues
// nothing.
func TestCA3_RevocationAcknowledgedBeforeACrashReachesTheCRLAtTheNextPass(t *testing.T) {
	sceautest.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		ctx := t.Context()
		rev := f.h.Revocation
		logf := func(msg string, args ...any) { t.Errorf("scheduler: %s %v", msg, args) }
		number := func() int64 {
			t.Helper()
			c, err := rev.Latest(ctx, "issuing", revocation.FullCRL)
			if err != nil {
				t.Fatal(err)
			}
			return c.Number
		}

		f.clock.Advance(2 * time.Second)
		rev.SchedulerPass(ctx, logf)
		before := number()

		iss := f.issue(t)
		f.clock.Advance(2 * time.Second)
		if err := rev.Revoke(ctx, testActor, iss.Serial, 1); err != nil {
			t.Fatal(err)
		}
		// The crash: no CRL was issued for the revocation.
		if number() != before {
			t.Fatal("the fixture kicked a CRL after the revocation; the test needs none")
		}
		f.clock.Advance(30 * time.Second) // well within crl.refresh
		rev.SchedulerPass(ctx, logf)
		if got := number(); got != before+1 {
			t.Fatalf("after the revocation the next pass left CRL number %d (was %d): the revocation is owed now", got, before)
		}
		c, err := rev.Latest(ctx, "issuing", revocation.FullCRL)
		if err != nil {
			t.Fatal(err)
		}
		crl, err := x509.ParseRevocationList(c.DER)
		if err != nil {
			t.Fatal(err)
		}
		want, _ := new(big.Int).SetString(iss.Serial, 16)
		found := false
		for _, e := range crl.RevokedCertificateEntries {
			found = found || e.SerialNumber.Cmp(want) == 0
		}
		if !found {
			t.Fatalf("the CRL issued by the pass does not list the revoked serial %s", iss.Serial)
		}

		// Nothing revoked since: the next pass issues nothing.
		f.clock.Advance(time.Minute)
		rev.SchedulerPass(ctx, logf)
		if got := number(); got != before+1 {
			t.Fatalf("a pass with nothing owed issued CRL %d", got)
		}
	})
}
