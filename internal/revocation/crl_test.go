package revocation_test

import (
	"bytes"
	"crypto"
	"crypto/x509"
	"math/big"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ocsp"

	"github.com/sceau/sceau/internal/ca"
	"github.com/sceau/sceau/internal/keys"
	"github.com/sceau/sceau/internal/revocation"
	"github.com/sceau/sceau/internal/sceau"
	"github.com/sceau/sceau/internal/sceautest"
	"github.com/sceau/sceau/internal/store"
)

// CA-3: CRL numbers only grow, and a revocation is on the next CRL with its
// reason and time.
func TestCA3_CRLNumberMonotonicAndListsRevoked(t *testing.T) {
	sceautest.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		a, b := f.issue(t), f.issue(t)
		latest, err := f.h.Revocation.Latest(t.Context(), "issuing", revocation.FullCRL)
		if err != nil {
			t.Fatalf("Latest: %v", err)
		}
		last := latest.Number
		revoked := map[string]int{}
		var revokedAt time.Time
		for round, rv := range []struct {
			serial string
			reason int
		}{{"", 0}, {a.Serial, 1}, {"", 0}, {b.Serial, 5}} {
			f.clock.Advance(time.Minute)
			if rv.serial != "" {
				revokedAt = f.clock.Now().UTC().Truncate(time.Second)
				if err := f.h.Revocation.Revoke(t.Context(), testActor, rv.serial, rv.reason); err != nil {
					t.Fatalf("Revoke: %v", err)
				}
				revoked[rv.serial] = rv.reason
			}
			crls, err := f.h.Revocation.IssueCRL(t.Context(), testActor, "issuing")
			if err != nil {
				t.Fatalf("IssueCRL: %v", err)
			}
			if len(crls) != 1 || crls[0].Shard != revocation.FullCRL {
				t.Fatalf("round %d: IssueCRL returned %d CRLs, want the full one", round, len(crls))
			}
			rl, err := x509.ParseRevocationList(crls[0].DER)
			if err != nil {
				t.Fatalf("ParseRevocationList: %v", err)
			}
			if err := rl.CheckSignatureFrom(f.issuing); err != nil {
				t.Errorf("round %d: the CRL does not verify: %v", round, err)
			}
			if n := rl.Number.Int64(); n <= last || n != crls[0].Number {
				t.Errorf("round %d: CRL number %d (recorded %d) after %d", round, n, crls[0].Number, last)
			}
			last = rl.Number.Int64()
			got := map[string]int{}
			for _, e := range rl.RevokedCertificateEntries {
				s := revocation.SerialHex(e.SerialNumber)
				got[s] = e.ReasonCode
				if s == rv.serial && !e.RevocationTime.Equal(revokedAt) {
					t.Errorf("round %d: %s revoked at %s on the CRL, want %s", round, s, e.RevocationTime, revokedAt)
				}
			}
			if len(got) != len(revoked) {
				t.Errorf("round %d: the CRL lists %d serials, want %d", round, len(got), len(revoked))
			}
			for s, reason := range revoked {
				if r, ok := got[s]; !ok || r != reason {
					t.Errorf("round %d: %s on the CRL: %v with reason %d, want reason %d", round, s, ok, r, reason)
				}
			}
			if l, err := f.h.Revocation.Latest(t.Context(), "issuing", revocation.FullCRL); err != nil || l.Number != last || !bytes.Equal(l.DER, crls[0].DER) {
				t.Errorf("round %d: Latest is not the CRL just issued (%v)", round, err)
			}
		}
	})
}

