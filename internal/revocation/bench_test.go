package revocation_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/binary"
	"fmt"
	"math/big"
	mrand "math/rand/v2"
	"runtime"
	"runtime/metrics"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/sceau/sceau/internal/revocation"
	"github.com/sceau/sceau/internal/sceau"
	"github.com/sceau/sceau/internal/sceautest"
	"github.com/sceau/sceau/internal/store"
)

// millionEntries is the size of the CRL benchmarks.
const millionEntries = 1_000_000

// millionCRL holds the revoked entries of the CRL benchmarks, made once:
// the same serials, dates and reasons go into the database of
// BenchmarkCRLMillionEntries and, already in memory, into
// BenchmarkCRLMillionEntriesBare.
var millionCRL = sync.OnceValue(func() []x509.RevocationListEntry {
	rng := mrand.New(mrand.NewPCG(1, 2))
	serials := make([][16]byte, millionEntries)
	for i := range serials {
		b := &serials[i]
		binary.BigEndian.PutUint64(b[:8], rng.Uint64())
		binary.BigEndian.PutUint64(b[8:], rng.Uint64())
		b[0] = b[0]&0x7f | 0x40 // as ca.randomSerial: 16 octets, positive
	}
	// Revocation dates follow the serials' order, so that the setup
	// appends to every index of the table instead of writing all over
	// them: a million rows go in seconds rather than a minute.
	slices.SortFunc(serials, func(a, b [16]byte) int { return bytes.Compare(a[:], b[:]) })
	reasons := []int{0, 1, 3, 4, 5, 9}
	t0 := time.Now().UTC().Truncate(time.Second).Add(-2 * millionEntries * time.Second)
	out := make([]x509.RevocationListEntry, millionEntries)
	for i := range out {
		out[i] = x509.RevocationListEntry{SerialNumber: new(big.Int).SetBytes(serials[i][:]),
			RevocationTime: t0.Add(time.Duration(i) * time.Second), ReasonCode: reasons[i%len(reasons)]}
	}
	return out
})

// skipUnlessLong keeps the million-entry benchmarks out of -short runs:
// their setup writes a million rows.
func skipUnlessLong(b *testing.B) {
	if testing.Short() {
		b.Skip("a million revoked certificates: not in -short runs")
	}
}

