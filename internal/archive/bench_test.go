package archive_test

import (
	"context"
	"crypto/sha256"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/sceau/sceau/internal/archive"
	"github.com/sceau/sceau/internal/sceautest"
)

// smallItems are CRL-sized items, 1–50 KB, as the issue's ingest figure
// asks.
func smallItems(n int, seed uint64) ([]archive.New, int64) {
	r := rand.New(rand.NewPCG(seed, 1))
	out := make([]archive.New, n)
	var total int64
	for i := range out {
		b := make([]byte, 1024+r.IntN(49*1024))
		for j := range b {
			b[j] = byte(r.Uint32())
		}
		total += int64(len(b))
		out[i] = archive.New{Kind: archive.KindCRL, Source: "crl:bench", MediaType: "application/pkix-crl", Class: archive.Public, Content: b}
	}
	return out, total
}

// BenchmarkARC1_IngestSmallItems archives CRL-sized items on SQLite with
// synchronous=FULL, 100 per transaction (ARC-1: ≥ 5,000 items/s wanted).
func BenchmarkARC1_IngestSmallItems(b *testing.B) {
	db := sceautest.OpenSQLite(b)
	s, _ := newService(b, db, archive.Options{})
	items, _ := smallItems(1000, 7)
	ctx := context.Background()
	const batch = 100
	b.ResetTimer()
	start := time.Now()
	n := 0
	for i := 0; b.Loop(); i++ {
		k := (i * batch) % len(items)
		if _, err := s.Add(ctx, actor, items[k:k+batch]...); err != nil {
			b.Fatal(err)
		}
		n += batch
	}
	b.ReportMetric(float64(n)/time.Since(start).Seconds(), "items/s")
	b.ReportMetric(float64(n)/time.Since(start).Seconds()/5000, "ratio_to_5000/s")
}

// BenchmarkARC6_VerifyAgainstRawSHA256 verifies an archive of 2,000 small
// items (about 50 MB) and hashes the same bytes with SHA-256 alone, in the
// same run (ARC-6: verify at ≥ 50% of raw SHA-256 speed wanted).
func BenchmarkARC6_VerifyAgainstRawSHA256(b *testing.B) {
	db := sceautest.OpenSQLite(b)
	s, _ := newService(b, db, archive.Options{})
	items, total := smallItems(2000, 9)
	ctx := context.Background()
	for i := 0; i < len(items); i += 200 {
		if _, err := s.Add(ctx, actor, items[i:i+200]...); err != nil {
			b.Fatal(err)
		}
	}
	if _, err := s.IssueHead(ctx, actor); err != nil {
		b.Fatal(err)
	}
	// A ten-year archive lives in the database file, not in the WAL that
	// the inserts above just wrote (SQLite checkpoints it as it goes).
	if _, err := db.ExecContext(ctx, "PRAGMA wal_checkpoint(TRUNCATE)"); err != nil {
		b.Fatal(err)
	}
	var verify, raw time.Duration
	for b.Loop() {
		t0 := time.Now()
		rep, err := s.VerifyAll(ctx, archive.VerifyOptions{})
		if err != nil || !rep.OK() {
			b.Fatalf("%+v %v", rep, err)
		}
		verify += time.Since(t0)
		t0 = time.Now()
		for _, it := range items {
			sha256.Sum256(it.Content)
		}
		raw += time.Since(t0)
	}
	mb := float64(total) / 1e6 * float64(b.N)
	b.ReportMetric(mb/verify.Seconds(), "verify_MB/s")
	b.ReportMetric(mb/raw.Seconds(), "sha256_MB/s")
	b.ReportMetric(raw.Seconds()/verify.Seconds(), "ratio_to_sha256")
}

// BenchmarkARC6_Retrieval gets random items of an archive of 10,000 with
// every check (ARC-6: p99 ≤ 20 ms wanted).
func BenchmarkARC6_Retrieval(b *testing.B) {
	db := sceautest.OpenSQLite(b)
	s, _ := newService(b, db, archive.Options{})
	items, _ := smallItems(500, 11)
	ctx := context.Background()
	for i := 0; i < 20; i++ {
		if _, err := s.Add(ctx, actor, items...); err != nil {
			b.Fatal(err)
		}
	}
	if _, err := s.IssueHead(ctx, actor); err != nil {
		b.Fatal(err)
	}
	r := rand.New(rand.NewPCG(3, 4))
	var lat []time.Duration
	for b.Loop() {
		t0 := time.Now()
		if _, err := s.Get(ctx, actor, int64(r.IntN(10_000)), archive.GetOptions{}); err != nil {
			b.Fatal(err)
		}
		lat = append(lat, time.Since(t0))
	}
	slices.Sort(lat)
	p99 := lat[len(lat)*99/100]
	b.ReportMetric(float64(p99.Microseconds())/1000, "p99_ms")
	b.ReportMetric(float64(p99.Microseconds())/1000/20, "ratio_to_20ms")
}