// CA-3: a sharded CA lists a revoked serial on the full CRL and on its
// partition only, all with the same number.
func TestCA3_ShardedCRLListsSerialInItsPartition(t *testing.T) {
	sceautest.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		specs := sceautest.Specs()
		specs[1].CRL.Shards = 3
		h := sceautest.NewHierarchy(t, db, sceautest.HierarchyOptions{Specs: specs})
		issuing, err := h.Authority.CA("issuing")
		if err != nil {
			t.Fatal(err)
		}
		var serials []*big.Int
		for i := range 6 {
			csr := sceautest.CSR(t, sceautest.NewKey(t, keys.ECDSAP256), "shard.example", "shard.example")
			iss, err := h.Authority.IssueCSR(t.Context(), testActor, ca.Request{CA: "issuing", Profile: "server", CSR: csr})
			if err != nil {
				t.Fatalf("IssueCSR: %v", err)
			}
			wantCDP := h.URLs.CRLShard("issuing", revocation.ShardOf(iss.Cert.SerialNumber, 3))
			if len(iss.Cert.CRLDistributionPoints) != 1 || iss.Cert.CRLDistributionPoints[0] != wantCDP {
				t.Errorf("certificate %d: CDP %v, want %s", i, iss.Cert.CRLDistributionPoints, wantCDP)
			}
			if err := h.Revocation.Revoke(t.Context(), testActor, iss.Serial, 1); err != nil {
				t.Fatal(err)
			}
			serials = append(serials, iss.Cert.SerialNumber)
		}
		crls, err := h.Revocation.IssueCRL(t.Context(), testActor, "issuing")
		if err != nil {
			t.Fatalf("IssueCRL: %v", err)
		}
		if len(crls) != 4 {
			t.Fatalf("IssueCRL returned %d CRLs, want full + 3 partitions", len(crls))
		}
		listed := map[int]map[string]bool{}
		for _, c := range crls {
			rl, err := x509.ParseRevocationList(c.DER)
			if err != nil {
				t.Fatalf("shard %d: %v", c.Shard, err)
			}
			if err := rl.CheckSignatureFrom(issuing.Cert); err != nil || rl.Number.Int64() != crls[0].Number {
				t.Errorf("shard %d: number %d, signature %v", c.Shard, rl.Number, err)
			}
			listed[c.Shard] = map[string]bool{}
			for _, e := range rl.RevokedCertificateEntries {
				listed[c.Shard][revocation.SerialHex(e.SerialNumber)] = true
			}
		}
		for _, n := range serials {
			s, k := revocation.SerialHex(n), revocation.ShardOf(n, 3)
			for shard := range listed {
				if want := shard == revocation.FullCRL || shard == k; listed[shard][s] != want {
					t.Errorf("serial %s (partition %d) on CRL %d: %v, want %v", s, k, shard, listed[shard][s], want)
				}
			}
		}
	})
}

// CA-3: Refresh re-signs the pre-signed responses nearing their nextUpdate,
// good and revoked alike, and the responder serves the new ones.
func TestCA3_RefreshResignsExpiringResponses(t *testing.T) {
	sceautest.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		good, revoked := f.issue(t), f.issue(t)
		if err := f.h.Revocation.Revoke(t.Context(), testActor, revoked.Serial, 4); err != nil {
			t.Fatal(err)
		}
		revokedAt := f.clock.Now().UTC().Truncate(time.Second)
		if n, err := f.h.Revocation.Refresh(t.Context(), 100); err != nil || n != 0 {
			t.Fatalf("Refresh of fresh responses: %d, %v; want 0", n, err)
		}
		stored := map[string]*revocation.Status{}
		for _, s := range []string{good.Serial, revoked.Serial} {
			st, err := f.h.Revocation.Lookup(t.Context(), db, s)
			if err != nil {
				t.Fatal(err)
			}
			stored[s] = st
		}
		// The default service signs for 4 days and refreshes 2 days ahead:
		// the two leaves and the issuing CA's certificate, which the root
		// answers for.
		f.clock.Advance(2*24*time.Hour + time.Hour)
		n, err := f.h.Revocation.Refresh(t.Context(), 100)
		if err != nil || n != 3 {
			t.Fatalf("Refresh after 2 days 1 hour: %d, %v; want 3", n, err)
		}
		for _, tc := range []struct {
			iss    *ca.Issued
			status int
		}{{good, ocsp.Good}, {revoked, ocsp.Revoked}} {
			st, err := f.h.Revocation.Lookup(t.Context(), db, tc.iss.Serial)
			if err != nil {
				t.Fatal(err)
			}
			old := stored[tc.iss.Serial]
			if bytes.Equal(st.Response, old.Response) || !st.ResponseNextUpdate.After(old.ResponseNextUpdate) {
				t.Errorf("%s: the response was not re-signed (next update %s, was %s)", tc.iss.Serial, st.ResponseNextUpdate, old.ResponseNextUpdate)
			}
			p := f.parse(t, st.Response)
			if p.Status != tc.status || !p.ThisUpdate.After(f.clock.Now().Add(-2*time.Minute)) || !p.NextUpdate.Equal(st.ResponseNextUpdate) ||
				!p.ThisUpdate.Equal(st.ResponseThisUpdate) {
				t.Errorf("%s: refreshed response status %d this %s next %s", tc.iss.Serial, p.Status, p.ThisUpdate, p.NextUpdate)
			}
			if tc.status == ocsp.Revoked && (!p.RevokedAt.Equal(revokedAt) || p.RevocationReason != 4) {
				t.Errorf("%s: refreshed revocation at %s reason %d, want %s reason 4", tc.iss.Serial, p.RevokedAt, p.RevocationReason, revokedAt)
			}
			resp, _ := f.ask(t, crypto.SHA1, tc.iss.Cert.SerialNumber, nil)
			if !bytes.Equal(resp, st.Response) {
				t.Errorf("%s: the responder does not serve the refreshed response", tc.iss.Serial)
			}
		}
		if n, err := f.h.Revocation.Refresh(t.Context(), 100); err != nil || n != 0 {
			t.Errorf("second Refresh: %d, %v; want 0", n, err)
		}
	})
}