// insertRevoked writes the entries as revoked certificates of caID in one
// transaction, with one prepared multi-row INSERT under SQLite's variable
// limit.
func insertRevoked(b *testing.B, db *store.DB, caID string, entries []x509.RevocationListEntry) {
	b.Helper()
	const rows = 8000 // 3 variables each: 24000 < 32766
	ctx := context.Background()
	now := store.FormatTime(time.Now())
	row := fmt.Sprintf(`(?, '%s', 'server', 'CN=bench', 'issued', X'00', '%s', '%s', '%s', '%s', ?, ?)`, caID, now, now, now, now)
	insert := func(n int) string {
		return `INSERT INTO certificates (serial, ca_id, profile, subject, status, tbs_der, not_before, not_after,
			reserved_at, issued_at, revoked_at, revocation_reason) VALUES ` + strings.Repeat(row+",", n-1) + row
	}
	tx, err := db.SQL().BeginTx(ctx, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer tx.Rollback()
	full, err := tx.PrepareContext(ctx, insert(rows))
	if err != nil {
		b.Fatal(err)
	}
	defer full.Close()
	args := make([]any, 0, 3*rows)
	for start := 0; start < len(entries); start += rows {
		end := min(start+rows, len(entries))
		args = args[:0]
		for i := start; i < end; i++ {
			e := &entries[i]
			args = append(args, revocation.SerialHex(e.SerialNumber), store.FormatTime(e.RevocationTime), e.ReasonCode)
		}
		if end-start == rows {
			_, err = full.ExecContext(ctx, args...)
		} else {
			_, err = tx.ExecContext(ctx, insert(end-start), args...)
		}
		if err != nil {
			b.Fatalf("insert revoked: %v", err)
		}
	}
	if err := tx.Commit(); err != nil {
		b.Fatal(err)
	}
}

// heapPeak samples the live heap while a benchmark runs (runtime/metrics
// does not stop the world) and reports its peak above the heap before.
type heapPeak struct {
	base uint64
	peak uint64
	stop chan struct{}
	done chan struct{}
}

const heapMetric = "/memory/classes/heap/objects:bytes"

func readHeap() uint64 {
	s := []metrics.Sample{{Name: heapMetric}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

func startHeapPeak() *heapPeak {
	runtime.GC()
	h := &heapPeak{base: readHeap(), stop: make(chan struct{}), done: make(chan struct{})}
	h.peak = h.base
	go func() {
		defer close(h.done)
		t := time.NewTicker(2 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-h.stop:
				return
			case <-t.C:
				h.peak = max(h.peak, readHeap())
			}
		}
	}()
	return h
}

func (h *heapPeak) report(b *testing.B) {
	close(h.stop)
	<-h.done
	h.peak = max(h.peak, readHeap())
	b.ReportMetric(float64(h.peak-h.base)/(1<<20), "peak-heap-MB")
}

// processCPU is the CPU time of the process so far (all threads): on a
// machine shared with other work it moves less than the elapsed time.
func processCPU(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// measure resets the timer and starts the heap and CPU measurements; the
// function it returns stops them and reports.
func measure(b *testing.B) (stop func()) {
	b.ReportAllocs()
	peak := startHeapPeak()
	b.ResetTimer()
	cpu := processCPU(b)
	return func() {
		used := processCPU(b) - cpu
		b.StopTimer()
		peak.report(b)
		b.ReportMetric(used.Seconds()/float64(b.N), "cpu-s/op")
	}
}

// BenchmarkCRLMillionEntries issues one CRL of a million revoked
// certificates through the Service: the query, the entries, the CRL
// number reserved with its audit event, the signature, the stored CRL
// with its audit event. Compare with BenchmarkCRLMillionEntriesBare.
func BenchmarkCRLMillionEntries(b *testing.B) {
	skipUnlessLong(b)
	entries := millionCRL()
	h := sceautest.NewHierarchy(b, sceautest.OpenSQLite(b), sceautest.HierarchyOptions{})
	start := time.Now()
	insertRevoked(b, h.DB, "issuing", entries)
	b.Logf("setup: %d revoked certificates inserted in %s", len(entries), time.Since(start).Round(time.Millisecond))
	ctx := context.Background()
	b.Run("sqlite", func(b *testing.B) {
		stop := measure(b)
		for b.Loop() {
			crls, err := h.Revocation.IssueCRL(ctx, sceau.System("bench"), "issuing")
			if err != nil {
				b.Fatal(err)
			}
			if crls[0].Entries != len(entries) {
				b.Fatalf("the CRL has %d entries, want %d", crls[0].Entries, len(entries))
			}
		}
		stop()
	})
}

// BenchmarkCRLMillionEntriesBare is the floor: x509.CreateRevocationList
// alone, over the same million entries already in memory, with a P-256
// issuer as the test hierarchy's issuing CA.
func BenchmarkCRLMillionEntriesBare(b *testing.B) {
	skipUnlessLong(b)
	entries := millionCRL()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		b.Fatal(err)
	}
	now := time.Now().UTC().Truncate(time.Second)
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "Bench Issuing CA"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(5 * 365 * 24 * time.Hour), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign, SubjectKeyId: make([]byte, 20)}
	der, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, key.Public(), key)
	if err != nil {
		b.Fatal(err)
	}
	issuer, err := x509.ParseCertificate(der)
	if err != nil {
		b.Fatal(err)
	}
	stop := measure(b)
	n := int64(0)
	for b.Loop() {
		n++
		if _, err := x509.CreateRevocationList(rand.Reader, &x509.RevocationList{Number: big.NewInt(n), ThisUpdate: now,
			NextUpdate: now.Add(24 * time.Hour), RevokedCertificateEntries: entries}, issuer, key); err != nil {
			b.Fatal(err)
		}
	}
	stop()
}
