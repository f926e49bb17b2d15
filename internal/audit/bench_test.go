package audit_test

import (
	"context"
	"crypto"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sceau/sceau/internal/audit"
	"github.com/sceau/sceau/internal/sceau"
	"github.com/sceau/sceau/internal/sceautest"
	"github.com/sceau/sceau/internal/store"
)

// The targets of the audit issue, in events per second on 2 cores.
const (
	appendTarget = 20_000
	verifyTarget = 500_000
)

type issuedDetails struct {
	CA      string `json:"ca"`
	Profile string `json:"profile"`
	SHA256  string `json:"sha256"`
}

// BenchmarkAppendGroupCommit appends one event per operation from many
// concurrent callers through the group committer on SQLite, durable
// (WAL, synchronous=FULL): each operation returns once its batch is
// committed, as an issuance step does.
func BenchmarkAppendGroupCommit(b *testing.B) {
	for _, callers := range []int{64, 256} {
		b.Run(fmt.Sprintf("callers=%d", callers), func(b *testing.B) {
			db := sceautest.OpenSQLite(b)
			j := audit.NewJournal(nil)
			g := store.NewGroupCommitter(db, 512, 0)
			defer g.Close()
			appendAll := func(ctx context.Context, tx *store.Tx, evs []audit.Event) error { return j.Append(ctx, tx, evs...) }
			actor := sceau.Actor{ID: "cert:operator", Role: "operator"}
			ctx := context.Background()
			var next atomic.Int64
			var failed atomic.Int64
			n := int64(b.N)
			b.ResetTimer()
			start := time.Now()
			var wg sync.WaitGroup
			for range callers {
				wg.Go(func() {
					for i := next.Add(1); i <= n; i = next.Add(1) {
						err := store.DoThen(g, ctx, "bench", func(ctx context.Context, tx *store.Tx) (audit.Event, error) {
							return audit.Event{Actor: actor, Action: audit.ActionCertificateIssued, Object: fmt.Sprintf("certificate:%016x", i),
								Details: issuedDetails{CA: "issuing", Profile: "server", SHA256: "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"}}, nil
						}, appendAll)
						if err != nil {
							failed.Add(1)
						}
					}
				})
			}
			wg.Wait()
			elapsed := time.Since(start)
			b.StopTimer()
			if failed.Load() > 0 {
				b.Fatalf("%d appends failed", failed.Load())
			}
			eps := float64(b.N) / elapsed.Seconds()
			b.ReportMetric(eps, "events/s")
			b.ReportMetric(eps/appendTarget, "x_target")
		})
	}
}

// BenchmarkVerify verifies a journal of 200,000 events with checkpoints
// every 1,000, streaming it from SQLite.
func BenchmarkVerify(b *testing.B) {
	const events = 200_000
	db := sceautest.OpenSQLite(b)
	j := audit.NewJournal(fixedClock(testTime))
	signer := newSigner(b)
	cp := checkpointer(b, db, j, signer)
	ctx := context.Background()
	actor := sceau.Actor{ID: "cert:operator", Role: "operator"}
	for start := 0; start < events; start += 1000 {
		evs := make([]audit.Event, 1000)
		for i := range evs {
			evs[i] = audit.Event{Actor: actor, Action: audit.ActionCertificateIssued, Object: fmt.Sprintf("certificate:%016x", start+i),
				Details: issuedDetails{CA: "issuing", Profile: "server", SHA256: "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"}}
		}
		if err := db.InTx(ctx, func(tx *store.Tx) error { return j.Append(ctx, tx, evs...) }); err != nil {
			b.Fatal(err)
		}
		if _, err := cp.Checkpoint(ctx, audit.KindPeriodic); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	var total int64
	for range b.N {
		res, err := audit.VerifyWith(ctx, db, audit.VerifyOptions{TrustedKeys: []crypto.PublicKey{signer.Public()}})
		if err != nil || !res.OK() {
			b.Fatalf("Verify = %+v, %v", res, err)
		}
		total += res.Events
	}
	eps := float64(total) / time.Since(start).Seconds()
	b.ReportMetric(eps, "events/s")
	b.ReportMetric(eps/verifyTarget, "x_target")
}

// BenchmarkHeadLockPostgres measures the journal's one global
// serialisation point on PostgreSQL (docs/scaling.md): concurrent
// transactions, as many nodes' would be, each append one event and commit
// on their own, without group commit. Every one holds the head row's lock
// from its SELECT … FOR UPDATE to its commit, so past a few callers the
// rate is the inverse of that critical section (reported as ms/commit).
func BenchmarkHeadLockPostgres(b *testing.B) {
	for _, callers := range []int{1, 4, 16} {
		b.Run(fmt.Sprintf("callers=%d", callers), func(b *testing.B) {
			db := sceautest.OpenPostgres(b)
			j := audit.NewJournal(nil)
			actor := sceau.Actor{ID: "cert:operator", Role: "operator"}
			ctx := context.Background()
			var next, failed atomic.Int64
			n := int64(b.N)
			b.ResetTimer()
			start := time.Now()
			var wg sync.WaitGroup
			for range callers {
				wg.Go(func() {
					for i := next.Add(1); i <= n; i = next.Add(1) {
						err := db.InTx(ctx, func(tx *store.Tx) error {
							return j.Append(ctx, tx, audit.Event{Actor: actor, Action: audit.ActionCertificateIssued, Object: fmt.Sprintf("certificate:%016x", i)})
						})
						if err != nil {
							failed.Add(1)
						}
					}
				})
			}
			wg.Wait()
			elapsed := time.Since(start)
			b.StopTimer()
			if failed.Load() > 0 {
				b.Fatalf("%d appends failed", failed.Load())
			}
			b.ReportMetric(float64(b.N)/elapsed.Seconds(), "commits/s")
			b.ReportMetric(elapsed.Seconds()*1000/float64(b.N), "ms/commit")
		})
	}
}