// CA-3: CRLs issued at the same moment (two nodes on one PostgreSQL, or
// two goroutines) take distinct, consecutive numbers; none is refused.
func TestCA3_ConcurrentCRLsTakeDistinctNumbers(t *testing.T) {
	sceautest.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		first, err := f.h.Revocation.Latest(t.Context(), "issuing", revocation.FullCRL)
		if err != nil {
			t.Fatalf("Latest: %v", err)
		}
		const n = 6
		numbers := make(chan int64, n)
		errs := make(chan error, n)
		for range n {
			go func() {
				crls, err := f.h.Revocation.IssueCRL(t.Context(), testActor, "issuing")
				if err != nil {
					errs <- err
					return
				}
				numbers <- crls[0].Number
			}()
		}
		seen := map[int64]bool{}
		for range n {
			select {
			case err := <-errs:
				t.Errorf("IssueCRL: %v", err)
			case num := <-numbers:
				if seen[num] {
					t.Errorf("CRL number %d issued twice", num)
				}
				seen[num] = true
			}
		}
		for k := first.Number + 1; k <= first.Number+n; k++ {
			if !seen[k] && len(seen) == n {
				t.Errorf("numbers %v are not the %d after %d", seen, n, first.Number)
				break
			}
		}
	})
}

// CA-3: once a CA has published CRL partitions, another partition count is
// refused (at start and at the next CRL), since issued certificates name the
// old partitions; adding partitions to an unpartitioned CA is allowed.
func TestCA3_ChangedShardCountIsRefused(t *testing.T) {
	sceautest.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		iss, err := f.h.Revocation.Issuer("issuing")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.h.Revocation.IssueCRL(t.Context(), testActor, "issuing"); err != nil {
			t.Fatalf("IssueCRL: %v", err)
		}
		iss.CRL.Shards = 3 // none before: earlier certificates name the full CRL
		if err := f.h.Revocation.CheckShards(t.Context()); err != nil {
			t.Errorf("CheckShards from 0 to 3 partitions: %v", err)
		}
		if _, err := f.h.Revocation.IssueCRL(t.Context(), testActor, "issuing"); err != nil {
			t.Fatalf("IssueCRL with 3 partitions: %v", err)
		}
		before, err := f.h.Revocation.Latest(t.Context(), "issuing", revocation.FullCRL)
		if err != nil {
			t.Fatal(err)
		}
		for _, shards := range []int{0, 2, 4} {
			iss.CRL.Shards = shards
			err := f.h.Revocation.CheckShards(t.Context())
			if sceau.KindOf(err) != sceau.Invalid || !strings.Contains(err.Error(), "set it back to 3") {
				t.Errorf("CheckShards with %d partitions after 3: %v, want Invalid naming 3", shards, err)
			}
			if _, err := f.h.Revocation.IssueCRL(t.Context(), testActor, "issuing"); sceau.KindOf(err) != sceau.Invalid {
				t.Errorf("IssueCRL with %d partitions after 3: %v, want Invalid", shards, err)
			}
		}
		after, err := f.h.Revocation.Latest(t.Context(), "issuing", revocation.FullCRL)
		if err != nil || after.Number != before.Number {
			t.Errorf("a refused CRL changed the latest one: %d -> %d (%v)", before.Number, after.Number, err)
		}
		iss.CRL.Shards = 3
		if _, err := f.h.Revocation.IssueCRL(t.Context(), testActor, "issuing"); err != nil {
			t.Errorf("IssueCRL with the count restored: %v", err)
		}
	})
}
